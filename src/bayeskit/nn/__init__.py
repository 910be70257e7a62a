"""Bayesian neural networks (Equinox + Optax) whose predictions carry decomposed uncertainty.

Methods: ``DeepEnsemble`` (optionally adversarially trained), ``MCDropout``,
``SWAG`` (and MultiSWAG), ``BayesByBackprop`` and ``LastLayerLaplace``. Heads:
homoscedastic or heteroscedastic Gaussian, a mixture density network
(``head="mixture"``) and ``head="categorical"`` for classification. Regression
returns a ``GaussianMixturePredictive`` (mean, std, exact mixture intervals, draws,
log density, aleatoric/epistemic decomposition, held-out ``evaluate``,
``to_arviz``); classification a ``CategoricalPredictive`` (probabilities, entropy
decomposition, accuracy/NLL/Brier/ECE). ``VAE`` is a variational autoencoder with
its ELBO terms reported. ``Continual`` trains one network on a sequence of tasks, each
task's weight posterior the next one's prior (online Laplace, EWC, VCL).
"""

from bayeskit.nn._core import HEADS
from bayeskit.nn.continual import Continual, continual_metrics
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
    "continual_metrics",
    "BayesByBackprop",
    "CategoricalPredictive",
    "Continual",
    "DeepEnsemble",
    "GaussianMixturePredictive",
    "LastLayerLaplace",
    "MCDropout",
]
