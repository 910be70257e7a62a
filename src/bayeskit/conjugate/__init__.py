"""Exact conjugate posteriors: closed-form, float64, vectorized over batches of independent models.

Every family satisfies ``bayeskit.posterior.Posterior`` (``mean``, ``var``, ``std``,
``interval(prob, kind="eti" | "hdi")``, ``sample(key, n)``, ``summary``, ``to_arviz(key)``,
``check``) and adds ``mode``, ``log_prob``, ``predictive`` (an exact ``Predictive``),
``update`` (sequential == batch), ``log_evidence`` (of the data conditioned on) and
``log_marginal_likelihood`` (of new data): exact Bayes factors.
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
