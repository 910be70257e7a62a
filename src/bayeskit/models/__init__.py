"""Ready Bayesian regressions as scikit-learn-style estimators.

``BayesianLinearRegression`` (exact Normal-Inverse-Gamma, or the same model by an
engine), ``BayesianLogisticRegression`` (its MAP is scikit-learn's L2 or L1 logistic
regression), ``BayesianPoissonRegression``, ``RobustRegression`` (Student-t noise),
``HierarchicalRegression`` (partial pooling, non-centered, with a shrinkage plot),
and the general ``BayesianGLM`` behind them; ``TopicModel``, latent Dirichlet allocation of texts
or word counts by variational Bayes.
"""

from __future__ import annotations

import importlib
from typing import Any

from bayeskit.models._glm import FAMILIES, POOLINGS, PRIORS

__all__ = [
    "FAMILIES",
    "METHODS",
    "POOLINGS",
    "PRIORS",
    "BayesianGLM",
    "BayesianLinearRegression",
    "BayesianLogisticRegression",
    "BayesianPoissonRegression",
    "HierarchicalRegression",
    "RobustRegression",
    "TopicModel",
]

# The estimators (scikit-learn, NumPyro) load on first use, so the CLI checks its options against FAMILIES
# and answers bad input before paying for those imports (about 2 s).
_ESTIMATORS = frozenset(__all__) - {"FAMILIES", "POOLINGS", "PRIORS", "TopicModel"}


def __getattr__(name: str) -> Any:
    if name == "TopicModel":
        return importlib.import_module("bayeskit.models.topics").TopicModel
    if name in _ESTIMATORS:
        return getattr(importlib.import_module("bayeskit.models.estimators"), name)
    raise AttributeError(f"module 'bayeskit.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
