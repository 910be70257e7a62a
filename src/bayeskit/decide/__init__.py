"""Decisions from posteriors: Bayesian A/B/n testing (exact), bandits, streaming updates and active learning.

The submodules load on first use: an A/B test (NumPy and SciPy) does not import JAX, which the
bandits and active learning need.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "compare_two": "_quadrature",
    "two_arm": "_quadrature",
    "expected_max": "_quadrature",
    "prob_best": "_quadrature",
    "prob_greater": "_quadrature",
    "DECISIONS": "ab",
    "PRIORS": "ab",
    "ABTestResult": "ab",
    "ArmResult": "ab",
    "SensitivityRow": "ab",
    "ab_test_binary": "ab",
    "ab_test_continuous": "ab",
    "ab_test_count": "ab",
    "STRATEGIES": "active",
    "ActiveLearningResult": "active",
    "acquisition_scores": "active",
    "compare_strategies": "active",
    "POLICIES": "bandits",
    "REWARDS": "bandits",
    "BanditProblem": "bandits",
    "BanditSimulation": "bandits",
    "simulate": "bandits",
    "update_stream": "stream",
    "ab_test_table": "table",
    "analyze_statistics": "table",
    "sufficient_statistics": "table",
    "SampleRatio": "srm",
    "sample_ratio": "srm",
    "Settledness": "settle",
    "decision_stability": "settle",
}

__all__ = sorted(_WHERE)


_SUBMODULES = frozenset({"ab", "active", "bandits", "settle", "srm", "stream", "table", "_marginal", "_quadrature"})


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"bayeskit.decide.{name}")
    if name not in _WHERE:
        raise AttributeError(f"module 'bayeskit.decide' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"bayeskit.decide.{_WHERE[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
