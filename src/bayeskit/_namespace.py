"""Pick NumPy/SciPy or jax.numpy for closed-form math, by the kind of array passed in."""

from __future__ import annotations

import types
from typing import Any

__all__ = ["is_jax", "namespace"]


def is_jax(*arrays: Any) -> bool:
    """Whether any argument is a JAX array or tracer (so the math must stay in JAX)."""
    return any(type(a).__module__.startswith(("jax", "jaxlib")) for a in arrays)


def namespace(*arrays: Any) -> types.SimpleNamespace:
    """Array functions and special functions for the inputs: JAX under jit/grad, else NumPy/SciPy."""
    if is_jax(*arrays):
        import jax.numpy as xp
        from jax.scipy import special
    else:
        import numpy as xp
        from scipy import special
    return types.SimpleNamespace(
        xp=xp,
        gammaln=special.gammaln,
        digamma=special.digamma,
        betaln=special.betaln,
        xlogy=special.xlogy,
    )
