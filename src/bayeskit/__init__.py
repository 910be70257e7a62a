"""bayeskit: Bayesian machine learning that tells the truth about its own uncertainty.

Submodules load on first use, so ``import bayeskit`` is fast and never touches
JAX's global configuration::

    >>> from bayeskit.conjugate import BetaBinomial
    >>> BetaBinomial(alpha=2, beta=2).update(successes=3, trials=10)
    BetaBinomial(alpha=5.0, beta=9.0)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = frozenset(
    {
        "cli",
        "compare",
        "compilation_cache",
        "conjugate",
        "datasets",
        "decide",
        "estimate",
        "evaluate",
        "gp",
        "infer",
        "info",
        "models",
        "nn",
        "optimize",
        "posterior",
        "report",
        "resources",
        "sequential",
    }
)

__all__ = ["__version__", *sorted(_SUBMODULES)]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"bayeskit.{name}")
    raise AttributeError(f"module 'bayeskit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
