"""Where independent pieces of work run: this process, local worker processes, or Ray tasks on a cluster.

Every executor has one shape, ``submit(fn, *args) -> concurrent.futures.Future`` and
``shutdown(cancel=False)``, so a driver loop (a study's trials, SBC replicates, ensemble
members) is written once over :func:`concurrent.futures.wait`.

- :class:`SerialExecutor` runs each call at submission, in this process.
- :class:`ProcessExecutor` is the standard library's ``ProcessPoolExecutor`` with
  ``spawn`` workers (a fork of a process running JAX's threads is unsafe). When a worker
  dies (SIGKILL, out of memory) the pool breaks; its futures fail with
  ``BrokenProcessPool`` and the next ``submit`` starts a fresh pool, so a driver that
  resubmits lost work goes on.
- :class:`RayExecutor` submits Ray tasks (``ObjectRef.future()``), on a local Ray
  instance or the cluster at ``address``. An address is checked with a plain TCP
  connection first: Ray itself waits for minutes on an unreachable one.

Workers share the driver's JAX settings (:func:`jax_settings`): 64-bit floats when the driver
turned them on, and the persistent compilation cache, so that they compute what the driver would
and reuse compiled programs (a Ray cluster started elsewhere keeps its own settings).

Functions and arguments travel by pickle: a function must be importable by the workers
(defined at module level in an installed module or one on the driver's ``sys.path``).
:func:`check_loadable` sends the function to one worker before any work starts, so that
a worker which cannot import it is an error up front, not a failed run.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "EXECUTORS",
    "Executor",
    "ExecutorError",
    "ProcessExecutor",
    "RayExecutor",
    "SerialExecutor",
    "check_loadable",
    "get_executor",
    "stop_all",
]

EXECUTORS = ("serial", "process", "ray")

_LIVE: weakref.WeakSet = weakref.WeakSet()  # executors with workers that may be running


def stop_all() -> None:
    """Stop the workers of every live executor now (the CLI calls this on Ctrl-C, before it exits)."""
    for executor in list(_LIVE):
        with contextlib.suppress(Exception):
            executor.shutdown(cancel=True)


class ExecutorError(RuntimeError):
    """The executor cannot start, or its workers cannot load the work."""


@runtime_checkable
class Executor(Protocol):
    """Runs functions somewhere and hands back futures; ``workers`` is how many run at once."""

    workers: int

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        """Start ``fn(*args)``; its future holds the result or the exception."""
        ...

    def shutdown(self, cancel: bool = False) -> None:
        """Release the workers; ``cancel=True`` drops queued work and stops running work."""
        ...


class SerialExecutor:
    """Runs each call when it is submitted, in this process (the reference every other executor must match)."""

    workers = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        """Run ``fn(*args)`` now; the future is already done."""
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as error:
            future.set_exception(error)
        return future

    def shutdown(self, cancel: bool = False) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """``workers`` spawned local processes (default: the CPU count); a pool broken by a dead worker is replaced."""

    def __init__(self, workers: int | None = None):
        self.workers = _check_workers(workers if workers is not None else os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        self.restarts = 0  # pools replaced after a worker died

    def _new_pool(self) -> ProcessPoolExecutor:
        import multiprocessing

        _LIVE.add(self)
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), jax_settings()),
        )

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        """Queue ``fn(*args)`` on a worker; a broken pool (a worker died) is replaced first."""
        from concurrent.futures.process import BrokenProcessPool

        if self._pool is None:
            self._pool = self._new_pool()
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool, self.restarts = self._new_pool(), self.restarts + 1
            return self._pool.submit(fn, *args)

    def shutdown(self, cancel: bool = False) -> None:
        """Wait for running work (or, with ``cancel``, terminate the workers) and release the pool."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if not cancel:
            pool.shutdown(wait=True)
            return
        terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
        if terminate is not None:
            terminate()
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())  # before 3.14: the pool's own table
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)


_JAX_SETTINGS = (
    "jax_enable_x64",
    "jax_compilation_cache_dir",
    "jax_persistent_cache_min_compile_time_secs",
    "jax_persistent_cache_min_entry_size_bytes",
)


