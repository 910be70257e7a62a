"""Scoring and calibration of probabilistic regression: NLL, CRPS, coverage, PIT, calibration curves, sharpness.

Predictions are Gaussian (``mean``, ``std``) or draws (``samples`` of shape
``(num_samples, n)``, from any engine). Pure NumPy over whole arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from bayeskit.evaluate._inputs import matching, positive, real

__all__ = [
    "central_interval_coverage",
    "crps",
    "crps_gaussian",
    "crps_samples",
    "crps_samples_pointwise",
    "gaussian_nll",
    "interval_coverage",
    "mean_absolute_calibration_error",
    "miscalibration_area",
    "pit_gaussian",
    "pinball_loss",
    "pit_samples",
    "predictive_metrics",
    "quantile_calibration_curve",
    "quantile_coverage",
    "sharpness",
]

_LEVELS = np.linspace(0.01, 0.99, 99)


def _gaussian(y: Any, mean: Any, std: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = real(y, "y")
    return y, matching(y, mean, "mean", "y"), matching(y, positive(std, "std"), "std", "y")


def _samples(y: Any, samples: Any) -> tuple[np.ndarray, np.ndarray]:
    y = real(y, "y", 1)
    draws = real(samples, "samples", 2)
    if draws.shape[1] != y.size:
        raise ValueError(f"`samples` must have shape (num_samples, {y.size}); got {draws.shape}.")
    return y, draws


def gaussian_nll(y: Any, mean: Any, std: Any) -> float:
    """Mean negative log density of ``y`` under ``N(mean, std^2)``."""
    y, mean, std = _gaussian(y, mean, std)
    return float(np.mean(0.5 * np.log(2 * np.pi * std**2) + 0.5 * ((y - mean) / std) ** 2))


def crps_gaussian(y: Any, mean: Any, std: Any) -> float:
    """Mean continuous ranked probability score of Gaussian predictions, in closed form.

    ``CRPS = std [z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi)]`` with ``z = (y - mean) / std``.

    References
    ----------
    Gneiting, Raftery, Westveld & Goldman (2005). Calibrated probabilistic forecasting
    using ensemble model output statistics. Monthly Weather Review 133, eq. (5).
    """
    y, mean, std = _gaussian(y, mean, std)
    z = (y - mean) / std
    pdf = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
    return float(np.mean(std * (z * (2 * special.ndtr(z) - 1) + 2 * pdf - 1 / np.sqrt(np.pi))))


def crps_samples(y: Any, samples: Any) -> float:
    """Mean CRPS of predictive draws: ``E|X - y| - E|X - X'| / 2`` (the energy form), O(S log S) per point.

    ``E|X - X'|`` uses the sorted-sample identity ``2 / S^2 sum_i (2i - S - 1) x_(i)``, so it
    is the exact CRPS of the empirical distribution of the draws.
    """
    y, draws = _samples(y, samples)
    return float(np.mean(crps_samples_pointwise(y, draws)))


def crps_samples_pointwise(y: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """The CRPS of each target ``(n,)`` from draws ``(num_samples, n)`` (the energy form of :func:`crps_samples`)."""
    num = samples.shape[0]
    to_target = np.abs(samples - y).mean(axis=0)
    ordered = np.sort(samples, axis=0)
    weights = (2 * np.arange(1, num + 1) - num - 1)[:, None]
    spread = 2.0 * (weights * ordered).sum(axis=0) / num**2
    return to_target - 0.5 * spread


def pit_gaussian(y: Any, mean: Any, std: Any) -> np.ndarray:
    """Probability integral transform ``F(y)`` of Gaussian predictions (uniform when calibrated)."""
    y, mean, std = _gaussian(y, mean, std)
    return special.ndtr((y - mean) / std)


def pit_samples(y: Any, samples: Any, rng: Any = None) -> np.ndarray:
    """PIT from draws: the fraction of draws below ``y``, ties split at random if ``rng`` is given."""
    y, draws = _samples(y, samples)
    below = (draws < y).mean(axis=0)
    equal = (draws == y).mean(axis=0)
    if rng is None:
        return below + 0.5 * equal
    from bayeskit._rng import as_generator

    return below + as_generator(rng).uniform(size=y.size) * equal


def _pit(pit_values: Any) -> np.ndarray:
    values = real(pit_values, "pit_values", 1)
    if np.any((values < 0) | (values > 1)):
        raise ValueError("`pit_values` must lie in [0, 1]; compute them with pit_gaussian or pit_samples.")
    return values


def quantile_calibration_curve(pit_values: Any, levels: Any = None):
    """Expected vs observed: for each level ``p``, the fraction of targets below their predicted ``p``-quantile.

    Calibrated predictions lie on the diagonal (Kuleshov, Fenner & Ermon 2018).
    Returns a DataFrame with columns ``expected`` and ``observed``.
    """
    import pandas as pd

    values = _pit(pit_values)
    levels = _LEVELS if levels is None else real(levels, "levels", 1)
    observed = np.searchsorted(np.sort(values), levels, side="right") / values.size
    return pd.DataFrame({"expected": levels, "observed": observed})


def mean_absolute_calibration_error(pit_values: Any, levels: Any = None) -> float:
    """Mean ``|observed - expected|`` over quantile levels (99 levels from 0.01 to 0.99 by default)."""
    curve = quantile_calibration_curve(pit_values, levels)
    return float(np.mean(np.abs(curve["observed"] - curve["expected"])))


def miscalibration_area(pit_values: Any, num_levels: int = 1001) -> float:
    """Area between the quantile calibration curve and the diagonal over [0, 1] (trapezoid rule)."""
    levels = np.linspace(0.0, 1.0, num_levels)
    curve = quantile_calibration_curve(pit_values, levels)
    return float(np.trapezoid(np.abs(curve["observed"] - curve["expected"]), levels))


def interval_coverage(y: Any, lower: Any, upper: Any) -> float:
    """Fraction of targets inside ``[lower, upper]``."""
    y = real(y, "y")
    lower, upper = matching(y, lower, "lower", "y"), matching(y, upper, "upper", "y")
    if np.any(lower > upper):
        raise ValueError("`lower` must be <= `upper` everywhere.")
    return float(np.mean((lower <= y) & (y <= upper)))


def central_interval_coverage(pit_values: Any, levels: Any = None):
    """Observed coverage of the central ``level`` intervals, from PIT values, at many levels at once."""
    import pandas as pd

    values = _pit(pit_values)
    levels = np.array([0.5, 0.8, 0.9, 0.95, 0.99]) if levels is None else real(levels, "levels", 1)
    distance = np.sort(np.abs(values - 0.5))
    observed = np.searchsorted(distance, levels / 2, side="right") / values.size
    return pd.DataFrame({"level": levels, "coverage": observed})


def sharpness(std: Any) -> float:
    """Root mean predictive variance ``sqrt(mean(std^2))``: smaller is sharper (judge it with calibration)."""
    s = positive(std, "std")
    return float(np.sqrt(np.mean(s**2)))


def crps(y: Any, mean: Any = None, std: Any = None, samples: Any = None) -> float:
    """Mean CRPS: closed form for Gaussian predictions (``mean``, ``std``), energy form for ``samples``.

    Examples
    --------
    >>> round(crps([0.0], mean=[0.0], std=[1.0]), 4)
    0.2337
    """
    if samples is not None and mean is None and std is None:
        return crps_samples(y, samples)
    if samples is None and mean is not None and std is not None:
        return crps_gaussian(y, mean, std)
    raise ValueError("give either `mean` and `std` (Gaussian predictions) or `samples` (predictive draws).")


def _quantiles(y: Any, quantiles: Any, levels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = real(y, "y", 1)
    q = real(quantiles, "quantiles", 2)
    levels = real(levels, "levels", 1)
    if q.shape != (y.size, levels.size):
        raise ValueError(f"`quantiles` must have shape ({y.size}, {levels.size}): one column per level; got {q.shape}.")
    if np.any((levels <= 0) | (levels >= 1)) or np.any(np.diff(levels) <= 0):
        raise ValueError("`levels` must be strictly increasing and inside (0, 1), e.g. [0.05, 0.5, 0.95].")
    return y, q, levels


def pinball_loss(y: Any, quantiles: Any, levels: Any) -> float:
    """Mean pinball (quantile) loss over rows and levels: a proper score for quantile predictions."""
    y, q, levels = _quantiles(y, quantiles, levels)
    residual = y[:, None] - q
    return float(np.mean(np.maximum(levels * residual, (levels - 1) * residual)))


def quantile_coverage(y: Any, quantiles: Any, levels: Any):
    """Observed fraction of targets below each predicted quantile, against its level (the calibration curve)."""
    import pandas as pd

    y, q, levels = _quantiles(y, quantiles, levels)
    return pd.DataFrame({"expected": levels, "observed": (y[:, None] <= q).mean(axis=0)})


def predictive_metrics(predictive: Any, y: np.ndarray) -> dict[str, float]:
    """The one metrics schema of a regression predictive: RMSE, NLL, CRPS, coverage, calibration, decomposition.

    ``predictive`` needs ``mean()``, ``cdf(y)``, ``log_prob(y)``, ``crps(y)`` and
    ``decompose()`` (``bayeskit.predictive.GaussianMixturePredictive`` has them);
    ``y`` has shape ``(n,)``. Every regression rung's ``evaluate(y)`` returns this dict.
    """
    pit = np.clip(predictive.cdf(y), 0.0, 1.0)
    coverage = central_interval_coverage(pit, [0.5, 0.8, 0.9, 0.95])
    parts = predictive.decompose()
    return {
        "n": float(y.size),
        "rmse": float(np.sqrt(np.mean((y - predictive.mean()) ** 2))),
        "nll": float(-np.mean(predictive.log_prob(y))),
        "crps": float(np.mean(predictive.crps(y))),
        **{
            f"coverage_{round(100 * level)}": float(value)
            for level, value in zip(coverage["level"], coverage["coverage"], strict=True)
        },
        "mean_absolute_calibration_error": mean_absolute_calibration_error(pit),
        "miscalibration_area": miscalibration_area(pit),
        "mean_std": float(np.mean(np.sqrt(parts.total))),
        "mean_aleatoric_var": float(np.mean(parts.aleatoric)),
        "mean_epistemic_var": float(np.mean(parts.epistemic)),
    }
