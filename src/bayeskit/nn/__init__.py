"""Bayesian neural networks (Equinox + Optax) whose predictions carry decomposed uncertainty.

Methods: ``DeepEnsemble`` (optionally adversarially trained), ``MCDropout``,
``SWAG`` (and MultiSWAG), ``BayesByBackprop`` and ``LastLayerLaplace``. Heads:
homoscedastic or heteroscedastic Gaussian, a mixture density network
(``head="mixture"``) and ``head="categorical"`` for classification. Regression
returns a ``GaussianMixturePredictive`` (mean, std, exact mixture intervals, draws,
log density, aleatoric/epistemic decomposition, held-out ``evaluate``,
``to_arviz``); classification a ``CategoricalPredictive`` (probabilities, entropy
decomposition, accuracy/NLL/Brier/ECE). ``VAE`` is a variational autoencoder with
its ELBO terms reported.
"""

from bayeskit.nn._core import HEADS
from bayeskit.nn.estimators import DeepEnsemble, MCDropout
from bayeskit.nn.laplace import LastLayerLaplace
from bayeskit.nn.swag import SWAG
from bayeskit.nn.vae import VAE
from bayeskit.nn.variational import BayesByBackprop
from bayeskit.predictive import CategoricalPredictive, GaussianMixturePredictive

__all__ = [
    "HEADS",
    "SWAG",
    "VAE",
    "BayesByBackprop",
    "CategoricalPredictive",
    "DeepEnsemble",
    "GaussianMixturePredictive",
    "LastLayerLaplace",
    "MCDropout",
]