def jax_settings() -> dict[str, Any]:
    """The driver's JAX settings that workers must share: 64-bit floats, and the persistent compilation cache.

    With them a worker computes what the driver would (the same precision) and reuses the programs the
    driver, or an earlier worker, compiled. Empty when this process has not imported JAX.
    """
    jax = sys.modules.get("jax")
    if jax is None:
        return {}
    settings = {name: getattr(jax.config, name) for name in _JAX_SETTINGS}
    return {name: value for name, value in settings.items() if value not in (None, "")}


def apply_jax_settings(settings: dict[str, Any]) -> None:
    """In a worker: the driver's JAX settings, as environment variables and, when JAX is imported, its config.

    The environment reaches JAX when it is first imported; a worker that imported it already (a script's
    imports, run again as the workers' main module) gets them through ``jax.config``.
    """
    for name, value in settings.items():
        os.environ[name.upper()] = str(value)
    jax = sys.modules.get("jax")
    if jax is not None:
        for name, value in settings.items():
            jax.config.update(name, value)


def _start_worker(parent: int, settings: dict[str, Any]) -> None:
    """Worker initializer: the driver's JAX settings, and an exit when the driver is gone."""
    apply_jax_settings(settings)
    _exit_with_parent(parent)


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    """End this worker when the driver is gone (killed with SIGKILL, no cleanup ran): a watchdog thread."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="bayeskit-parent-watch", daemon=True).start()


class RayExecutor:
    """Ray tasks, on the cluster at ``address`` or a local Ray instance (``address=None``).

    Parameters
    ----------
    address
        ``"host:port"`` or ``"ray://host:port"`` of a running cluster, ``"auto"`` for the one
        this machine belongs to, or None to start a local instance (shut down with the executor).
    workers
        Tasks in flight at once (default: the cluster's CPUs).
    num_cpus
        CPUs of a local instance (default: all).
    """

    def __init__(self, address: str | None = None, workers: int | None = None, num_cpus: int | None = None):
        ray = _import_ray()
        if address not in (None, "auto", "local"):
            _check_reachable(address)
        self._owns = not ray.is_initialized()
        if self._owns:
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address in (None, "local"):
                options["num_cpus"] = num_cpus
                # workers import the driver's modules (an objective in a local file) from the same path
                variables = {name.upper(): str(value) for name, value in jax_settings().items()}
                variables["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
                options["runtime_env"] = {"env_vars": variables}
            try:
                ray.init(address=None if address == "local" else address, **options)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise ExecutorError(
                    f"cannot connect to the Ray cluster at {address!r}: {error}. Start one with `ray start --head` "
                    "and pass the address it prints, or omit the address to run on a local Ray instance."
                ) from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = _check_workers(workers if workers is not None else max(cpus, 1))
        self._remote = ray.remote(max_retries=0)(_call)  # a lost task is resubmitted by the driver, once counted
        self._refs: list[tuple[Any, Future]] = []  # the tasks in flight, to cancel
        _LIVE.add(self)

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        """Submit ``fn(*args)`` as a Ray task."""
        reference = self._remote.remote(fn, *args)
        future = reference.future()
        self._refs = [(ref, fut) for ref, fut in self._refs if not fut.done()] + [(reference, future)]
        return future

    def shutdown(self, cancel: bool = False) -> None:
        """Cancel running tasks (with ``cancel``) and shut down a local instance this executor started."""
        ray = _import_ray()
        if cancel:
            for reference, future in self._refs:
                if not future.done():
                    ray.cancel(reference, force=True)
        self._refs = []
        if self._owns and ray.is_initialized():
            ray.shutdown()


def worker_lost(error: BaseException) -> bool:
    """Whether a future's exception means its worker died (retry the work), not that the work failed."""
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(error, BrokenProcessPool):
        return True
    ray = sys.modules.get("ray")
    names = ("WorkerCrashedError", "NodeDiedError", "ObjectLostError", "OwnerDiedError", "LocalRayletDiedError")
    lost = tuple(getattr(ray.exceptions, name) for name in names if hasattr(ray.exceptions, name)) if ray else ()
    return bool(lost) and isinstance(error, lost)


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` inside a Ray task."""
    return fn(*args)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorError(
            "executor='ray' needs Ray, which is not installed; install it with `pip install 'bayeskit[ray]'`, "
            "or use executor='process' for workers on this machine."
        ) from None
    return ray


def _check_workers(workers: Any) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"`workers` must be an int >= 1; got {workers!r}.")
    return workers


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A TCP connection to ``host:port`` (Ray's own connect retries for minutes before it gives up)."""
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ExecutorError(
            f"the Ray address must look like HOST:PORT or ray://HOST:PORT (e.g. 10.0.0.5:6379); got {address!r}."
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise ExecutorError(
            f"no Ray cluster answers at {address!r} ({error}). Check the address `ray start --head` printed "
            "(and that its port is open), or omit it to run on a local Ray instance."
        ) from None


def get_executor(
    executor: str | Executor | None = None, workers: int | None = None, address: str | None = None
) -> Executor:
    """An :class:`Executor` from a name (``"serial"``, ``"process"``, ``"ray"``) or the executor itself.

    ``None`` means ``"serial"`` when ``workers`` is None or 1, else ``"process"``; an
    ``address`` implies ``"ray"``.

    Examples
    --------
    >>> from bayeskit.parallel import get_executor
    >>> executor = get_executor("serial")
    >>> executor.submit(pow, 2, 10).result()
    1024
    """
    if isinstance(executor, Executor):
        return executor
    if executor is None:
        executor = "ray" if address is not None else ("serial" if workers in (None, 1) else "process")
    if executor not in EXECUTORS:
        raise ValueError(
            f"`executor` must be one of {EXECUTORS} or an Executor (submit/shutdown/workers); got {executor!r}."
        )
    if address is not None and executor != "ray":
        raise ValueError(f"a Ray `address` needs executor='ray'; got executor={executor!r}.")
    if executor == "serial":
        if workers not in (None, 1):
            raise ValueError(f"executor='serial' runs one call at a time; got workers={workers!r}. Use 'process'.")
        return SerialExecutor()
    if executor == "process":
        return ProcessExecutor(workers)
    return RayExecutor(address, workers)


def check_loadable(executor: Executor, fn: Callable[..., Any], label: str = "the function") -> None:
    """Raise :class:`ExecutorError` unless ``fn`` reaches a worker and loads there (one round trip).

    Local workers receive functions by plain pickle (by reference: a top-level ``def`` in an
    importable module); Ray's serializer also sends functions by value (a lambda, a function
    defined in the driver's script), so only the round trip decides.
    """
    if isinstance(executor, SerialExecutor):
        return
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
    call: tuple[Callable[..., Any], Any] = (_received, fn)
    if not isinstance(executor, RayExecutor):
        try:  # unpickled inside the task, so that an import error comes back as itself, not a broken pool
            call = (_load, pickle.dumps(fn))
        except (pickle.PicklingError, AttributeError, TypeError) as error:
            raise ExecutorError(
                f"{label} ({name}) cannot be sent to worker processes: {error}. Define it with `def` at the top "
                "level of a module (not a lambda or a nested function)."
            ) from None
    try:
        executor.submit(*call).result()
    except Exception as error:
        if worker_lost(error):
            raise ExecutorError(
                f"a worker died while loading {label} ({name}): {type(error).__name__}. Workers import the "
                "driver's script again; if the driver is a script, put its top-level code under "
                '`if __name__ == "__main__":` so that a worker does not run it too.'
            ) from None
        raise ExecutorError(
            f"the workers cannot load {label} ({name}): {type(error).__name__}: {error}. Put its module where "
            "the workers can import it (installed, or on the driver's sys.path for local workers)."
        ) from None


def _received(fn: Callable[..., Any]) -> bool:
    """Runs in a Ray worker: ``fn`` arrived (its module imported, or it came by value)."""
    return callable(fn)


def _load(payload: bytes) -> bool:
    """Runs in a local worker: unpickle a function (imports its module)."""
    return callable(pickle.loads(payload))
