"""Explicit randomness for the exact engines: accept a NumPy Generator, an integer seed, or a JAX key."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_generator", "check_jax_key"]


def as_generator(rng: Any) -> np.random.Generator:
    """Return a NumPy Generator for ``rng`` without ever falling back to global state.

    Parameters
    ----------
    rng
        A ``numpy.random.Generator`` (used as is), an ``int`` seed, or a JAX PRNG key
        (its key data seed a new Generator, so the same key gives the same draws).

    Raises
    ------
    TypeError
        For ``None`` or anything else: randomness is never defaulted silently.

    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if type(rng).__module__.startswith(("jax", "jaxlib")):
        import jax

        data = rng
        if jax.dtypes.issubdtype(rng.dtype, jax.dtypes.prng_key):
            data = jax.random.key_data(rng)
        return np.random.default_rng(np.asarray(data, dtype=np.uint32).ravel().tolist())
    raise TypeError(
        "`rng` must be a numpy.random.Generator, an int seed or a JAX key; "
        f"got {type(rng).__name__}. Pass e.g. np.random.default_rng(0)."
    )


def check_jax_key(key: Any) -> Any:
    """Require a JAX PRNG key (the JAX engines never default or seed one themselves)."""
    if not (hasattr(key, "dtype") and type(key).__module__.startswith(("jax", "jaxlib"))):
        raise TypeError(f"`key` must be a JAX PRNG key, e.g. jax.random.key(0); got {type(key).__name__}.")
    return key
