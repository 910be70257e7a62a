"""Continual learning, core layer: a network with one output layer per task, Gaussian weight priors, curvature.

Pure functions over small pytrees, safe under ``jit``/``vmap``/``grad``.

- Parameters are ``{"trunk": ((W, b), ...), "head_w": (T, C, H), "head_b": (T, C)}``: a
  ReLU trunk shared by every task and ``T`` stacked output layers. Each row carries the
  index of the output layer it is read from, so one program serves a shared head
  (``T = 1``), one head per task, and joint training over rows of several tasks.
- A Gaussian over the flattened parameters is kept in natural parameters: ``precision``
  (a vector for a diagonal, a matrix for a full Gaussian) and ``shift = precision @ mean``.
  The negative log prior is ``0.5 theta' P theta - shift' theta``, so a sum of quadratic
  penalties anchored at different points (EWC) is one Gaussian as well.
- Curvature is the generalized Gauss-Newton matrix ``sum_i J_i' Lambda_i J_i``, where
  ``Lambda_i`` is the Hessian of the negative log-likelihood in the outputs (``diag(p) -
  p p'`` for classes, ``1 / sigma^2`` for a Gaussian). For these likelihoods it equals
  the Fisher information (Kirkpatrick et al.'s EWC uses its diagonal), and for a linear
  model with a Gaussian likelihood it is the exact Hessian.
- A mean-field Gaussian ``q`` (VCL) is ``{"mean": params, "rho": params}`` with standard
  deviations ``softplus(rho)``; its likelihood term is sampled by the local
  reparameterization trick, and its KL to the previous task's ``q`` is closed form
  (``bayeskit.info.kl_normal``).
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from bayeskit.info import kl_normal

__all__ = [
    "Config",
    "curvature",
    "extend_prior",
    "features",
    "fresh_head",
    "grow_heads",
    "head_curvature",
    "head_entries",
    "head_weights",
    "last_layer_draws",
    "init_params",
    "linearized_draws",
    "log_likelihood",
    "mean_field_draws",
    "mean_field_kl",
    "outputs",
    "set_head",
    "times",
    "train",
    "used_entries",
]

_CHUNK = 64


class Config(NamedTuple):
    """What fixes the programs' structure: layer sizes, outputs per head, likelihood, noise variance."""

    sizes: tuple[int, ...]
    num_outputs: int
    likelihood: str
    noise_variance: float


def _layer(key: jax.Array, fan_in: int, fan_out: int) -> tuple[jax.Array, jax.Array]:
    """Weights and biases uniform on ``+-1/sqrt(fan_in)`` (Equinox's ``Linear`` default)."""
    key_w, key_b = jax.random.split(key)
    bound = 1.0 / math.sqrt(fan_in)
    weight = jax.random.uniform(key_w, (fan_out, fan_in), jnp.float32, -bound, bound)
    return weight, jax.random.uniform(key_b, (fan_out,), jnp.float32, -bound, bound)


def init_params(config: Config, key: jax.Array, capacity: int) -> dict[str, Any]:
    """Fresh trunk and ``capacity`` output layers (room for tasks to come, so shapes stay put)."""
    key_trunk, key_head = jax.random.split(key)
    keys = jax.random.split(key_trunk, max(len(config.sizes) - 1, 1))
    trunk = tuple(_layer(k, a, b) for k, a, b in zip(keys, config.sizes[:-1], config.sizes[1:], strict=False))
    weight, bias = jax.vmap(lambda k: _layer(k, config.sizes[-1], config.num_outputs))(
        jax.random.split(key_head, capacity)
    )
    return {"trunk": trunk, "head_w": weight, "head_b": bias}


def set_head(tree: dict[str, Any], index: int, weight: Any, bias: Any) -> dict[str, Any]:
    """``tree`` with output layer ``index`` replaced."""
    return {
        "trunk": tree["trunk"],
        "head_w": tree["head_w"].at[index].set(weight),
        "head_b": tree["head_b"].at[index].set(bias),
    }


