"""Ready Bayesian regressions as scikit-learn-style estimators.

``BayesianLinearRegression`` (exact Normal-Inverse-Gamma, or the same model by an
engine), ``BayesianLogisticRegression`` (its MAP is scikit-learn's L2 or L1 logistic
regression), ``BayesianPoissonRegression``, ``RobustRegression`` (Student-t noise),
``HierarchicalRegression`` (partial pooling, non-centered, with a shrinkage plot),
and the general ``BayesianGLM`` behind them.
"""

from bayeskit.models._glm import FAMILIES, POOLINGS, PRIORS
from bayeskit.models.estimators import (
    METHODS,
    BayesianGLM,
    BayesianLinearRegression,
    BayesianLogisticRegression,
    BayesianPoissonRegression,
    HierarchicalRegression,
    RobustRegression,
)

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
]
