"""Acquisition functions for minimization, from a Gaussian predictive ``(mean, std)`` and the best value so far.

All are "larger is better". ``log_expected_improvement`` is computed in log space
with the asymptotics of Ament et al. (2023), so it stays finite and informative far
below the incumbent, where plain EI underflows to 0 and leaves the optimizer flat.

References
----------
Jones, Schonlau & Welch (1998). Efficient global optimization of expensive black-box functions.
Ament, Daulton, Eriksson, Balandat & Bakshy (2023). Unexpected improvements to expected improvement
for Bayesian optimization. NeurIPS (eq. 9).
Srinivas, Krause, Kakade & Seeger (2010). Gaussian process optimization in the bandit setting (GP-UCB).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

__all__ = [
    "ACQUISITIONS",
    "expected_improvement",
    "log_expected_improvement",
    "lower_confidence_bound",
    "probability_of_improvement",
]

ACQUISITIONS = ("logei", "ei", "pi", "ucb", "thompson")
_C1 = 0.5 * np.log(2 * np.pi)
_C2 = 0.5 * np.log(np.pi / 2)


def _log1mexp(a: np.ndarray) -> np.ndarray:
    """``log(1 - exp(a))`` for ``a < 0``, accurate at both ends."""
    return np.where(a > -np.log(2.0), np.log(-np.expm1(a)), np.log1p(-np.exp(a)))


def _log_h(z: np.ndarray) -> np.ndarray:
    """``log(phi(z) + z Phi(z))``, the log of EI for unit scale."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    upper = z > -1
    out[upper] = np.log(stats.norm.pdf(z[upper]) + z[upper] * stats.norm.cdf(z[upper]))
    middle = (~upper) & (z > -1 / np.sqrt(np.finfo(float).eps))
    zm = z[middle]
    out[middle] = -(zm**2) / 2 - _C1 + _log1mexp(np.log(special.erfcx(-zm / np.sqrt(2)) * np.abs(zm)) + _C2)
    far = ~(upper | middle)
    out[far] = -(z[far] ** 2) / 2 - _C1 - 2 * np.log(np.abs(z[far]))
    return out


def log_expected_improvement(mean: Any, std: Any, best: float) -> np.ndarray:
    """``log E[max(best - f, 0)]`` under ``f ~ N(mean, std^2)`` (minimization).

    Examples
    --------
    >>> float(np.exp(log_expected_improvement(0.0, 1.0, 0.0)))  # phi(0)
    0.3989422804014327
    >>> bool(np.isfinite(log_expected_improvement(50.0, 1.0, 0.0)))  # EI itself underflows here
    True
    """
    mean, std = np.asarray(mean, dtype=float), np.maximum(np.asarray(std, dtype=float), 1e-12)
    return np.log(std) + _log_h((best - mean) / std)


def expected_improvement(mean: Any, std: Any, best: float) -> np.ndarray:
    """``E[max(best - f, 0)]`` (minimization)."""
    return np.exp(log_expected_improvement(mean, std, best))


def probability_of_improvement(mean: Any, std: Any, best: float) -> np.ndarray:
    """``P(f < best)``."""
    std = np.maximum(np.asarray(std, dtype=float), 1e-12)
    return stats.norm.cdf((best - np.asarray(mean, dtype=float)) / std)


def lower_confidence_bound(mean: Any, std: Any, beta: float = 2.0) -> np.ndarray:
    """``-(mean - beta * std)``: optimism under uncertainty, as a larger-is-better score."""
    return -(np.asarray(mean, dtype=float) - beta * np.asarray(std, dtype=float))
