"""Gaussian processes: composable kernels, exact GP regression in float64, and ``GPRegressor``.

Exact inference conditions once (Cholesky with an adaptive, reported jitter),
predicts the latent function (epistemic) and new observations (adds the noise:
aleatoric), draws joint function values, and ``update``s on new points without
refactorizing. Hyperparameters maximize the log marginal likelihood (L-BFGS-B with
exact JAX gradients and restarts) or are sampled by NUTS (``optimizer="nuts"``).
``SparseGPRegressor`` (inducing points, minibatch ELBO) takes over where n is too
large for an exact GP. Everything runs in float64 inside
``jax.enable_x64(True)``; importing bayeskit never changes JAX's configuration.
"""

from bayeskit.gp.exact import ExactGP, NotPositiveDefiniteError, condition, draw_functions, predict, update
from bayeskit.gp.kernels import (
    RBF,
    Linear,
    Matern12,
    Matern32,
    Matern52,
    Periodic,
    Product,
    RationalQuadratic,
    Sum,
    White,
)
from bayeskit.gp.regressor import GPRegressor
from bayeskit.gp.sparse import SparseGPRegressor
from bayeskit.predictive import GaussianMixturePredictive

__all__ = [
    "RBF",
    "ExactGP",
    "GPRegressor",
    "GaussianMixturePredictive",
    "Linear",
    "Matern12",
    "Matern32",
    "Matern52",
    "NotPositiveDefiniteError",
    "Periodic",
    "Product",
    "RationalQuadratic",
    "SparseGPRegressor",
    "Sum",
    "White",
    "condition",
    "draw_functions",
    "predict",
    "update",
]
