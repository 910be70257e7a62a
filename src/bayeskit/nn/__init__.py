"""Bayesian neural networks (Equinox + Optax) whose predictions carry decomposed uncertainty.

Available now: ``DeepEnsemble``, ``MCDropout`` and ``LastLayerLaplace`` regressors
(homoscedastic or heteroscedastic Gaussian heads), returning a
``GaussianMixturePredictive`` (mean, std, exact mixture intervals, draws, log
density, aleatoric/epistemic decomposition, held-out ``evaluate``). SWAG,
Bayes-by-backprop, mixture-density and categorical heads, the VAE and the UCI
benchmark are still to come (issue 6).
"""

from bayeskit.nn._core import HEADS
from bayeskit.nn.estimators import DeepEnsemble, MCDropout
from bayeskit.nn.laplace import LastLayerLaplace
from bayeskit.nn.predictive import GaussianMixturePredictive

__all__ = ["HEADS", "DeepEnsemble", "GaussianMixturePredictive", "LastLayerLaplace", "MCDropout"]
