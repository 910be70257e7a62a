"""Decisions from posteriors: Bayesian A/B/n testing (exact), bandits, streaming updates and active learning."""

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
from bayeskit.decide.active import STRATEGIES, ActiveLearningResult, acquisition_scores, compare_strategies
from bayeskit.decide.bandits import POLICIES, REWARDS, BanditProblem, BanditSimulation, simulate
from bayeskit.decide.stream import update_stream

__all__ = [
    "DECISIONS",
    "STRATEGIES",
    "ActiveLearningResult",
    "POLICIES",
    "REWARDS",
    "BanditProblem",
    "BanditSimulation",
    "PRIORS",
    "ABTestResult",
    "ArmResult",
    "SensitivityRow",
    "ab_test_binary",
    "acquisition_scores",
    "ab_test_continuous",
    "ab_test_count",
    "compare_strategies",
    "compare_two",
    "expected_max",
    "prob_best",
    "prob_greater",
    "simulate",
    "update_stream",
]
