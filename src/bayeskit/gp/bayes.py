"""Fully Bayesian GP hyperparameters: NUTS (through ``bayeskit.infer``) over the kernel and noise.

The kernel's log-hyperparameters get independent ``Normal(initial value, prior_scale)``
priors (centred on the values the kernel was built with), the log noise variance
likewise; the marginal likelihood ``N(y; 0, K + noise I)`` integrates the function
out exactly, so NUTS moves in a handful of dimensions. The predictive mixes the
exact GP predictives of thinned posterior draws.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from bayeskit.gp.kernels import AbstractKernel

__all__ = ["gp_marginal_model", "hyperparameter_names", "sample_hyperparameters"]


def gp_marginal_model(x, y, prior_loc, noise_loc, prior_scale, unravel):
    """NumPyro model: log-hyperparameters and log noise with Gaussian priors; ``y`` with ``f`` integrated out."""
    import numpyro
    import numpyro.distributions as dist

    theta = numpyro.sample("log_hyperparameters", dist.Normal(prior_loc, prior_scale).to_event(1))
    log_noise = numpyro.sample("log_noise_variance", dist.Normal(noise_loc, prior_scale))
    kernel = unravel(theta)
    size = x.shape[0]
    covariance = kernel(x) + (jnp.exp(log_noise) + 1e-8) * jnp.eye(size, dtype=x.dtype)
    numpyro.sample("y", dist.MultivariateNormal(jnp.zeros(size, dtype=x.dtype), covariance_matrix=covariance), obs=y)


def hyperparameter_names(kernel: AbstractKernel) -> list[str]:
    """Names of the entries of the raveled log-hyperparameter vector, in order."""
    names = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(kernel)[0]:
        label = ".".join(str(getattr(part, "name", part)).lstrip(".") for part in path)
        size = int(np.size(leaf))
        names += [label] if size == 1 else [f"{label}[{i}]" for i in range(size)]
    return names


def sample_hyperparameters(
    kernel: AbstractKernel,
    x: np.ndarray,
    y: np.ndarray,
    noise_variance: float,
    key: Any,
    prior_scale: float = 1.5,
    num_chains: int = 4,
    num_warmup: int = 500,
    num_samples: int = 500,
    progress: bool = False,
) -> tuple[Any, Any]:
    """NUTS over the hyperparameters (float64); returns the ``DrawsPosterior`` and the unravel function."""
    from bayeskit.infer import nuts

    with jax.enable_x64(True):
        vector, unravel = ravel_pytree(jax.tree.map(lambda leaf: jnp.asarray(leaf, jnp.float64), kernel))
        posterior = nuts(
            gp_marginal_model,
            jnp.asarray(x, jnp.float64),
            jnp.asarray(y, jnp.float64),
            vector,
            jnp.log(jnp.asarray(noise_variance, jnp.float64)),
            jnp.asarray(prior_scale, jnp.float64),
            unravel,
            key=key,
            num_chains=num_chains,
            num_warmup=num_warmup,
            num_samples=num_samples,
            progress=progress,
        )
    return posterior, unravel
