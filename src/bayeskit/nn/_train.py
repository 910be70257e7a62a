"""Training (Optax) and prediction, vectorized over ensemble members with ``vmap``.

One epoch is a jitted ``lax.scan`` over minibatches, ``vmap``-ed over members, each
member with its own shuffle and its own dropout or weight-noise keys. The loss is
the mean negative log-likelihood of the head, plus ``kl_weight`` times the weight
KL (Bayes-by-backprop: the negative ELBO per training row), plus optionally the
loss at fast-gradient-sign adversarial inputs (Lakshminarayanan et al., 2017).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from bayeskit.nn._core import Network, head_outputs, log_likelihood

__all__ = ["make_epoch", "make_loss", "make_members", "make_optimizer", "predict_members"]


def make_members(in_size: int, hidden: tuple[int, ...], dropout: float, head: str, keys: jax.Array, **options) -> Any:
    """``len(keys)`` independently initialized networks, stacked along a leading member axis."""
    return eqx.filter_vmap(lambda k: Network(in_size, hidden, dropout, head, k, **options))(keys)


def _negative_log_likelihood(network: Network, x: jax.Array, y: jax.Array, key: jax.Array) -> jax.Array:
    keys = jax.random.split(key, x.shape[0]) if network.stochastic else None
    raw = jax.vmap(network)(x, keys)
    return -jnp.mean(jax.vmap(lambda r, t: log_likelihood(network, r, t))(raw, y))


def make_loss(kl_weight: float = 0.0, adversarial: float = 0.0) -> Callable:
    """``loss(params, static, x, y, key)``: mean NLL + ``kl_weight`` KL (+ NLL at FGSM inputs, step ``adversarial``)."""

    def loss(params, static, x, y, key):
        network = eqx.combine(params, static)
        value = _negative_log_likelihood(network, x, y, key)
        if adversarial > 0:
            direction = jax.grad(lambda inputs: _negative_log_likelihood(network, inputs, y, key))(x)
            value = value + _negative_log_likelihood(
                network, x + adversarial * jnp.sign(jax.lax.stop_gradient(direction)), y, key
            )
        return value + kl_weight * network.kl()

    return loss


def _clipped_sgd(learning_rate, weight_decay, clip_norm):
    import optax

    return optax.chain(
        optax.clip_by_global_norm(clip_norm), optax.add_decayed_weights(weight_decay), optax.sgd(learning_rate)
    )


def make_optimizer(spec: tuple) -> Any:
    """``("adamw", learning_rate, weight_decay)`` or ``("sgd-clip", learning_rate, weight_decay, clip_norm)``.

    The numbers live in the optimizer's state (``optax.inject_hyperparams``), not in the
    compiled program: a study over learning rates reuses one compiled epoch.
    """
    import optax

    kind, learning_rate, weight_decay = spec[:3]
    values = {"learning_rate": jnp.float32(learning_rate), "weight_decay": jnp.float32(weight_decay)}
    if kind == "adamw":
        return optax.inject_hyperparams(optax.adamw)(**values)
    if kind == "sgd-clip":
        return optax.inject_hyperparams(_clipped_sgd)(**values, clip_norm=jnp.float32(spec[3]))
    raise ValueError(f"unknown optimizer {kind!r}; choose 'adamw' or 'sgd-clip'.")


def make_epoch(static: Any, optimizer: tuple, batch_size: int, num_rows: int, loss: tuple = (0.0, 0.0)) -> Callable:
    """The compiled epoch for these settings; see :func:`_make_epoch` (the optimizer's numbers do not matter)."""
    kind = (optimizer[0], *((1.0, 0.0, 1.0)[: len(optimizer) - 1]))
    return _make_epoch(static, kind, batch_size, num_rows, loss)


@functools.lru_cache(maxsize=32)
def _make_epoch(static: Any, optimizer: tuple, batch_size: int, num_rows: int, loss: tuple = (0.0, 0.0)) -> Callable:
    """A jitted epoch for every member at once, with early-stopping bookkeeping, compiled once per setting.

    ``(params, opt_state, best, best_loss, x, y, x_valid, y_valid, keys) ->
    (params, opt_state, best, best_loss, train_loss, valid_loss)``.

    ``optimizer`` is a :func:`make_optimizer` spec whose numbers are read from the
    optimizer state, and ``loss`` the ``(kl_weight, adversarial)`` of :func:`make_loss`,
    so that refits with the same structure and shapes reuse the compiled program.
    Each member draws its own shuffle of the ``num_rows`` training rows from its key
    (the last partial batch is dropped; the next shuffle differs) and its own noise.
    After the epoch each member's validation NLL (mean network) is computed, and
    ``best`` keeps the parameters of each member's lowest one; with no validation
    rows ``best`` is simply the latest parameters.
    """
    update, loss_fn = make_optimizer(optimizer).update, make_loss(*loss)
    usable = (num_rows // batch_size) * batch_size

    def one_member(params, opt_state, x, y, key):
        key, key_order = jax.random.split(key)
        batches = jax.random.permutation(key_order, num_rows)[:usable].reshape(-1, batch_size)

        def step(carry, batch):
            params, opt_state, key = carry
            key, sub = jax.random.split(key)
            value, grads = jax.value_and_grad(loss_fn)(params, static, x[batch], y[batch], sub)
            updates, opt_state = update(grads, opt_state, params)
            return (eqx.apply_updates(params, updates), opt_state, key), value

        (params, opt_state, _), values = jax.lax.scan(step, (params, opt_state, key), batches)
        return params, opt_state, values.mean()

    def epoch(params, opt_state, best, best_loss, x, y, x_valid, y_valid, keys):
        params, opt_state, train_loss = jax.vmap(one_member, in_axes=(0, 0, None, None, 0))(
            params, opt_state, x, y, keys
        )
        if x_valid.shape[0] == 0:
            return params, opt_state, params, best_loss, train_loss, jnp.zeros_like(train_loss)
        valid_loss = _validation_loss(params, static, x_valid, y_valid)
        best, best_loss = _keep_best(params, best, valid_loss, best_loss)
        return params, opt_state, best, best_loss, train_loss, valid_loss

    return jax.jit(epoch)


def _keep_best(params: Any, best: Any, loss: jax.Array, best_loss: jax.Array) -> tuple[Any, jax.Array]:
    """Per member, the parameters with the lower validation loss, and that loss."""
    improved = loss < best_loss

    def pick(new, old):
        return jnp.where(improved.reshape((-1,) + (1,) * (new.ndim - 1)), new, old)

    return jax.tree.map(pick, params, best), jnp.where(improved, loss, best_loss)


def _validation_loss(params: Any, static: Any, x: jax.Array, y: jax.Array) -> jax.Array:
    """Each member's mean negative log-likelihood on held-out rows (the deterministic mean network)."""

    def one(member_params):
        network = eqx.combine(member_params, static)
        raw = jax.vmap(network)(x)
        return -jnp.mean(jax.vmap(lambda r, t: log_likelihood(network, r, t))(raw, y))

    return jax.vmap(one)(params)


@eqx.filter_jit
def predict_members(
    params: Any, static: Any, x: jax.Array, keys: jax.Array | None = None, draw_weights: bool = False
) -> tuple[jax.Array, ...]:
    """The head's outputs for every member, each ``(members, n, C)``.

    ``keys`` ``(members,)`` make each member stochastic: fresh dropout masks per row
    (MC dropout), or with ``draw_weights`` one draw of the Bayesian weights per
    member (a function draw, Bayes-by-backprop). Without keys: the mean networks.
    """

    def one(member_params, key):
        network = eqx.combine(member_params, static)
        if draw_weights:
            network, key = network.sample_weights(key), None
        row_keys = jax.random.split(key, x.shape[0]) if key is not None else None
        raw = jax.vmap(network)(x, row_keys)
        return jax.vmap(lambda r: head_outputs(network, r))(raw)

    if keys is None:
        return jax.vmap(lambda p: one(p, None))(params)
    return jax.vmap(one)(params, keys)
