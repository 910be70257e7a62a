"""Networks (Equinox): an MLP, its Bayesian layer, and the heads that turn its outputs into a likelihood.

Core layer: pure functions of immutable pytrees. An MLP with optional dropout in
front of every linear layer (Gal & Ghahramani's placement) or with mean-field
Gaussian weights (Bayes-by-backprop, sampled by the local reparameterization
trick), and one of four heads:

- ``homoscedastic``: a Gaussian with one learned noise scale;
- ``heteroscedastic``: a Gaussian whose variance is a second output (the aleatoric part);
- ``mixture``: a mixture density network with ``num_outputs`` Gaussian components;
- ``categorical``: ``num_outputs`` class logits (classification).

Every regression head is expressed the same way: per input, components
``(means, variances, log_weights)`` (one component for the Gaussian heads).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from bayeskit.info import kl_normal

__all__ = [
    "HEADS",
    "REGRESSION_HEADS",
    "BayesLinear",
    "Network",
    "head_outputs",
    "log_likelihood",
    "output_size",
]

HEADS = ("homoscedastic", "heteroscedastic", "mixture", "categorical")
REGRESSION_HEADS = HEADS[:3]
_MIN_VARIANCE = 1e-6


def output_size(head: str, num_outputs: int) -> int:
    """Width of the last linear layer for ``head`` (``num_outputs``: mixture components or classes)."""
    return {"homoscedastic": 1, "heteroscedastic": 2, "mixture": 3 * num_outputs, "categorical": num_outputs}[head]


def _inverse_softplus(value: float) -> float:
    """A Python float (no JAX op, so a network can be built under ``eval_shape`` for its memory estimate)."""
    return math.log(math.expm1(value))


class BayesLinear(eqx.Module):
    """A linear layer with independent Gaussian weights ``N(mean, softplus(rho)^2)``.

    Called with a key it samples the pre-activations directly (local
    reparameterization, Kingma, Salimans & Welling 2015): for one input row the
    output is Gaussian with mean ``W_mean x + b_mean`` and variance
    ``W_std^2 x^2 + b_std^2``. Without a key it uses the mean weights.
    """

    weight_mean: jax.Array
    weight_rho: jax.Array
    bias_mean: jax.Array
    bias_rho: jax.Array

    def __init__(self, in_size: int, out_size: int, init_std: float, key: jax.Array):
        linear = eqx.nn.Linear(in_size, out_size, key=key)
        rho = _inverse_softplus(init_std)
        self.weight_mean, self.bias_mean = linear.weight, linear.bias
        self.weight_rho = jnp.full(linear.weight.shape, rho, dtype=jnp.float32)
        self.bias_rho = jnp.full(linear.bias.shape, rho, dtype=jnp.float32)

    def __call__(self, x: jax.Array, key: jax.Array | None = None) -> jax.Array:
        mean = self.weight_mean @ x + self.bias_mean
        if key is None:
            return mean
        variance = jax.nn.softplus(self.weight_rho) ** 2 @ x**2 + jax.nn.softplus(self.bias_rho) ** 2
        return mean + jnp.sqrt(variance) * jax.random.normal(key, mean.shape)

    def kl(self, prior_variance: float) -> jax.Array:
        """``KL(q || N(0, prior_variance))`` summed over weights and biases (closed form, ``bayeskit.info``)."""
        total = jnp.sum(kl_normal(self.weight_mean, jax.nn.softplus(self.weight_rho) ** 2, 0.0, prior_variance))
        return total + jnp.sum(kl_normal(self.bias_mean, jax.nn.softplus(self.bias_rho) ** 2, 0.0, prior_variance))

    def sample(self, key: jax.Array) -> BayesLinear:
        """One draw of the whole weight matrix, as a layer with (numerically) zero spread."""
        key_w, key_b = jax.random.split(key)
        weight = self.weight_mean + jax.nn.softplus(self.weight_rho) * jax.random.normal(key_w, self.weight_rho.shape)
        bias = self.bias_mean + jax.nn.softplus(self.bias_rho) * jax.random.normal(key_b, self.bias_rho.shape)
        tiny = jnp.full_like(self.weight_rho, -30.0), jnp.full_like(self.bias_rho, -30.0)
        return eqx.tree_at(
            lambda layer: (layer.weight_mean, layer.bias_mean, layer.weight_rho, layer.bias_rho),
            self,
            (weight, bias, *tiny),
        )


class Network(eqx.Module):
    """An MLP with a likelihood head; ``__call__(x, key)`` gives the raw outputs for one input row.

    With ``key`` the network is stochastic: dropout masks (``dropout > 0``) and, for
    ``prior_variance > 0`` (Bayes-by-backprop), sampled pre-activations. Without a
    key it is the deterministic mean network.
    """

    layers: tuple
    log_noise: jax.Array
    dropout: float = eqx.field(static=True)
    head: str = eqx.field(static=True)
    num_outputs: int = eqx.field(static=True)
    prior_variance: float = eqx.field(static=True)
    activation: Callable = eqx.field(static=True)

    def __init__(
        self,
        in_size: int,
        hidden: tuple[int, ...],
        dropout: float,
        head: str,
        key: jax.Array,
        num_outputs: int = 1,
        prior_variance: float = 0.0,
        init_std: float = 1e-3,
    ):
        sizes = (in_size, *hidden, output_size(head, num_outputs))
        keys = jax.random.split(key, len(sizes) - 1)
        if prior_variance > 0:
            layers = [BayesLinear(a, b, init_std, k) for a, b, k in zip(sizes[:-1], sizes[1:], keys, strict=True)]
        else:
            layers = [eqx.nn.Linear(a, b, key=k) for a, b, k in zip(sizes[:-1], sizes[1:], keys, strict=True)]
        self.layers = tuple(layers)
        # Explicit dtypes throughout: a weakly typed leaf turns strong after one update, and the changed
        # signature would compile the training program a second time.
        self.log_noise = jnp.asarray(-1.0, dtype=jnp.float32)
        self.dropout = float(dropout)
        self.head = head
        self.num_outputs = int(num_outputs)
        self.prior_variance = float(prior_variance)
        self.activation = jax.nn.relu

    @property
    def stochastic(self) -> bool:
        """Whether a key changes the output (dropout or Bayesian weights)."""
        return self.dropout > 0 or self.prior_variance > 0

    def hidden_features(self, x: jax.Array) -> jax.Array:
        """The last hidden layer's activations of the mean network (the input itself for a linear model)."""
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return x

    def _apply(self, layer, x: jax.Array, key: jax.Array | None) -> jax.Array:
        if key is None:
            return layer(x)
        key_drop, key_layer = jax.random.split(key)
        if self.dropout > 0:
            keep = jax.random.bernoulli(key_drop, 1.0 - self.dropout, x.shape)
            x = jnp.where(keep, x / (1.0 - self.dropout), 0.0)
        return layer(x, key_layer) if isinstance(layer, BayesLinear) else layer(x)

    def __call__(self, x: jax.Array, key: jax.Array | None = None) -> jax.Array:
        keys = [None] * len(self.layers) if key is None else list(jax.random.split(key, len(self.layers)))
        for index, (layer, layer_key) in enumerate(zip(self.layers, keys, strict=True)):
            x = self._apply(layer, x, layer_key)
            if index < len(self.layers) - 1:
                x = self.activation(x)
        return x

    def kl(self) -> jax.Array:
        """KL of the weight posterior to the prior (0 for a point-estimate network)."""
        if self.prior_variance <= 0:
            return jnp.asarray(0.0)
        return sum(layer.kl(self.prior_variance) for layer in self.layers)

    def sample_weights(self, key: jax.Array) -> Network:
        """A network with one draw of every Bayesian weight (itself when it has none)."""
        if self.prior_variance <= 0:
            return self
        keys = jax.random.split(key, len(self.layers))
        layers = tuple(layer.sample(k) for layer, k in zip(self.layers, keys, strict=True))
        return eqx.tree_at(lambda network: network.layers, self, layers)


