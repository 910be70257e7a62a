"""Exact conjugate posteriors: closed-form, float64, vectorized over batches of independent models.

Every family offers the posterior API: ``mean``, ``var``, ``std``, ``mode``,
``interval(prob, kind="eti" | "hdi")``, ``log_prob``, ``sample(rng, n)``,
``predictive``, ``update`` (sequential == batch), ``log_marginal_likelihood``
(exact Bayes factors), ``summary`` and ``to_arviz``.
"""

from bayeskit.conjugate._base import ExactPosterior
from bayeskit.conjugate.beta_binomial import BetaBinomial
from bayeskit.conjugate.dirichlet import DirichletMultinomial
from bayeskit.conjugate.gamma_poisson import GammaPoisson
from bayeskit.conjugate.linear_regression import BayesianLinearRegression
from bayeskit.conjugate.normal import NormalInverseGamma, NormalKnownVariance
from bayeskit.posterior import Interval

__all__ = [
    "BayesianLinearRegression",
    "BetaBinomial",
    "DirichletMultinomial",
    "ExactPosterior",
    "GammaPoisson",
    "Interval",
    "NormalInverseGamma",
    "NormalKnownVariance",
]
