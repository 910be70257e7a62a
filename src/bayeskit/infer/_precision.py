"""``precision="float64"``: an inference call run inside ``jax.enable_x64``, leaving JAX's global setting alone."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from bayeskit._validate import check_choice

__all__ = ["PRECISIONS", "as_float64", "with_precision"]

PRECISIONS = ("float32", "float64")


def as_float64(tree: Any) -> Any:
    """Floating NumPy/JAX arrays as float64 NumPy arrays; Python numbers, integers, bools and the rest untouched."""
    import jax

    def cast(value: Any) -> Any:
        dtype = getattr(value, "dtype", None)
        if isinstance(dtype, np.dtype) and np.issubdtype(dtype, np.floating):
            return np.asarray(value, dtype=np.float64)
        return value

    return jax.tree.map(cast, tree, is_leaf=lambda x: x is None)


def with_precision(function: Any) -> Any:
    """Give ``function(model, *args, precision=..., **kwargs)`` its float64 mode.

    With ``precision="float64"`` (and x64 not already on) the call, compilation
    included, runs inside ``jax.enable_x64(True)`` with floating data cast to float64;
    the function still receives ``precision`` (it belongs in its program's cache key).
    """

    @functools.wraps(function)
    def wrapper(model: Any, *args: Any, precision: str = "float32", **kwargs: Any) -> Any:
        import jax

        check_choice(precision, "precision", PRECISIONS)
        if precision == "float64" and not jax.config.jax_enable_x64:
            with jax.enable_x64(True):
                return function(model, *as_float64(args), precision=precision, **as_float64(kwargs))
        return function(model, *args, precision=precision, **kwargs)

    return wrapper
