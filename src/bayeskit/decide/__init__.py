"""Decisions from posteriors: Bayesian A/B/n testing (exact), with more to come (bandits, active learning)."""

from bayeskit.decide._quadrature import compare_two, expected_max, prob_best, prob_greater
from bayeskit.decide.ab import (
    DECISIONS,
    PRIORS,
    ABTestResult,
    ArmResult,
    SensitivityRow,
    ab_test_binary,
    ab_test_continuous,
    ab_test_count,
)

__all__ = [
    "DECISIONS",
    "PRIORS",
    "ABTestResult",
    "ArmResult",
    "SensitivityRow",
    "ab_test_binary",
    "ab_test_continuous",
    "ab_test_count",
    "compare_two",
    "expected_max",
    "prob_best",
    "prob_greater",
]
