"""A variational autoencoder (Kingma & Welling, 2014) with its ELBO terms reported.

The encoder maps a row x to a diagonal Gaussian ``q(z | x) = N(mean, diag(exp(log_var)))``;
a draw ``z = mean + exp(log_var / 2) * eps`` (the reparameterization trick) goes
through the decoder to ``p(x | z)``: independent Bernoullis for 0/1 data (e.g.
binarized images) or Gaussians with a learned scale per column for real-valued
data (standardized first; densities are then per standardized unit). The prior is
``N(0, I)`` and the KL term is the closed form of ``bayeskit.info.kl_normal_standard``.
Training maximizes the ELBO ``E_q[log p(x | z)] - KL(q(z | x) || p(z))`` with Adam;
``log_likelihood`` gives the tighter importance-weighted estimate (Burda et al., 2016).
"""

from __future__ import annotations

import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from sklearn.exceptions import NotFittedError

from bayeskit._estimator import _Estimator, positive_int
from bayeskit._rng import as_generator, raw_key
from bayeskit._validate import check_choice
from bayeskit.info import kl_normal_standard

__all__ = ["VAE", "VAEModel"]

LIKELIHOODS = ("bernoulli", "gaussian")


class _MLP(eqx.Module):
    layers: tuple

    def __init__(self, sizes: tuple[int, ...], key: jax.Array):
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = tuple(eqx.nn.Linear(a, b, key=k) for a, b, k in zip(sizes[:-1], sizes[1:], keys, strict=True))

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        return self.layers[-1](x)


