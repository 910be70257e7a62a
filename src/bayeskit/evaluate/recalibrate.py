"""Recalibration fitted on a calibration split that is never allowed to overlap the evaluation split.

Each fit takes the ids of the calibration rows; each ``transform`` takes the ids of
the rows it is applied to and raises if any was used for fitting. Evaluating a
recalibrator on its own calibration data flatters it; here that cannot happen by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special

from bayeskit.evaluate._inputs import labels_for, matching, positive, real

__all__ = [
    "IsotonicRecalibration",
    "TemperatureScaling",
    "VarianceScaling",
    "fit_isotonic",
    "fit_temperature",
    "fit_variance_scaling",
]


def _ids(ids: Any, num: int) -> np.ndarray:
    if ids is None:
        raise TypeError(
            "`ids` is required: pass the row ids (e.g. np.arange(n) + offset) so that calibration and "
            "evaluation rows can be checked for overlap."
        )
    array = np.asarray(ids)
    if array.shape != (num,):
        raise ValueError(f"`ids` must have shape ({num},), one id per row; got {array.shape}.")
    if np.unique(array).size != num:
        raise ValueError("`ids` must be unique.")
    return array


def _check_disjoint(fitted: np.ndarray, ids: np.ndarray) -> None:
    overlap = np.intersect1d(fitted, ids)
    if overlap.size:
        raise ValueError(
            f"{overlap.size} evaluation rows were used to fit the recalibration (e.g. id {overlap[0]!r}); "
            "evaluate on rows the calibration split never saw."
        )


@dataclass(frozen=True)
class TemperatureScaling:
    """Divide logits by a temperature fitted to minimize NLL on the calibration split (Guo et al. 2017)."""

    temperature: float
    calibration_ids: np.ndarray

    def transform(self, logits: Any, ids: Any) -> np.ndarray:
        """Recalibrated class probabilities ``softmax(logits / T)`` for rows ``ids``."""
        z = real(logits, "logits", 2)
        _check_disjoint(self.calibration_ids, _ids(ids, z.shape[0]))
        return np.exp(special.log_softmax(z / self.temperature, axis=1))


def fit_temperature(logits: Any, labels: Any, ids: Any) -> TemperatureScaling:
    """Fit the temperature on calibration ``logits`` ``(n, K)`` and integer ``labels``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> logits = rng.normal(size=(500, 3)) * 4
    >>> labels = np.array([rng.choice(3, p=np.exp(l / 4) / np.exp(l / 4).sum()) for l in logits])
    >>> round(fit_temperature(logits, labels, ids=np.arange(500)).temperature, 1)
    4.3
    """
    z = real(logits, "logits", 2)
    y = labels_for(labels, z.shape[0], z.shape[1])
    rows = np.arange(z.shape[0])

    def nll(log_temperature: float) -> float:
        return -float(np.mean(special.log_softmax(z / np.exp(log_temperature), axis=1)[rows, y]))

    result = optimize.minimize_scalar(nll, bounds=(-5.0, 5.0), method="bounded", options={"xatol": 1e-8})
    return TemperatureScaling(float(np.exp(result.x)), _ids(ids, z.shape[0]))


@dataclass(frozen=True)
class VarianceScaling:
    """Multiply predictive standard deviations by one factor (the Gaussian MLE on the calibration split)."""

    factor: float
    calibration_ids: np.ndarray

    def transform(self, std: Any, ids: Any) -> np.ndarray:
        """Rescaled standard deviations for rows ``ids``."""
        s = positive(std, "std")
        _check_disjoint(self.calibration_ids, _ids(ids, s.shape[0]))
        return self.factor * s


def fit_variance_scaling(y: Any, mean: Any, std: Any, ids: Any) -> VarianceScaling:
    """Fit ``factor^2 = mean(((y - mean) / std)^2)``: the NLL-optimal scale of Gaussian predictions."""
    y = real(y, "y", 1)
    mean, std = matching(y, mean, "mean", "y"), matching(y, positive(std, "std"), "std", "y")
    return VarianceScaling(float(np.sqrt(np.mean(((y - mean) / std) ** 2))), _ids(ids, y.size))


@dataclass(frozen=True)
class IsotonicRecalibration:
    """A monotone map of predicted CDF values to observed frequencies (Kuleshov, Fenner & Ermon 2018)."""

    knots: np.ndarray
    values: np.ndarray
    calibration_ids: np.ndarray

    def transform(self, pit_values: Any, ids: Any) -> np.ndarray:
        """Recalibrated PIT values (equivalently, recalibrated predicted CDF at the targets)."""
        p = real(pit_values, "pit_values", 1)
        _check_disjoint(self.calibration_ids, _ids(ids, p.size))
        return np.interp(p, self.knots, self.values)


def fit_isotonic(pit_values: Any, ids: Any) -> IsotonicRecalibration:
    """Fit the isotonic map from calibration PIT values ``F(y)`` to their empirical CDF.

    Uses ``scipy.optimize.isotonic_regression`` (pool-adjacent-violators).
    """
    p = real(pit_values, "pit_values", 1)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("`pit_values` must lie in [0, 1].")
    ordered = np.sort(p)
    empirical = np.arange(1, p.size + 1) / p.size
    fitted = optimize.isotonic_regression(empirical).x
    knots = np.concatenate([[0.0], ordered, [1.0]])
    values = np.concatenate([[0.0], fitted, [1.0]])
    return IsotonicRecalibration(knots, values, _ids(ids, p.size))
