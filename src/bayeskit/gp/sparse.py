"""Sparse variational GP regression (SVGP; Hensman, Fusi & Lawrence, 2013) for data too large for exact GPs.

``m`` inducing inputs ``Z`` carry the function: ``u = f(Z)``, whitened as
``u = L_zz v`` with ``q(v) = N(mu, S)``, ``S = L_S L_S^T``. The ELBO

    sum_i E_q[log N(y_i | f(x_i), noise)] - KL(q(v) || N(0, I))

has a closed form for a Gaussian likelihood and is a sum over rows, so minibatches
of ``b`` rows give unbiased estimates (scaled by ``n / b``): training costs
O(b m^2 + m^3) per step and memory O(n d + m^2), whatever n is. Adam moves the
kernel's log-hyperparameters, the log noise, ``Z``, ``mu`` and ``L_S`` together, in
float64. With ``Z`` equal to the training inputs the bound is tight: it equals the
exact log marginal likelihood at the optimal ``q`` (tested).

References
----------
Titsias, M. (2009). Variational learning of inducing variables in sparse Gaussian processes. AISTATS.
Hensman, J., Fusi, N. & Lawrence, N. D. (2013). Gaussian processes for big data. UAI, eq. 4.
"""

from __future__ import annotations

import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular
from sklearn.base import RegressorMixin
from sklearn.exceptions import NotFittedError

from bayeskit._estimator import _Estimator
from bayeskit._rng import as_generator, raw_key
from bayeskit.gp.kernels import AbstractKernel
from bayeskit.predictive import GaussianMixturePredictive

__all__ = ["SVGP", "SparseGPRegressor", "elbo"]


