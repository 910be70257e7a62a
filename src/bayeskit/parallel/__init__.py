"""Past one process: executors for independent work (local processes, Ray) and device sharding.

:func:`get_executor` turns ``"serial"``, ``"process"`` or ``"ray"`` into an
:class:`Executor`; :class:`bayeskit.optimize.Study`, :func:`bayeskit.infer.sbc` and the
ensembles take one through their ``executor=`` argument.
"""

from bayeskit.parallel.executors import (
    EXECUTORS,
    Executor,
    ExecutorError,
    ProcessExecutor,
    RayExecutor,
    SerialExecutor,
    check_loadable,
    get_executor,
    stop_all,
)
from bayeskit.parallel.fanout import fan_out

__all__ = [
    "EXECUTORS",
    "Executor",
    "ExecutorError",
    "ProcessExecutor",
    "RayExecutor",
    "SerialExecutor",
    "check_loadable",
    "fan_out",
    "get_executor",
    "stop_all",
]
