"""Last-layer Laplace (Daxberger et al., 2021): a Gaussian over the output layer of a trained network.

The network is trained once (MAP, homoscedastic Gaussian head). Its last hidden
layer gives features phi(x) (a column of ones for the bias); with the Gaussian
likelihood the generalized Gauss-Newton matrix of the output layer is exact, so the
posterior over the output weights is Gaussian with precision
``Phi^T Phi / sigma^2 + lambda I`` around the trained weights. The prior precision
lambda maximizes the Laplace (here exact linear-Gaussian) marginal likelihood of the
training targets. The predictive at x is Gaussian with variance
``phi(x)^T Sigma phi(x)`` (epistemic) plus ``sigma^2`` (aleatoric).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayeskit._rng import as_generator, substream
from bayeskit.nn.estimators import _NetworkModel

__all__ = ["LastLayerLaplace", "log_evidence", "posterior_covariance"]


def posterior_covariance(features: np.ndarray, noise_variance: float, prior_precision: float) -> np.ndarray:
    """``(Phi^T Phi / sigma^2 + lambda I)^-1`` of the output layer (GGN = exact Hessian for a Gaussian head)."""
    precision = features.T @ features / noise_variance + prior_precision * np.eye(features.shape[1])
    return np.linalg.inv(precision)


def log_evidence(features: np.ndarray, y: np.ndarray, noise_variance: float, prior_precision: float) -> float:
    """Log marginal likelihood ``log N(y; 0, sigma^2 I + Phi Phi^T / lambda)``, which sets lambda."""
    from scipy import stats

    covariance = noise_variance * np.eye(y.size) + features @ features.T / prior_precision
    return float(stats.multivariate_normal(np.zeros(y.size), covariance, allow_singular=False).logpdf(y))


class LastLayerLaplace(_NetworkModel):
    """A MAP network with a Laplace approximation over its output layer; prior precision by evidence.

    Parameters
    ----------
    hidden, epochs, batch_size, learning_rate, weight_decay, validation_fraction, patience, key, progress
        As for :class:`bayeskit.nn.DeepEnsemble`; ``hidden=()`` gives a linear model,
        whose last-layer Laplace is Bayesian linear regression with known noise.
    num_draws
        Components of the returned mixture predictive (draws of the output weights).
    """

    _method = "last-layer Laplace"

    def __init__(
        self,
        hidden: tuple[int, ...] = (50,),
        epochs: int = 500,
        batch_size: int = 32,
        learning_rate: float = 1e-2,
        weight_decay: float = 1e-4,
        validation_fraction: float = 0.1,
        patience: int = 30,
        key: Any = 0,
        progress: bool = False,
        num_draws: int = 1000,
    ):
        self.head = "homoscedastic"
        self._store(locals())

    def _members(self) -> int:
        return 1

    def _network(self):
        import equinox as eqx
        import jax

        return eqx.combine(jax.tree.map(lambda leaf: leaf[0], self.params_), self._static)

    def features(self, xs) -> np.ndarray:
        """``(n, width + 1)`` last-hidden-layer features with a trailing column of ones (standardized inputs)."""
        import jax
        import jax.numpy as jnp

        network = self._network()
        hidden = np.asarray(jax.vmap(network.hidden_features)(jnp.asarray(xs, jnp.float32)), dtype=float)
        return np.column_stack([hidden, np.ones(hidden.shape[0])])

    def fit(self, X: Any, y: Any):
        """Train the MAP network, then fit the output layer's Laplace posterior and prior precision."""
        from scipy.optimize import minimize_scalar

        from bayeskit.nn._data import regression_data

        super().fit(X, y)
        x, target, _ = regression_data(X, y)
        phi = self.features(self.x_scaler_.forward(x))
        ys = self.y_scaler_.forward(target)
        network = self._network()
        self.noise_variance_ = float(np.exp(2.0 * float(network.log_noise)) + 1e-6)
        result = minimize_scalar(
            lambda log_lambda: -log_evidence(phi, ys, self.noise_variance_, float(np.exp(log_lambda))),
            bounds=(-10.0, 10.0),
            method="bounded",
        )
        self.prior_precision_ = float(np.exp(result.x))
        self.log_evidence_ = float(-result.fun)
        self.covariance_ = posterior_covariance(phi, self.noise_variance_, self.prior_precision_)
        last = network.layers[-1]
        self.weights_map_ = np.concatenate(
            [np.asarray(last.weight, dtype=float).ravel(), np.asarray(last.bias, dtype=float)]
        )
        return self

    def _standardized_members(self, xs):
        phi = self.features(np.asarray(xs))
        rng = as_generator(substream(self.key, 1))
        draws = rng.multivariate_normal(self.weights_map_, self.covariance_, size=self.num_draws)
        means = (draws @ phi.T)[..., None]
        return means, np.full_like(means, self.noise_variance_), np.zeros_like(means)