def fresh_head(config: Config, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """One newly initialized output layer."""
    return _layer(key, config.sizes[-1], config.num_outputs)


def grow_heads(config: Config, params: dict[str, Any], key: jax.Array, capacity: int) -> dict[str, Any]:
    """The parameters with fresh output layers appended up to ``capacity``."""
    extra = init_params(config, key, capacity - params["head_w"].shape[0])
    return {
        "trunk": params["trunk"],
        "head_w": jnp.concatenate([params["head_w"], extra["head_w"]]),
        "head_b": jnp.concatenate([params["head_b"], extra["head_b"]]),
    }


def _entries(params: dict[str, Any], trunk: bool, heads: jax.Array) -> jax.Array:
    """``(P,)`` booleans over the flattened weights: the trunk's (if ``trunk``) and those of the heads marked."""
    mask = jax.tree.map(lambda leaf: jnp.full(leaf.shape, trunk), params)
    mask["head_w"] = jnp.broadcast_to(heads[:, None, None], params["head_w"].shape)
    mask["head_b"] = jnp.broadcast_to(heads[:, None], params["head_b"].shape)
    return ravel_pytree(mask)[0]


def used_entries(params: dict[str, Any], count: int) -> jax.Array:
    """``(P,)`` booleans: which flattened weights belong to the trunk or the first ``count`` output layers."""
    return _entries(params, True, jnp.arange(params["head_w"].shape[0]) < count)


def head_entries(params: dict[str, Any], index: int) -> jax.Array:
    """``(P,)`` booleans: which flattened weights belong to output layer ``index``."""
    return _entries(params, False, jnp.arange(params["head_w"].shape[0]) == index)


def _trunk(params: dict[str, Any], x: jax.Array) -> jax.Array:
    """The last hidden layer's activations (the inputs themselves for a linear model)."""
    h = x
    for weight, bias in params["trunk"]:
        h = jax.nn.relu(h @ weight.T + bias)
    return h


def outputs(params: dict[str, Any], x: jax.Array, heads: jax.Array) -> jax.Array:
    """``(n, C)`` outputs of rows ``x`` ``(n, d)``, each read from output layer ``heads[i]``."""
    return _read_heads(jnp.einsum("nh,tch->ntc", _trunk(params, x), params["head_w"]) + params["head_b"], heads)


def _read_heads(every: jax.Array, heads: jax.Array) -> jax.Array:
    """``(n, C)`` from ``(n, T, C)``: each row's own head (every head computed: gathering weights per row is slower)."""
    if every.shape[1] == 1:
        return every[:, 0]
    return jnp.take_along_axis(every, heads[:, None, None], axis=1)[:, 0]


def log_likelihood(config: Config, out: jax.Array, y: jax.Array) -> jax.Array:
    """``(n,)`` log-likelihood of each target: a class index, or a real value under ``N(out, sigma^2)``."""
    if config.likelihood == "categorical":
        return jnp.take_along_axis(jax.nn.log_softmax(out), y[:, None].astype(jnp.int32), axis=1)[:, 0]
    variance = config.noise_variance
    return -0.5 * (jnp.log(2 * jnp.pi * variance) + (y - out[:, 0]) ** 2 / variance)


def times(precision: jax.Array, vector: jax.Array) -> jax.Array:
    """``precision @ vector`` for a diagonal ``(P,)`` or full ``(P, P)`` precision."""
    return precision * vector if precision.ndim == 1 else precision @ vector


def _penalty(flat: jax.Array, precision: jax.Array, shift: jax.Array) -> jax.Array:
    """Negative log of the Gaussian prior (up to a constant): ``0.5 theta' P theta - shift' theta``."""
    return 0.5 * flat @ times(precision, flat) - shift @ flat


def _sampled_outputs(q: dict[str, Any], x: jax.Array, heads: jax.Array, key: jax.Array) -> jax.Array:
    """Outputs with each pre-activation drawn from its Gaussian under ``q`` (local reparameterization)."""
    mean, std = q["mean"], jax.tree.map(jax.nn.softplus, q["rho"])
    keys = jax.random.split(key, len(mean["trunk"]) + 1)
    h = x
    for (w_mean, b_mean), (w_std, b_std), layer_key in zip(mean["trunk"], std["trunk"], keys, strict=False):
        centre, spread = h @ w_mean.T + b_mean, h**2 @ (w_std**2).T + b_std**2
        h = jax.nn.relu(centre + jnp.sqrt(spread) * jax.random.normal(layer_key, centre.shape))
    centre = _read_heads(jnp.einsum("nh,tch->ntc", h, mean["head_w"]) + mean["head_b"], heads)
    spread = _read_heads(jnp.einsum("nh,tch->ntc", h**2, std["head_w"] ** 2) + std["head_b"] ** 2, heads)
    return centre + jnp.sqrt(spread) * jax.random.normal(keys[-1], centre.shape)


def mean_field_kl(q: dict[str, Any], prior_mean: dict[str, Any], prior_var: dict[str, Any]) -> jax.Array:
    """``KL(q || prior)`` of two mean-field Gaussians, summed over every weight (``bayeskit.info.kl_normal``)."""
    terms = jax.tree.map(
        lambda m, r, pm, pv: jnp.sum(kl_normal(m, jax.nn.softplus(r) ** 2, pm, pv)),
        q["mean"],
        q["rho"],
        prior_mean,
        prior_var,
    )
    return sum(jax.tree.leaves(terms))


_STEPS = 32


@functools.lru_cache(maxsize=16)
def _step_program(config: Config, kind: str) -> Any:
    """Jitted: ``_STEPS`` Adam steps over pre-gathered minibatches, one compile per network shape.

    ``(state, adam_state, prior_a, prior_b, xs, ys, hs, valid, rates, key, num_rows) ->
    (state, adam_state, losses)``. ``kind="map"``: the loss is the mean negative
    log-likelihood plus the Gaussian prior ``(precision, shift)``'s penalty over
    ``num_rows``; ``kind="vcl"``: the sampled mean negative log-likelihood plus ``KL(q ||
    prior) / num_rows`` with the mean-field prior ``(mean, variance)``. Steps whose
    ``valid`` is false (the padding of the last call) change nothing.
    """
    import optax

    adam = optax.scale_by_adam()

    def loss(state, prior_a, prior_b, xb, yb, hb, key, num_rows):
        if kind == "vcl":
            nll = -jnp.mean(log_likelihood(config, _sampled_outputs(state, xb, hb, key), yb))
            return nll + mean_field_kl(state, prior_a, prior_b) / num_rows
        nll = -jnp.mean(log_likelihood(config, outputs(state, xb, hb), yb))
        return nll + _penalty(ravel_pytree(state)[0], prior_a, prior_b) / num_rows

    def run(state, adam_state, prior_a, prior_b, xs, ys, hs, valid, rates, key, num_rows):
        def step(carry, inputs):
            state, adam_state, key = carry
            xb, yb, hb, ok, rate = inputs
            key, sub = jax.random.split(key)
            value, grads = jax.value_and_grad(loss)(state, prior_a, prior_b, xb, yb, hb, sub, num_rows)
            updates, moved = adam.update(grads, adam_state)
            stepped = jax.tree.map(lambda p, u: p - rate * u, state, updates)
            keep = functools.partial(jnp.where, ok)
            return (jax.tree.map(keep, stepped, state), jax.tree.map(keep, moved, adam_state), key), value * ok

        (state, adam_state, _), values = jax.lax.scan(step, (state, adam_state, key), (xs, ys, hs, valid, rates))
        return state, adam_state, values

    return jax.jit(run)


def train(
    config: Config,
    kind: str,
    state: Any,
    prior: tuple[Any, Any],
    data: tuple[Any, Any, Any],
    key: jax.Array,
    schedule: tuple[int, int, float],
) -> tuple[Any, Any]:
    """Adam with a cosine-decayed step size over ``epochs`` shuffled passes; returns the state and each epoch's loss.

    ``data`` is ``(x, y, heads)`` as NumPy arrays and ``schedule`` ``(epochs, batch_size,
    learning_rate)``. Minibatches are gathered here and fed ``_STEPS`` at a time to one
    compiled program, so tasks of any size (and joint training on a growing pool) reuse it.
    """
    import numpy as np
    import optax

    from bayeskit._rng import as_generator

    x, y, heads = data
    epochs, batch_size, learning_rate = schedule
    num_rows = x.shape[0]
    per_epoch = num_rows // batch_size
    total = epochs * per_epoch
    rng = as_generator(key)
    order = np.concatenate([rng.permutation(num_rows)[: per_epoch * batch_size] for _ in range(epochs)])
    order = order.reshape(total, batch_size)
    rates = learning_rate * 0.5 * (1.0 + np.cos(np.pi * np.arange(total) / total))
    program, adam_state = _step_program(config, kind), optax.scale_by_adam().init(state)
    losses = []
    for start in range(0, total, _STEPS):
        rows = order[start : start + _STEPS]
        pad = _STEPS - rows.shape[0]
        valid = np.arange(_STEPS) < rows.shape[0]
        rows = np.concatenate([rows, np.zeros((pad, batch_size), rows.dtype)])
        step_rates = np.concatenate([rates[start : start + _STEPS], np.zeros(pad)]).astype(np.float32)
        state, adam_state, values = program(
            state,
            adam_state,
            *prior,
            jnp.asarray(x[rows], jnp.float32),
            jnp.asarray(y[rows]),
            jnp.asarray(heads[rows]),
            jnp.asarray(valid),
            jnp.asarray(step_rates),
            jax.random.fold_in(key, start),
            jnp.float32(num_rows),
        )
        losses.append(np.asarray(values)[: _STEPS - pad])
    return state, np.concatenate(losses).reshape(epochs, per_epoch).mean(axis=1)


def _output_factor(config: Config, out: jax.Array) -> jax.Array:
    """``L`` with ``L L' = Lambda``, the outputs' Hessian of the negative log-likelihood, ``(C, C)`` for one row."""
    if config.likelihood == "categorical":
        p = jax.nn.softmax(out)
        root = jnp.sqrt(p)
        return jnp.diag(root) - p[:, None] * root[None, :]
    return jnp.eye(out.shape[0]) / math.sqrt(config.noise_variance)


@functools.partial(jax.jit, static_argnames="config")
def _diagonal_chunk(config: Config, params, x, heads, mask):
    """The GGN's diagonal from per-row gradients at each layer's pre-activations (no per-row Jacobian is formed).

    For a linear layer ``z = W a + b`` the gradient of ``L_c' f`` in ``W`` is ``g_c a'``, so
    its squares summed over rows and classes are ``(sum_c g_c^2)' a^2``: one matrix product.
    """
    trunk = params["trunk"]

    def forward(offsets):
        inputs, h = [], x
        for (weight, bias), offset in zip(trunk, offsets[:-1], strict=True):
            inputs.append(h)
            h = jax.nn.relu(h @ weight.T + bias + offset)
        inputs.append(h)
        every = jnp.einsum("nh,tch->ntc", h, params["head_w"]) + params["head_b"]
        return _read_heads(every, heads) + offsets[-1], inputs

    offsets = tuple(jnp.zeros((x.shape[0], w.shape[0]), x.dtype) for w, _ in trunk)
    offsets += (jnp.zeros((x.shape[0], config.num_outputs), x.dtype),)
    out, pull, inputs = jax.vjp(forward, offsets, has_aux=True)
    factors = jax.vmap(functools.partial(_output_factor, config))(out)  # (n, C, C)
    grads = jax.vmap(lambda c: pull(factors[:, :, c] * mask[:, None])[0])(jnp.arange(config.num_outputs))
    squares = [jnp.sum(g**2, axis=0) for g in grads]  # per layer, (n, width) summed over the classes
    layers = tuple((s.T @ a**2, jnp.sum(s, axis=0)) for s, a in zip(squares[:-1], inputs[:-1], strict=True))
    onehot = jax.nn.one_hot(heads, params["head_w"].shape[0], dtype=x.dtype)
    head_w = jnp.einsum("nt,no,nh->toh", onehot, squares[-1], inputs[-1] ** 2)
    head_b = jnp.einsum("nt,no->to", onehot, squares[-1])
    return ravel_pytree({"trunk": layers, "head_w": head_w, "head_b": head_b})[0]


@functools.partial(jax.jit, static_argnames="config")
def _full_chunk(config: Config, params, x, heads, mask):
    """The GGN from each row's Jacobian ``J' L`` (for networks small enough to hold ``(P, P)``)."""
    flat, unravel = ravel_pytree(params)

    def one(row, head, weight):
        def f(theta):
            return outputs(unravel(theta), row[None], head[None])[0]

        jacobian = jax.jacrev(f)(flat)  # (C, P)
        factor = _output_factor(config, f(flat))  # (C, C)
        return weight * (jacobian.T @ factor)  # (P, C): J' L

    g = jax.vmap(one)(x, heads, mask)  # (chunk, P, C)
    return jnp.einsum("npc,nqc->pq", g, g)


def curvature(config: Config, params: dict[str, Any], x: Any, heads: Any, full: bool) -> jax.Array:
    """The GGN (= Fisher) of the rows' negative log-likelihood at ``params``: its diagonal ``(P,)`` or all ``(P, P)``.

    ``x`` and ``heads`` are NumPy arrays; rows go through in fixed-size chunks (the last
    one padded and masked), so one compiled program serves any number of rows.
    """
    program = _full_chunk if full else _diagonal_chunk
    return _summed_over_chunks(lambda *chunk: program(config, params, *chunk), x, heads, _CHUNK)


def _summed_over_chunks(program: Any, x: Any, heads: Any, size: int) -> jax.Array:
    """``sum program(rows, heads, mask)`` over chunks of ``size`` rows, the last padded and masked (one compile)."""
    import numpy as np

    x, heads = np.asarray(x, np.float32), np.asarray(heads, np.int32)
    total = None
    for start in range(0, x.shape[0], size):
        rows, head = x[start : start + size], heads[start : start + size]
        pad = size - rows.shape[0]
        mask = (np.arange(size) < rows.shape[0]).astype(np.float32)
        rows = np.concatenate([rows, np.zeros((pad, rows.shape[1]), np.float32)])
        part = program(rows, np.concatenate([head, np.zeros(pad, np.int32)]), mask)
        total = part if total is None else total + part
    return total


def extend_prior(
    old_params: dict[str, Any], new_params: dict[str, Any], precision: jax.Array, shift: jax.Array, base: float
) -> tuple[jax.Array, jax.Array]:
    """The prior over ``new_params``' flat layout: the old entries kept, new heads' weights at ``N(0, 1/base)``."""
    positions, _ = ravel_pytree(_padded_like(_index_tree(old_params), new_params))
    known = positions >= 0
    source = jnp.where(known, positions, 0)
    new_shift = jnp.where(known, shift[source], 0.0)
    if precision.ndim == 1:
        return jnp.where(known, precision[source], base), new_shift
    both = known[:, None] & known[None, :]
    matrix = jnp.where(both, precision[source][:, source], 0.0)
    return matrix + jnp.diag(jnp.where(known, 0.0, base)), new_shift


def _index_tree(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with every leaf replaced by its offset into the flat vector (ravel_pytree's order)."""
    leaves, treedef = jax.tree.flatten(params)
    offsets, start = [], 0
    for leaf in leaves:
        offsets.append(start + jnp.arange(leaf.size).reshape(leaf.shape))
        start += leaf.size
    return jax.tree.unflatten(treedef, offsets)


def _padded_like(indices: dict[str, Any], new_params: dict[str, Any]) -> dict[str, Any]:
    """The old offsets where ``new_params`` has the old heads, ``-1`` at the appended heads."""

    def pad(old, new):
        extra = new.shape[0] - old.shape[0]
        return jnp.concatenate([old, jnp.full((extra, *old.shape[1:]), -1, old.dtype)]) if extra else old

    return {
        "trunk": indices["trunk"],
        "head_w": pad(indices["head_w"], new_params["head_w"]),
        "head_b": pad(indices["head_b"], new_params["head_b"]),
    }


@functools.partial(jax.jit, static_argnames="num")
def linearized_draws(
    params: dict[str, Any], precision: jax.Array, x: jax.Array, heads: jax.Array, key: jax.Array, num: int
) -> jax.Array:
    """``(num, n, C)`` outputs of the network linearized at ``params`` (the GLM predictive of a Laplace posterior).

    Each draw ``delta ~ N(0, precision^-1)`` moves the outputs by the Jacobian-vector
    product ``J delta``: exact for a linear model, and for a network the predictive of
    Immer et al. (2021), which unlike sampling the raw network does not underfit.
    """
    flat, unravel = ravel_pytree(params)
    noise = jax.random.normal(key, (num, flat.shape[0]), flat.dtype)
    if precision.ndim == 1:
        deltas = noise / jnp.sqrt(precision)
    else:
        factor = jnp.linalg.cholesky(precision)
        deltas = jax.scipy.linalg.solve_triangular(factor.T, noise.T, lower=False).T

    def f(theta):
        return outputs(unravel(theta), x, heads)

    centre, tangent = jax.linearize(f, flat)
    return centre[None] + jax.vmap(tangent)(deltas)


@functools.partial(jax.jit, static_argnames="num")
def mean_field_draws(q: dict[str, Any], x: jax.Array, heads: jax.Array, key: jax.Array, num: int) -> jax.Array:
    """``(num, n, C)`` outputs of ``num`` whole-network weight draws from the mean-field ``q`` (coherent functions)."""

    def one(draw_key):
        leaves, treedef = jax.tree.flatten(q["mean"])
        rhos = jax.tree.leaves(q["rho"])
        keys = jax.random.split(draw_key, len(leaves))
        drawn = [
            m + jax.nn.softplus(r) * jax.random.normal(k, m.shape) for m, r, k in zip(leaves, rhos, keys, strict=True)
        ]
        return outputs(jax.tree.unflatten(treedef, drawn), x, heads)

    return jax.vmap(one)(jax.random.split(key, num))


def features(params: dict[str, Any], x: jax.Array) -> jax.Array:
    """``(n, H + 1)``: the trunk's last hidden layer (the inputs for a linear model) and a column of ones."""
    h = _trunk(params, x)
    return jnp.concatenate([h, jnp.ones((h.shape[0], 1), h.dtype)], axis=1)


@functools.partial(jax.jit, static_argnames="config")
def _head_block_chunk(config: Config, params, x, heads, mask):
    """``sum_i Lambda_i (x) phi_i phi_i'``: the Gauss-Newton block of one output layer, ``(C (H+1), C (H+1))``."""
    phi = features(params, x) * mask[:, None]
    factor = jax.vmap(functools.partial(_output_factor, config))(outputs(params, x, heads))
    hessian = factor @ jnp.swapaxes(factor, 1, 2)  # (n, C, C)
    size = config.num_outputs * phi.shape[1]
    return jnp.einsum("icd,ip,iq->cpdq", hessian, phi, phi).reshape(size, size)


def head_curvature(config: Config, params: dict[str, Any], x: Any, head: int) -> jax.Array:
    """The full Gauss-Newton matrix of output layer ``head`` over rows ``x`` (the trunk held), in chunks."""
    import numpy as np

    heads = np.full(np.shape(x)[0], head, np.int32)
    return _summed_over_chunks(lambda *chunk: _head_block_chunk(config, params, *chunk), x, heads, 4 * _CHUNK)


def head_weights(params: dict[str, Any], head: int) -> jax.Array:
    """Output layer ``head`` as one vector in :func:`head_curvature`'s order: per class, its weights then bias."""
    return jnp.concatenate([params["head_w"][head], params["head_b"][head][:, None]], axis=1).ravel()


@functools.partial(jax.jit, static_argnames="num")
def last_layer_draws(
    params: dict[str, Any], mean: jax.Array, factor: jax.Array, x: jax.Array, key: jax.Array, num: int
) -> jax.Array:
    """``(num, n, C)`` outputs with one output layer drawn from ``N(mean, (L L')^-1)``, the trunk held.

    ``factor`` is ``L``, the lower Cholesky factor of the layer's precision (computed once per stage).
    """
    phi = features(params, x)
    noise = jax.random.normal(key, (num, mean.shape[0]), mean.dtype)
    weights = mean + jax.scipy.linalg.solve_triangular(factor.T, noise.T, lower=False).T
    return jnp.einsum("np,scp->snc", phi, weights.reshape(num, -1, phi.shape[1]))
