"""The functions executors run in their workers; this module imports nothing heavy, so a worker starts fast.

A spawned worker imports the module of every function it is sent. The study's objective wrapper lives
here rather than in :mod:`bayeskit.optimize.study` (which imports pandas and SciPy), so a worker pays
only for what the user's objective itself imports.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["evaluate_trial", "guarded_call"]


def evaluate_trial(objective: Callable[[dict[str, Any]], Any], params: dict[str, Any]) -> tuple[float, str | None]:
    """``(value, error)`` of one trial (run where the executor puts it); the objective's exception is data."""
    try:
        value = objective(params)
    except Exception as error:
        return math.nan, f"{type(error).__name__}: {error}"
    try:
        return float(value), None
    except (TypeError, ValueError):
        return math.nan, f"the objective returned {value!r}, not a number"


def guarded_call(fn: Callable[[Any], Any], item: Any) -> tuple[bool, Any]:
    """``(True, fn(item))``, or ``(False, the exception)``: an error of ``fn`` comes back as data, not as a lost worker.

    An exception that cannot be pickled comes back as a ``RuntimeError`` carrying its traceback text.
    """
    try:
        return True, fn(item)
    except Exception as error:
        import pickle
        import traceback

        try:
            pickle.loads(pickle.dumps(error))
        except Exception:
            text = "".join(traceback.format_exception(error))
            return False, RuntimeError(f"{type(error).__name__}: {error} (not picklable; its traceback:\n{text})")
        return False, error
