"""Explicit randomness, one convention: a key is a JAX key, a NumPy Generator or an int seed, never defaulted."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_generator", "as_jax_key", "raw_key", "substream"]


def as_generator(key: Any) -> np.random.Generator:
    """A NumPy Generator for ``key``, never falling back to global state.

    Parameters
    ----------
    key
        A ``numpy.random.Generator`` (used as is), an ``int`` seed, or a JAX PRNG key
        (new-style typed or legacy ``uint32``; its key data seed the Generator through
        ``numpy.random.SeedSequence``, so different keys give independent streams and
        the same key gives the same draws).

    Raises
    ------
    TypeError
        For ``None`` or anything else: randomness is never defaulted silently.

    """
    if isinstance(key, np.random.Generator):
        return key
    if _is_int_seed(key):
        return np.random.default_rng(int(key))
    if _is_raw_key_data(key):
        return np.random.default_rng(np.asarray(key, dtype=np.uint32).ravel().tolist())
    if type(key).__module__.startswith(("jax", "jaxlib")):
        import jax

        data = key
        if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
            data = jax.random.key_data(key)
        return np.random.default_rng(np.asarray(data, dtype=np.uint32).ravel().tolist())
    raise _key_error(key)


def _is_int_seed(key: Any) -> bool:
    """True for an int seed (bools are not seeds); a negative one is an error."""
    if not isinstance(key, int | np.integer) or isinstance(key, bool):
        return False
    if key < 0:
        raise ValueError(f"`key` as an int seed must be >= 0; got {int(key)}.")
    return True


def _key_error(key: Any) -> TypeError:
    return TypeError(
        "`key` must be a JAX key, a numpy.random.Generator or an int seed; "
        f"got {type(key).__name__}. Pass e.g. key=0 or jax.random.key(0)."
    )


def _is_raw_key_data(key: Any) -> bool:
    """Legacy JAX key data held in NumPy: ``uint32`` with a last axis of 2."""
    return isinstance(key, np.ndarray) and key.dtype == np.uint32 and key.shape[-1:] == (2,)


def as_jax_key(key: Any) -> Any:
    """A JAX PRNG key for ``key`` (a JAX key as is; an int seeds ``jax.random.key``; a Generator draws a seed)."""
    import jax

    if isinstance(key, np.random.Generator):
        return jax.random.key(int(key.integers(0, 2**63 - 1)))
    if _is_int_seed(key):
        return jax.random.key(int(key))
    if hasattr(key, "dtype") and type(key).__module__.startswith(("jax", "jaxlib")):
        return key
    if _is_raw_key_data(key):  # legacy key data held in NumPy, e.g. from raw_key()
        return jax.numpy.asarray(key)
    raise _key_error(key)


def raw_key(key: Any) -> np.ndarray:
    """The uint32 data of any accepted key (an int seed gives the data of ``jax.random.PRNGKey(seed)``)."""
    import jax

    key = as_jax_key(key)
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return np.asarray(key, dtype=np.uint32)


def substream(key: Any, index: int) -> Any:
    """An independent sub-stream of ``key``: the JAX key ``fold_in(key, index)`` (never seed arithmetic)."""
    import jax

    return jax.random.fold_in(raw_key(key), index)
