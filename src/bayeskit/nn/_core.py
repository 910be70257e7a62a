"""Networks (Equinox) and their training (Optax), vectorized over ensemble members with ``vmap``.

Core layer: pure functions of immutable pytrees. An MLP with optional dropout in
front of every linear layer (Gal & Ghahramani's placement), a Gaussian head that is
homoscedastic (one learned noise scale) or heteroscedastic (a second output, the
log variance), the Gaussian negative log-likelihood, and one training epoch as a
``lax.scan`` over minibatches, ``vmap``-ed over members.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = [
    "HEADS",
    "Network",
    "gaussian_nll",
    "keep_best",
    "make_epoch",
    "make_members",
    "predict_members",
    "validation_loss",
]

HEADS = ("homoscedastic", "heteroscedastic")
_MIN_VARIANCE = 1e-6


class Network(eqx.Module):
    """An MLP with a Gaussian head; ``__call__(x, key)`` gives (mean, variance) for one input row."""

    layers: tuple
    log_noise: jax.Array
    dropout: float = eqx.field(static=True)
    head: str = eqx.field(static=True)
    activation: Callable = eqx.field(static=True)

    def __init__(self, in_size: int, hidden: tuple[int, ...], dropout: float, head: str, key: jax.Array):
        sizes = (in_size, *hidden, 2 if head == "heteroscedastic" else 1)
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = tuple(eqx.nn.Linear(a, b, key=k) for a, b, k in zip(sizes[:-1], sizes[1:], keys, strict=True))
        self.log_noise = jnp.asarray(-1.0)
        self.dropout = float(dropout)
        self.head = head
        self.activation = jax.nn.relu

    def __call__(self, x: jax.Array, key: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
        for index, layer in enumerate(self.layers):
            if self.dropout > 0 and key is not None:
                key, sub = jax.random.split(key)
                keep = jax.random.bernoulli(sub, 1.0 - self.dropout, x.shape)
                x = jnp.where(keep, x / (1.0 - self.dropout), 0.0)
            x = layer(x)
            if index < len(self.layers) - 1:
                x = self.activation(x)
        if self.head == "heteroscedastic":
            return x[0], jax.nn.softplus(x[1]) + _MIN_VARIANCE
        return x[0], jnp.exp(2.0 * self.log_noise) + _MIN_VARIANCE


def gaussian_nll(mean: jax.Array, variance: jax.Array, y: jax.Array) -> jax.Array:
    """Mean Gaussian negative log-likelihood (with the log 2 pi constant)."""
    return 0.5 * jnp.mean(jnp.log(2 * jnp.pi * variance) + (y - mean) ** 2 / variance)


def make_members(in_size: int, hidden: tuple[int, ...], dropout: float, head: str, keys: jax.Array) -> Network:
    """``len(keys)`` independently initialized networks, stacked along a leading member axis."""
    return eqx.filter_vmap(lambda k: Network(in_size, hidden, dropout, head, k))(keys)


def _loss(params, static, x, y, key):
    network = eqx.combine(params, static)
    keys = jax.random.split(key, x.shape[0])
    mean, variance = jax.vmap(network)(x, keys if network.dropout > 0 else None)
    return gaussian_nll(mean, variance, y)


def make_epoch(static: Any, optimizer: Any, batch_size: int, num_rows: int) -> Callable:
    """A jitted epoch for every member at once: ``(params, opt_state, x, y, keys) -> (params, opt_state, losses)``.

    Each member draws its own shuffle of the ``num_rows`` training rows from its key
    (the last partial batch is dropped; the next shuffle differs) and its own dropout
    masks. Returns the new parameters, optimizer states and each member's mean loss.
    """
    usable = (num_rows // batch_size) * batch_size

    def one_member(params, opt_state, x, y, key):
        key, key_order = jax.random.split(key)
        batches = jax.random.permutation(key_order, num_rows)[:usable].reshape(-1, batch_size)

        def step(carry, batch):
            params, opt_state, key = carry
            key, sub = jax.random.split(key)
            loss, grads = jax.value_and_grad(_loss)(params, static, x[batch], y[batch], sub)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (eqx.apply_updates(params, updates), opt_state, key), loss

        (params, opt_state, _), losses = jax.lax.scan(step, (params, opt_state, key), batches)
        return params, opt_state, losses.mean()

    return jax.jit(jax.vmap(one_member, in_axes=(0, 0, None, None, 0)))


@eqx.filter_jit
def keep_best(params: Any, best: Any, loss: jax.Array, best_loss: jax.Array) -> tuple[Any, jax.Array]:
    """Per member, the parameters with the lower validation loss, and that loss."""
    improved = loss < best_loss

    def pick(new, old):
        return jnp.where(improved.reshape((-1,) + (1,) * (new.ndim - 1)), new, old)

    return jax.tree.map(pick, params, best), jnp.where(improved, loss, best_loss)


@eqx.filter_jit
def validation_loss(params: Any, static: Any, x: jax.Array, y: jax.Array) -> jax.Array:
    """Each member's mean Gaussian NLL on held-out rows (dropout off)."""
    means, variances = predict_members(params, static, x, None)
    return 0.5 * jnp.mean(jnp.log(2 * jnp.pi * variances) + (y - means) ** 2 / variances, axis=1)


@eqx.filter_jit
def predict_members(params: Any, static: Any, x: jax.Array, keys: jax.Array | None) -> tuple[jax.Array, jax.Array]:
    """Means and variances ``(members, n)``; with ``keys`` ``(members,)`` dropout stays on (MC dropout)."""

    def one(member_params, key):
        network = eqx.combine(member_params, static)
        row_keys = jax.random.split(key, x.shape[0]) if key is not None else None
        return jax.vmap(network)(x, row_keys)

    if keys is None:
        return jax.vmap(lambda p: one(p, None))(params)
    return jax.vmap(one)(params, keys)