class SVGP(eqx.Module):
    """Parameters of a sparse variational GP (all leaves trained)."""

    kernel: AbstractKernel
    log_noise_variance: jax.Array
    inducing: jax.Array  # (m, d)
    mean: jax.Array  # (m,) variational mean of the whitened inducing values
    raw_scale: jax.Array  # (m, m); its lower triangle with a softplus diagonal is L_S

    def scale(self) -> jax.Array:
        """``L_S``: lower triangular with a positive diagonal."""
        lower = jnp.tril(self.raw_scale, -1)
        return lower + jnp.diag(jax.nn.softplus(jnp.diagonal(self.raw_scale)) + 1e-9)

    def _projection(self, x: jax.Array) -> jax.Array:
        """``A = L_zz^-1 K_zx`` ``(m, n)``: the whitened map from inducing values to ``f(x)``."""
        size = self.inducing.shape[0]
        k_zz = self.kernel(self.inducing, self.inducing) + 1e-6 * jnp.eye(size, dtype=self.inducing.dtype)
        return solve_triangular(jnp.linalg.cholesky(k_zz), self.kernel(self.inducing, x), lower=True)

    def latent(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Mean and variance of ``q(f(x))``."""
        projection = self._projection(x)
        mean = projection.T @ self.mean
        spread = self.scale().T @ projection  # (m, n)
        variance = self.kernel.diag(x) - jnp.sum(projection**2, axis=0) + jnp.sum(spread**2, axis=0)
        return mean, jnp.maximum(variance, 1e-12)

    def kl(self) -> jax.Array:
        """``KL(N(mu, S) || N(0, I))`` in closed form from ``L_S``."""
        scale = self.scale()
        log_det = 2.0 * jnp.sum(jnp.log(jnp.diagonal(scale)))
        return 0.5 * (jnp.sum(scale**2) + self.mean @ self.mean - self.mean.size - log_det)


def elbo(model: SVGP, x: jax.Array, y: jax.Array, num_rows: int) -> jax.Array:
    """The ELBO estimated from the rows ``(x, y)`` of a data set of ``num_rows`` (exact when all rows are given)."""
    mean, variance = model.latent(x)
    noise = jnp.exp(model.log_noise_variance)
    expected = -0.5 * (jnp.log(2 * jnp.pi * noise) + ((y - mean) ** 2 + variance) / noise)
    return num_rows / x.shape[0] * jnp.sum(expected) - model.kl()


@functools.lru_cache(maxsize=8)
def _make_epoch(static: Any, learning_rate: float, batch_size: int, num_rows: int):
    import optax

    optimizer = optax.adam(learning_rate)
    usable = (num_rows // batch_size) * batch_size

    def epoch(params, frozen, opt_state, x, y, key):
        batches = jax.random.permutation(key, num_rows)[:usable].reshape(-1, batch_size)

        def negative_elbo(p, batch):
            return -elbo(eqx.combine(p, frozen, static), x[batch], y[batch], num_rows)

        def step(carry, batch):
            params, opt_state = carry
            value, grads = jax.value_and_grad(negative_elbo)(params, batch)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (eqx.apply_updates(params, updates), opt_state), -value

        (params, opt_state), values = jax.lax.scan(step, (params, opt_state), batches)
        return params, opt_state, values.mean()

    def epochs(params, frozen, opt_state, x, y, key, count):
        """``count`` epochs in one compiled call (each its own shuffle, keys split as one epoch at a time)."""

        def one(carry, _):
            params, opt_state, key = carry
            key, key_epoch = jax.random.split(key)
            params, opt_state, value = epoch(params, frozen, opt_state, x, y, key_epoch)
            return (params, opt_state, key), value

        (params, opt_state, key), values = jax.lax.scan(one, (params, opt_state, key), length=count)
        return params, opt_state, key, values

    return optimizer, jax.jit(epochs, static_argnums=6)


EPOCHS_PER_CALL = 50  # epochs per compiled call: one Python round trip per 50 epochs, progress between calls


class SparseGPRegressor(RegressorMixin, _Estimator):
    """A sparse variational GP trained on minibatches: for n beyond what an exact GP can hold.

    Parameters
    ----------
    kernel
        Starting kernel (default ``Matern52`` with ARD lengthscales).
    num_inducing
        Inducing points ``m`` (initialized on a random subset of the rows).
    noise_variance
        Starting noise variance (standardized target units).
    epochs, batch_size, learning_rate
        Adam on the minibatch ELBO.
    train_inducing
        Whether the inducing inputs move during training.
    key
        A JAX key, a ``numpy.random.Generator`` or an int seed, stored as given
        (sub-streams by ``fold_in``): the subset, the shuffles and the initialization.
    progress
        A progress bar over epochs on stderr.

    Attributes
    ----------
    elbo_
        ``(epochs,)`` the mean minibatch ELBO per epoch (standardized target units).
    """

    def __init__(
        self,
        kernel: AbstractKernel | None = None,
        num_inducing: int = 128,
        noise_variance: float = 0.1,
        epochs: int = 100,
        batch_size: int = 256,
        learning_rate: float = 1e-2,
        train_inducing: bool = True,
        key: Any = 0,
        progress: bool = False,
    ):
        self._store(locals())

    def fit(self, X: Any, y: Any):
        """Maximize the ELBO on ``(X, y)`` by minibatch Adam; returns self."""
        from bayeskit._design import design_matrix, target_vector
        from bayeskit._estimator import positive_int
        from bayeskit._progress import progress_bar
        from bayeskit.gp.kernels import Matern52

        for name in ("num_inducing", "epochs", "batch_size"):
            positive_int(getattr(self, name), name)
        design = design_matrix(X)
        x = design.values
        target = target_vector(y, x.shape[0], "gaussian")
        self.y_mean_, self.y_std_ = float(target.mean()), float(target.std())
        if self.y_std_ == 0:
            raise ValueError("`y` is constant; a GP has nothing to learn. Check the target column.")
        ys = (target - self.y_mean_) / self.y_std_
        generator = as_generator(self.key)
        num_inducing = min(self.num_inducing, x.shape[0])
        inducing = x[generator.choice(x.shape[0], num_inducing, replace=False)]
        kernel = self.kernel if self.kernel is not None else Matern52(np.ones(x.shape[1]))
        with jax.enable_x64(True):
            model = SVGP(
                jax.tree.map(lambda leaf: jnp.asarray(leaf, jnp.float64), kernel),
                jnp.log(jnp.asarray(self.noise_variance, jnp.float64)),
                jnp.asarray(inducing, jnp.float64),
                jnp.zeros(num_inducing, jnp.float64),
                jnp.eye(num_inducing, dtype=jnp.float64) * float(np.log(np.expm1(1.0))),
            )
            trainable = jax.tree.map(lambda _: True, model)
            if not self.train_inducing:
                trainable = eqx.tree_at(lambda m: m.inducing, trainable, False)
            arrays, static = eqx.partition(model, eqx.is_array)
            params, frozen = eqx.partition(arrays, trainable)
            batch = min(self.batch_size, x.shape[0])
            optimizer, epoch = _make_epoch(static, float(self.learning_rate), batch, x.shape[0])
            opt_state = optimizer.init(params)
            xs, ys_ = jnp.asarray(x, jnp.float64), jnp.asarray(ys, jnp.float64)
            key, history = raw_key(self.key), []
            with progress_bar("training SVGP", self.epochs, self.progress) as advance:
                done = 0
                while done < self.epochs:  # full chunks, then one shorter chunk: at most two compiled programs
                    count = min(EPOCHS_PER_CALL, self.epochs - done)
                    params, opt_state, key, values = epoch(params, frozen, opt_state, xs, ys_, key, count)
                    history.extend(np.asarray(values).tolist())
                    done += count
                    advance(count)
            self.model_ = eqx.combine(params, frozen, static)
        self.elbo_ = np.asarray(history)
        self.feature_names_in_, self.n_features_in_ = design.names, x.shape[1]
        self.noise_variance_ = float(np.exp(self.model_.log_noise_variance)) * self.y_std_**2
        return self

    def predictive(self, X: Any) -> GaussianMixturePredictive:
        """The predictive at ``X`` (target units): latent variance (epistemic) and noise (aleatoric)."""
        from bayeskit._design import design_matrix

        if not hasattr(self, "model_"):
            raise NotFittedError("this SparseGPRegressor is not fitted yet: call fit(X, y) first.")
        x = design_matrix(X, expected=self.feature_names_in_, owner=type(self).__name__).values
        with jax.enable_x64(True):
            mean, variance = _latent(self.model_, jnp.asarray(x, jnp.float64))
        latent = np.asarray(variance) * self.y_std_**2
        return GaussianMixturePredictive.gaussian(
            np.asarray(mean) * self.y_std_ + self.y_mean_,
            latent + self.noise_variance_,
            latent,
            "sparse variational GP",
        )

    def predict(self, X: Any, return_std: bool = False):
        """Posterior mean (and the latent function's standard deviation)."""
        predictive = self.predictive(X)
        return (predictive.mean(), np.sqrt(predictive.decompose().epistemic)) if return_std else predictive.mean()


@eqx.filter_jit
def _latent(model: SVGP, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    return model.latent(x)
