"""The functions executors run in their workers; this module imports nothing heavy, so a worker starts fast.

A spawned worker imports the module of every function it is sent. The study's objective wrapper lives
here rather than in :mod:`bayeskit.optimize.study` (which imports pandas and SciPy), so a worker pays
only for what the user's objective itself imports.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["evaluate_trial"]


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
