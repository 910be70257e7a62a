"""One-call summaries of a model's predictions: the numbers a practitioner checks before trusting it."""

from __future__ import annotations

from typing import Any

import numpy as np

from bayeskit.evaluate._inputs import class_probabilities, labels_for
from bayeskit.evaluate.classification import (
    brier_score,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    retention_curve,
    uncertainty_auroc,
)
from bayeskit.evaluate.regression import (
    central_interval_coverage,
    crps_gaussian,
    gaussian_nll,
    mean_absolute_calibration_error,
    miscalibration_area,
    pinball_loss,
    pit_gaussian,
    quantile_coverage,
    sharpness,
)

__all__ = ["classification_summary", "quantile_summary", "regression_summary"]


def classification_summary(probs: Any, labels: Any, n_bins: int = 15) -> dict[str, float]:
    """Accuracy, ECE (top-label and classwise), MCE, Brier, NLL, AURC and error-detection AUROC.

    Examples
    --------
    >>> s = classification_summary([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], [0, 1, 1])
    >>> round(s["accuracy"], 3), round(s["brier"], 3)
    (0.667, 0.273)
    """
    p = class_probabilities(probs)
    y = labels_for(labels, p.shape[0], p.shape[1])
    error = (p.argmax(axis=1) != y).astype(float)
    uncertainty = 1.0 - p.max(axis=1)
    summary = {
        "n": float(y.size),
        "accuracy": float(1.0 - error.mean()),
        "ece": expected_calibration_error(p, y, n_bins),
        "ece_classwise": expected_calibration_error(p, y, n_bins, kind="classwise"),
        "mce": maximum_calibration_error(p, y, n_bins),
        "brier": brier_score(p, y),
        "nll": negative_log_likelihood(p, y),
        "aurc": retention_curve(uncertainty, error).attrs["area"],
    }
    summary["error_auroc"] = uncertainty_auroc(uncertainty, error) if 0 < error.sum() < error.size else float("nan")
    return summary


def regression_summary(y: Any, mean: Any, std: Any) -> dict[str, float]:
    """RMSE, Gaussian NLL, CRPS, central-interval coverage, calibration errors and sharpness."""
    y, mean, std = (np.asarray(a, dtype=float) for a in (y, mean, std))
    pit = pit_gaussian(y, mean, std)
    coverage = central_interval_coverage(pit, [0.5, 0.8, 0.9, 0.95])
    summary = {
        "n": float(y.size),
        "rmse": float(np.sqrt(np.mean((y - mean) ** 2))),
        "nll": gaussian_nll(y, mean, std),
        "crps": crps_gaussian(y, mean, std),
        "mean_absolute_calibration_error": mean_absolute_calibration_error(pit),
        "miscalibration_area": miscalibration_area(pit),
        "sharpness": sharpness(std),
    }
    for level, observed in zip(coverage["level"], coverage["coverage"], strict=True):
        summary[f"coverage_{round(100 * level)}"] = float(observed)
    return summary


def quantile_summary(y: Any, quantiles: Any, levels: Any) -> dict[str, float]:
    """Pinball loss, mean |observed - expected| over the levels, and coverage of each symmetric central interval."""
    table = quantile_coverage(y, quantiles, levels)
    summary = {
        "n": float(np.size(y)),
        "pinball_loss": pinball_loss(y, quantiles, levels),
        "mean_absolute_calibration_error": float(np.mean(np.abs(table["observed"] - table["expected"]))),
    }
    levels, q, y = np.asarray(levels, dtype=float), np.asarray(quantiles, dtype=float), np.asarray(y, dtype=float)
    for i, low in enumerate(levels):
        upper = np.flatnonzero(np.isclose(levels, 1.0 - low))
        if low < 0.5 and upper.size:
            inside = (q[:, i] <= y) & (y <= q[:, upper[0]])
            summary[f"coverage_{round(100 * (1 - 2 * low))}"] = float(inside.mean())
    return summary