def head_outputs(network: Network, raw: jax.Array) -> tuple[jax.Array, ...]:
    """Per input: ``(means, variances, log_weights)`` of the components, or ``(log_probs,)`` for classes."""
    if network.head == "categorical":
        return (jax.nn.log_softmax(raw),)
    if network.head == "homoscedastic":
        return raw[:1], jnp.exp(2.0 * network.log_noise)[None] + _MIN_VARIANCE, jnp.zeros(1)
    if network.head == "heteroscedastic":
        return raw[:1], jax.nn.softplus(raw[1:2]) + _MIN_VARIANCE, jnp.zeros(1)
    c = network.num_outputs
    return raw[c : 2 * c], jax.nn.softplus(raw[2 * c :]) + _MIN_VARIANCE, jax.nn.log_softmax(raw[:c])


def log_likelihood(network: Network, raw: jax.Array, y: jax.Array) -> jax.Array:
    """Log density (or log probability of the class) of one target under the head."""
    if network.head == "categorical":
        return jax.nn.log_softmax(raw)[y]
    means, variances, log_weights = head_outputs(network, raw)
    terms = -0.5 * (jnp.log(2 * jnp.pi * variances) + (y - means) ** 2 / variances)
    return jax.scipy.special.logsumexp(log_weights + terms)
