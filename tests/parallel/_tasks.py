"""Functions that worker processes import by name for the fan-out tests."""

import os
import signal
from pathlib import Path

import numpy as np
import numpyro
import numpyro.distributions as dist


def square(x):
    return x * x


def fails_on_three(x):
    if x == 3:
        raise ValueError("three is not allowed")
    return x


class KilledOnce:
    """The first call anywhere SIGKILLs its own worker (after noting its item); later calls return the item."""

    def __init__(self, marker):
        self.marker = Path(marker)

    def __call__(self, item):
        try:
            with open(self.marker, "x") as handle:
                handle.write(repr(item))
        except FileExistsError:
            return item
        os.kill(os.getpid(), signal.SIGKILL)


def always_killed(item):
    os.kill(os.getpid(), signal.SIGKILL)


def regression(x, y=None):
    w = numpyro.sample("w", dist.Normal(0.0, 1.0).expand([x.shape[1]]).to_event(1))
    numpyro.sample("y", dist.Normal(x @ w, 1.0), obs=y)


def fit_group(group):
    """One group's own model: a Laplace fit of its rows, its draws as NumPy."""
    from bayeskit.infer import laplace

    key, x, y = group
    posterior = laplace(regression, x, y=y, key=key, num_draws=200)
    return {name: np.asarray(value) for name, value in posterior.draws.items()}


def returns_a_lambda(item):
    return lambda: item


def jax_config(item):
    """The worker's JAX settings that the driver's should reach: the cache folder and the float precision."""
    import jax
    import jax.numpy as jnp

    return jax.config.jax_compilation_cache_dir, jnp.asarray(1.0).dtype.name
