"""Bayesian neural networks (Equinox + Optax) whose predictions carry decomposed uncertainty.

Available now: ``DeepEnsemble`` and ``MCDropout`` regressors (homoscedastic or
heteroscedastic Gaussian heads), returning a ``GaussianMixturePredictive`` (mean,
std, exact mixture intervals, draws, log density, aleatoric/epistemic
decomposition). SWAG, Bayes-by-backprop, last-layer Laplace, mixture-density and
categorical heads, the VAE and the UCI benchmark are still to come (issue 6).
"""

from bayeskit.nn._core import HEADS
from bayeskit.nn.estimators import DeepEnsemble, MCDropout
from bayeskit.nn.predictive import GaussianMixturePredictive

__all__ = ["HEADS", "DeepEnsemble", "GaussianMixturePredictive", "MCDropout"]
