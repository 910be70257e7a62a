"""Bayesian optimization: search spaces, GP-based ask/tell studies persisted in SQLite, and ``minimize``."""

from bayeskit.optimize.acquisition import (
    expected_improvement,
    log_expected_improvement,
    lower_confidence_bound,
    probability_of_improvement,
)
from bayeskit.optimize.space import Categorical, Float, Integer, SearchSpace
from bayeskit.optimize.study import Study, StudyFailedError, Trial, minimize

__all__ = [
    "Categorical",
    "Float",
    "Integer",
    "SearchSpace",
    "Study",
    "StudyFailedError",
    "Trial",
    "expected_improvement",
    "log_expected_improvement",
    "lower_confidence_bound",
    "minimize",
    "probability_of_improvement",
]