class VAEModel(eqx.Module):
    """Encoder, decoder and (Gaussian likelihood) a log scale per column."""

    encoder: _MLP
    decoder: _MLP
    log_scale: jax.Array
    likelihood: str = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)

    def __init__(self, data_dim: int, latent_dim: int, hidden: tuple[int, ...], likelihood: str, key: jax.Array):
        key_enc, key_dec = jax.random.split(key)
        self.encoder = _MLP((data_dim, *hidden, 2 * latent_dim), key_enc)
        self.decoder = _MLP((latent_dim, *tuple(reversed(hidden)), data_dim), key_dec)
        self.log_scale = jnp.zeros(data_dim)
        self.likelihood = likelihood
        self.latent_dim = latent_dim

    def encode(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(mean, log_var)`` of ``q(z | x)`` for one row."""
        out = self.encoder(x)
        return out[: self.latent_dim], jnp.clip(out[self.latent_dim :], -12.0, 8.0)

    def log_likelihood(self, x: jax.Array, z: jax.Array) -> jax.Array:
        """``log p(x | z)`` for one row, summed over columns."""
        out = self.decoder(z)
        if self.likelihood == "bernoulli":
            return jnp.sum(x * jax.nn.log_sigmoid(out) + (1 - x) * jax.nn.log_sigmoid(-out))
        return jnp.sum(-0.5 * ((x - out) / jnp.exp(self.log_scale)) ** 2 - self.log_scale - 0.5 * jnp.log(2 * jnp.pi))

    def elbo_terms(self, x: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        """One-sample ``(reconstruction, kl)`` of one row: ELBO = reconstruction - kl."""
        mean, log_var = self.encode(x)
        z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(key, mean.shape)
        return self.log_likelihood(x, z), kl_normal_standard(mean, log_var)

    def importance_weighted(self, x: jax.Array, key: jax.Array, num_samples: int) -> jax.Array:
        """The importance-weighted bound ``log mean_k p(x, z_k) / q(z_k | x)`` for one row."""
        mean, log_var = self.encode(x)
        eps = jax.random.normal(key, (num_samples, mean.size))
        z = mean + jnp.exp(0.5 * log_var) * eps
        log_q = jnp.sum(-0.5 * eps**2 - 0.5 * log_var - 0.5 * jnp.log(2 * jnp.pi), axis=1)
        log_prior = jnp.sum(-0.5 * z**2 - 0.5 * jnp.log(2 * jnp.pi), axis=1)
        log_lik = jax.vmap(lambda zk: self.log_likelihood(x, zk))(z)
        return jax.scipy.special.logsumexp(log_lik + log_prior - log_q) - jnp.log(num_samples)


def _batch_terms(model: VAEModel, x: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jax.vmap(model.elbo_terms)(x, jax.random.split(key, x.shape[0]))


@functools.lru_cache(maxsize=8)
def _make_epoch(static: Any, learning_rate: float, batch_size: int, num_rows: int):
    """A jitted epoch (``lax.scan`` over shuffled minibatches) returning mean reconstruction and KL."""
    import optax

    optimizer = optax.adam(learning_rate)
    usable = (num_rows // batch_size) * batch_size

    def loss(params, x, key):
        reconstruction, kl = _batch_terms(eqx.combine(params, static), x, key)
        return -jnp.mean(reconstruction - kl), (jnp.mean(reconstruction), jnp.mean(kl))

    def epoch(params, opt_state, x, key):
        key_order, key_steps = jax.random.split(key)
        batches = jax.random.permutation(key_order, num_rows)[:usable].reshape(-1, batch_size)

        def step(carry, batch_and_key):
            params, opt_state = carry
            batch, step_key = batch_and_key
            (_, terms), grads = jax.value_and_grad(loss, has_aux=True)(params, x[batch], step_key)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (eqx.apply_updates(params, updates), opt_state), terms

        keys = jax.random.split(key_steps, batches.shape[0])
        (params, opt_state), (reconstruction, kl) = jax.lax.scan(step, (params, opt_state), (batches, keys))
        return params, opt_state, reconstruction.mean(), kl.mean()

    return optimizer, jax.jit(epoch)


@eqx.filter_jit
def _evaluate(model: VAEModel, x: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    return _batch_terms(model, x, key)


@eqx.filter_jit
def _importance_weighted(model: VAEModel, x: jax.Array, keys: jax.Array, num_samples: int) -> jax.Array:
    return jax.vmap(lambda row, key: model.importance_weighted(row, key, num_samples))(x, keys)


class VAE(_Estimator):
    """A variational autoencoder with scikit-learn-style ``fit`` and ELBO bookkeeping.

    Parameters
    ----------
    latent_dim
        Dimension of z (2 lets you plot the latent space).
    hidden
        Hidden widths of the encoder (the decoder mirrors them); ``()`` gives linear maps,
        which with ``likelihood="gaussian"`` is probabilistic PCA.
    likelihood
        ``"bernoulli"`` for 0/1 data, ``"gaussian"`` for real values (standardized per column).
    epochs, batch_size, learning_rate
        Adam training.
    validation_fraction, patience
        Rows held out; training stops when their ELBO has not improved for ``patience``
        epochs, and the best epoch's weights are kept. 0 trains all epochs.
    key
        A JAX key, a ``numpy.random.Generator`` or an int seed, stored as given
        (sub-streams by ``fold_in``) for the split, initialization and the reparameterization noise.
    progress
        A progress bar over epochs on stderr.

    Attributes
    ----------
    elbo_, reconstruction_, kl_
        Per epoch, the training means per row (ELBO = reconstruction - KL), in nats.
    validation_elbo_
        Per epoch, the held-out ELBO per row.
    """

    def __init__(
        self,
        latent_dim: int = 2,
        hidden: tuple[int, ...] = (128,),
        likelihood: str = "bernoulli",
        epochs: int = 300,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        validation_fraction: float = 0.1,
        patience: int = 30,
        key: Any = 0,
        progress: bool = False,
    ):
        self._store(locals())

    def _check_settings(self) -> None:
        check_choice(self.likelihood, "likelihood", LIKELIHOODS)
        for name in ("latent_dim", "epochs", "batch_size", "patience"):
            positive_int(getattr(self, name), name)
        if any(not isinstance(h, int) or h < 1 for h in tuple(self.hidden)):
            raise ValueError(f"`hidden` must be a tuple of positive widths, e.g. (128,); got {self.hidden!r}.")
        if not 0.0 <= self.validation_fraction < 0.5:
            raise ValueError(f"`validation_fraction` must be in [0, 0.5); got {self.validation_fraction!r}.")
        if not self.learning_rate > 0:
            raise ValueError(f"`learning_rate` must be > 0; got {self.learning_rate!r}.")

    def _data(self, X: Any, fitting: bool) -> np.ndarray:
        from bayeskit._design import design_matrix

        design = design_matrix(X, expected=None if fitting else self.feature_names_in_)
        x = design.values
        if self.likelihood == "bernoulli":
            bad = (x != 0) & (x != 1)
            if bad.any():
                row, column = np.argwhere(bad)[0]
                raise ValueError(
                    f"`X` must be 0/1 for likelihood='bernoulli'; column {design.names[column]!r} has "
                    f"{x[row, column]:g} at row {row}. Binarize it (e.g. X > threshold) or use likelihood='gaussian'."
                )
            return x
        if fitting:
            std = x.std(axis=0)
            self.mean_, self.scale_ = x.mean(axis=0), np.where(std > 0, std, 1.0)
        return (x - self.mean_) / self.scale_

    def fit(self, X: Any, y: Any = None):
        """Train on the rows of ``X`` (``y`` is ignored); returns self."""
        from bayeskit._design import design_matrix
        from bayeskit._progress import progress_bar

        self._check_settings()
        self.feature_names_in_ = design_matrix(X).names
        x = self._data(X, fitting=True)
        order = as_generator(self.key).permutation(x.shape[0])
        num_valid = round(self.validation_fraction * x.shape[0])
        valid, train = order[:num_valid], order[num_valid:]
        if train.size < 2:
            raise ValueError(f"need at least 2 training rows after the validation split; got {train.size}.")
        key_init, key = jax.random.split(raw_key(self.key))
        model = VAEModel(x.shape[1], self.latent_dim, tuple(self.hidden), self.likelihood, key_init)
        params, static = eqx.partition(model, eqx.is_array)
        batch = min(self.batch_size, train.size)
        optimizer, epoch = _make_epoch(static, float(self.learning_rate), batch, train.size)
        opt_state = optimizer.init(params)
        x_train, x_valid = jnp.asarray(x[train], jnp.float32), jnp.asarray(x[valid], jnp.float32)
        best, best_elbo, stale = params, -np.inf, 0
        history: dict[str, list[float]] = {"reconstruction": [], "kl": [], "validation": []}
        with progress_bar("training VAE", self.epochs, self.progress) as advance:
            for _ in range(self.epochs):
                key, key_epoch, key_valid = jax.random.split(key, 3)
                params, opt_state, reconstruction, kl = epoch(params, opt_state, x_train, key_epoch)
                history["reconstruction"].append(float(reconstruction))
                history["kl"].append(float(kl))
                advance(1)
                if num_valid == 0:
                    best = params
                    continue
                rec, kl_valid = _evaluate(eqx.combine(params, static), x_valid, key_valid)
                elbo = float(jnp.mean(rec - kl_valid))
                history["validation"].append(elbo)
                if elbo > best_elbo:
                    best, best_elbo, stale = params, elbo, 0
                else:
                    stale += 1
                    if stale >= self.patience:
                        break
        self.model_ = eqx.combine(best, static)
        self.reconstruction_ = np.asarray(history["reconstruction"])
        self.kl_ = np.asarray(history["kl"])
        self.elbo_ = self.reconstruction_ - self.kl_
        self.validation_elbo_ = np.asarray(history["validation"])
        self.epochs_run_ = len(history["kl"])
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this VAE is not fitted yet: call fit(X) first.")

    def elbo(self, X: Any, key: Any) -> dict[str, float]:
        """Mean per-row ELBO and its terms on ``X`` (one reparameterized draw per row), in nats."""
        self._check_fitted()
        x = jnp.asarray(self._data(X, fitting=False), jnp.float32)
        reconstruction, kl = _evaluate(self.model_, x, raw_key(key))
        rec, kl = float(jnp.mean(reconstruction)), float(jnp.mean(kl))
        return {"elbo": rec - kl, "reconstruction": rec, "kl": kl}

    def log_likelihood(self, X: Any, key: Any, num_samples: int = 100) -> np.ndarray:
        """Per-row importance-weighted estimates of ``log p(x)`` (>= the ELBO; exact as samples grow)."""
        self._check_fitted()
        x = jnp.asarray(self._data(X, fitting=False), jnp.float32)
        keys = jax.random.split(raw_key(key), x.shape[0])
        return np.asarray(_importance_weighted(self.model_, x, keys, positive_int(num_samples, "num_samples")))

    def encode(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of z for each row, ``(n, latent_dim)`` each."""
        self._check_fitted()
        x = jnp.asarray(self._data(X, fitting=False), jnp.float32)
        mean, log_var = jax.vmap(self.model_.encode)(x)
        return np.asarray(mean, dtype=float), np.exp(0.5 * np.asarray(log_var, dtype=float))

    def decode(self, Z: Any) -> np.ndarray:
        """The decoder's mean for each latent row: pixel probabilities, or values in the data's units."""
        self._check_fitted()
        out = np.asarray(jax.vmap(self.model_.decoder)(jnp.asarray(np.atleast_2d(Z), jnp.float32)), dtype=float)
        if self.likelihood == "bernoulli":
            return 1.0 / (1.0 + np.exp(-out))
        return out * self.scale_ + self.mean_

    def reconstruct(self, X: Any) -> np.ndarray:
        """Decoder means at the encoder means: what the model keeps of each row."""
        return self.decode(self.encode(X)[0])

    def sample(self, rng: Any, num_samples: int) -> np.ndarray:
        """``num_samples`` generated rows' means (z from the prior through the decoder)."""
        from bayeskit._rng import as_generator

        self._check_fitted()
        return self.decode(as_generator(rng).standard_normal((num_samples, self.latent_dim)))
