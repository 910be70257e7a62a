"""Uncertainty you can check: calibration, proper scores, coverage, decomposition, recalibration, conformal.

Every function takes plain arrays (probabilities, means and standard deviations,
quantiles or predictive draws), so it works on bayeskit posteriors and on anyone's model.
"""

from bayeskit.evaluate.classification import (
    brier_score,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_diagram,
    retention_curve,
    uncertainty_auroc,
)
from bayeskit.evaluate.conformal import (
    adaptive_prediction_sets,
    conformalized_quantile_regression,
    split_conformal_regression,
)
from bayeskit.evaluate.decompose import Decomposition, decompose_classification, decompose_regression
from bayeskit.evaluate.recalibrate import fit_isotonic, fit_temperature, fit_variance_scaling
from bayeskit.evaluate.regression import (
    central_interval_coverage,
    crps,
    crps_gaussian,
    crps_samples,
    gaussian_nll,
    interval_coverage,
    mean_absolute_calibration_error,
    miscalibration_area,
    pinball_loss,
    pit_gaussian,
    pit_samples,
    quantile_calibration_curve,
    quantile_coverage,
    sharpness,
)

__all__ = [
    "Decomposition",
    "adaptive_prediction_sets",
    "brier_score",
    "central_interval_coverage",
    "conformalized_quantile_regression",
    "crps",
    "crps_gaussian",
    "crps_samples",
    "decompose_classification",
    "decompose_regression",
    "expected_calibration_error",
    "fit_isotonic",
    "fit_temperature",
    "fit_variance_scaling",
    "gaussian_nll",
    "interval_coverage",
    "maximum_calibration_error",
    "mean_absolute_calibration_error",
    "miscalibration_area",
    "negative_log_likelihood",
    "pit_gaussian",
    "pinball_loss",
    "pit_samples",
    "quantile_calibration_curve",
    "quantile_coverage",
    "reliability_diagram",
    "retention_curve",
    "sharpness",
    "split_conformal_regression",
    "uncertainty_auroc",
]
