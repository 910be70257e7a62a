"""Split conformal prediction: finite-sample coverage guarantees for any model's predictions.

With ``n`` exchangeable calibration points, each method covers a new point with
probability at least ``1 - alpha`` (and at most ``1 - alpha + 1/(n+1)`` for continuous scores).

References
----------
Vovk, Gammerman & Shafer (2005). Algorithmic Learning in a Random World.
Lei, G'Sell, Rinaldo, Tibshirani & Wasserman (2018). Distribution-free predictive inference for regression. JASA.
Romano, Patterson & Candes (2019). Conformalized quantile regression. NeurIPS.
Romano, Sesia & Candes (2020). Classification with valid and adaptive coverage. NeurIPS.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayeskit._validate import check_prob
from bayeskit.evaluate._inputs import class_probabilities, labels_for, matching, positive, real

__all__ = [
    "adaptive_prediction_sets",
    "conformal_quantile",
    "conformalized_quantile_regression",
    "split_conformal_regression",
]


def conformal_quantile(scores: np.ndarray, alpha: float) -> float:
    """The ``ceil((n + 1)(1 - alpha)) / n`` empirical quantile of calibration scores (``inf`` if above 1)."""
    n = scores.size
    rank = int(np.ceil((n + 1) * (1 - alpha)))
    if rank > n:
        return float("inf")
    return float(np.sort(scores)[rank - 1])


def _alpha(alpha: float) -> float:
    return check_prob(alpha, "alpha")


def split_conformal_regression(
    calibration_y: Any,
    calibration_prediction: Any,
    test_prediction: Any,
    alpha: float = 0.1,
    calibration_scale: Any = None,
    test_scale: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Intervals ``prediction -/+ q`` (absolute residuals), or ``-/+ q * scale`` (normalized residuals).

    Pass ``calibration_scale`` and ``test_scale`` (e.g. predictive standard deviations)
    for intervals that widen where the model is unsure.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=1000)
    >>> low, high = split_conformal_regression(y, np.zeros(1000), np.zeros(3), alpha=0.1)
    >>> bool(np.all(high - low > 3.0))
    True
    """
    alpha = _alpha(alpha)
    y = real(calibration_y, "calibration_y", 1)
    prediction = matching(y, calibration_prediction, "calibration_prediction", "calibration_y")
    test = real(test_prediction, "test_prediction", 1)
    if (calibration_scale is None) != (test_scale is None):
        raise ValueError("give both `calibration_scale` and `test_scale` (normalized residuals), or neither.")
    if calibration_scale is None:
        q = conformal_quantile(np.abs(y - prediction), alpha)
        return test - q, test + q
    scale = matching(y, positive(calibration_scale, "calibration_scale"), "calibration_scale", "calibration_y")
    test_scale = matching(test, positive(test_scale, "test_scale"), "test_scale", "test_prediction")
    q = conformal_quantile(np.abs(y - prediction) / scale, alpha)
    return test - q * test_scale, test + q * test_scale


def conformalized_quantile_regression(
    calibration_y: Any,
    calibration_lower: Any,
    calibration_upper: Any,
    test_lower: Any,
    test_upper: Any,
    alpha: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """CQR: widen (or shrink) predicted quantile intervals by the conformal quantile of ``max(lo - y, y - hi)``."""
    alpha = _alpha(alpha)
    y = real(calibration_y, "calibration_y", 1)
    lower = matching(y, calibration_lower, "calibration_lower", "calibration_y")
    upper = matching(y, calibration_upper, "calibration_upper", "calibration_y")
    test_lower = real(test_lower, "test_lower", 1)
    test_upper = matching(test_lower, test_upper, "test_upper", "test_lower")
    q = conformal_quantile(np.maximum(lower - y, y - upper), alpha)
    return test_lower - q, test_upper + q


def _aps_scores(p: np.ndarray, labels: np.ndarray, noise: np.ndarray | None) -> np.ndarray:
    order = np.argsort(-p, axis=1, kind="stable")
    sorted_p = np.take_along_axis(p, order, axis=1)
    before = np.cumsum(sorted_p, axis=1) - sorted_p
    position = np.argsort(order, axis=1)[np.arange(p.shape[0]), labels]
    rows = np.arange(p.shape[0])
    own = sorted_p[rows, position]
    return before[rows, position] + (own if noise is None else noise * own)


def adaptive_prediction_sets(
    calibration_probs: Any, calibration_labels: Any, test_probs: Any, alpha: float = 0.1, rng: Any = None
) -> np.ndarray:
    """Adaptive prediction sets (APS): classes in order of probability until their mass reaches the threshold.

    Without ``rng`` the sets are deterministic and conservative (coverage >= 1 - alpha);
    with ``rng`` (a Generator, seed or JAX key) the randomized version has exact
    coverage in expectation.

    Returns
    -------
    numpy.ndarray
        Boolean membership of shape ``(n_test, K)``.
    """
    alpha = _alpha(alpha)
    p = class_probabilities(calibration_probs, "calibration_probs")
    y = labels_for(calibration_labels, p.shape[0], p.shape[1], "calibration_labels")
    test = class_probabilities(test_probs, "test_probs")
    if test.shape[1] != p.shape[1]:
        raise ValueError(f"`test_probs` must have {p.shape[1]} classes like `calibration_probs`; got {test.shape[1]}.")
    generator = None
    if rng is not None:
        from bayeskit._rng import as_generator

        generator = as_generator(rng)
    noise = None if generator is None else generator.uniform(size=p.shape[0])
    q = conformal_quantile(_aps_scores(p, y, noise), alpha)
    order = np.argsort(-test, axis=1, kind="stable")
    sorted_p = np.take_along_axis(test, order, axis=1)
    before = np.cumsum(sorted_p, axis=1) - sorted_p
    if generator is None:
        keep_sorted = before < q
    else:
        keep_sorted = before + generator.uniform(size=(test.shape[0], 1)) * sorted_p <= q
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=1)
    return keep
