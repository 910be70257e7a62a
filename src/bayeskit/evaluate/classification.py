"""Calibration and scoring of probabilistic classifiers: ECE, MCE, reliability, Brier, NLL, selective prediction.

All functions are pure NumPy over whole arrays (no loop over predictions). A 1-D
``probs`` is the probability of class 1 in a binary problem; 2-D is ``(n, K)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from bayeskit._validate import check_choice
from bayeskit.evaluate._inputs import class_probabilities, labels_for, real

__all__ = [
    "BINNINGS",
    "ECE_KINDS",
    "brier_score",
    "expected_calibration_error",
    "maximum_calibration_error",
    "negative_log_likelihood",
    "reliability_diagram",
    "retention_curve",
    "uncertainty_auroc",
]

BINNINGS = ("equal_width", "equal_mass")
ECE_KINDS = ("top_label", "positive_class", "classwise")


def _bin_index(confidence: np.ndarray, n_bins: int, binning: str) -> np.ndarray:
    """Bin of each confidence: equal-width bins ``(i/B, (i+1)/B]`` (0 in the first), or equal-mass by rank."""
    if binning == "equal_width":  # searchsorted on the linspace edges: no floating-point drift at the edges
        return np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], confidence, side="left")
    order = np.argsort(confidence, kind="stable")
    index = np.empty(confidence.size, dtype=np.int64)
    index[order] = np.arange(confidence.size) * n_bins // confidence.size
    return index


def _binned(confidence: np.ndarray, outcome: np.ndarray, n_bins: int, binning: str):
    """Counts, mean confidence and mean outcome per bin (empty bins have count 0 and NaN means)."""
    index = _bin_index(confidence, n_bins, binning)
    counts = np.bincount(index, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, confidence, minlength=n_bins) / counts
        mean_outcome = np.bincount(index, outcome, minlength=n_bins) / counts
    return index, counts, mean_confidence, mean_outcome


def _confidence_and_outcome(probs: Any, labels: Any, kind: str):
    """The (confidence, outcome) pairs each kind of calibration compares, as ``(m, n)`` rows."""
    check_choice(kind, "calibration kind", ECE_KINDS)
    p = class_probabilities(probs)
    y = labels_for(labels, p.shape[0], p.shape[1])
    if kind == "top_label":
        predicted = p.argmax(axis=1)
        return p.max(axis=1)[None, :], (predicted == y).astype(float)[None, :]
    if kind == "positive_class":
        if p.shape[1] != 2:
            raise ValueError(f"kind='positive_class' is for binary problems; `probs` has {p.shape[1]} classes.")
        return p[:, 1][None, :], (y == 1).astype(float)[None, :]
    onehot = np.eye(p.shape[1])[y]
    return p.T, onehot.T


def _bin_gaps(probs: Any, labels: Any, n_bins: int, binning: str, kind: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per compared row (one, or one per class): counts and ``|outcome - confidence|`` of the non-empty bins."""
    _check_bins(n_bins, binning)
    confidence, outcome = _confidence_and_outcome(probs, labels, kind)
    gaps = []
    for row_confidence, row_outcome in zip(confidence, outcome, strict=True):
        _, counts, mean_confidence, mean_outcome = _binned(row_confidence, row_outcome, n_bins, binning)
        filled = counts > 0
        gaps.append((counts[filled], np.abs(mean_outcome[filled] - mean_confidence[filled])))
    return gaps


def _check_bins(n_bins: int, binning: str) -> None:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"`n_bins` must be a positive int; got {n_bins!r}.")
    check_choice(binning, "binning", BINNINGS)


def expected_calibration_error(
    probs: Any, labels: Any, n_bins: int = 15, binning: str = "equal_width", kind: str = "top_label"
) -> float:
    """Expected calibration error: ``sum_b (n_b / n) |outcome_b - confidence_b|``.

    Definitions (``kind``):

    - ``"top_label"`` (Guo et al. 2017; torchmetrics): confidence is the largest
      probability, outcome is whether that class is the label.
    - ``"positive_class"`` (binary; scikit-learn's ``calibration_curve``): confidence
      is P(class 1), outcome is whether the label is 1.
    - ``"classwise"`` (Kull et al. 2019): the mean over classes ``k`` of the ECE of
      P(class k) against the indicator of class ``k``.

    Bins (``binning``): ``"equal_width"`` splits [0, 1] into ``(i/B, (i+1)/B]`` (0 falls
    in the first); ``"equal_mass"`` sorts by confidence and splits into ``B`` groups
    of (nearly) equal size. Empty bins contribute nothing.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> round(expected_calibration_error(probs, [0, 1, 1, 1], n_bins=5), 4)
    0.25

    References
    ----------
    Naeini, Cooper & Hauskrecht (2015). Obtaining well calibrated probabilities using Bayesian binning. AAAI.
    Guo, Pleiss, Sun & Weinberger (2017). On calibration of modern neural networks. ICML.
    Kull et al. (2019). Beyond temperature scaling: obtaining well-calibrated multi-class probabilities. NeurIPS.
    """
    gaps = _bin_gaps(probs, labels, n_bins, binning, kind)
    return float(np.mean([np.sum(counts * gap) / counts.sum() for counts, gap in gaps]))


def maximum_calibration_error(
    probs: Any, labels: Any, n_bins: int = 15, binning: str = "equal_width", kind: str = "top_label"
) -> float:
    """Maximum calibration error: the largest ``|outcome_b - confidence_b|`` over non-empty bins.

    For ``kind="classwise"`` the maximum is over classes and bins.
    """
    return float(max(np.max(gap) for _, gap in _bin_gaps(probs, labels, n_bins, binning, kind)))


def reliability_diagram(
    probs: Any, labels: Any, n_bins: int = 15, binning: str = "equal_width", kind: str = "top_label"
):
    """The table behind a reliability diagram: per bin, its edges, count, mean confidence and outcome.

    For ``kind="classwise"`` the bins of all classes are pooled (as in a classwise
    reliability plot). Returns a pandas DataFrame with columns ``low``, ``high``,
    ``count``, ``confidence``, ``accuracy`` and ``gap`` (accuracy - confidence).
    """
    import pandas as pd

    _check_bins(n_bins, binning)
    confidence, outcome = _confidence_and_outcome(probs, labels, kind)
    confidence, outcome = confidence.ravel(), outcome.ravel()
    index, counts, mean_confidence, mean_outcome = _binned(confidence, outcome, n_bins, binning)
    if binning == "equal_width":
        low, high = np.arange(n_bins) / n_bins, np.arange(1, n_bins + 1) / n_bins
    else:
        with np.errstate(invalid="ignore"):
            low = np.array([confidence[index == b].min() if counts[b] else np.nan for b in range(n_bins)])
            high = np.array([confidence[index == b].max() if counts[b] else np.nan for b in range(n_bins)])
    return pd.DataFrame(
        {
            "low": low,
            "high": high,
            "count": counts.astype(int),
            "confidence": mean_confidence,
            "accuracy": mean_outcome,
            "gap": mean_outcome - mean_confidence,
        }
    )


def brier_score(probs: Any, labels: Any) -> float:
    """Brier score: mean squared error of the probabilities against one-hot labels.

    A 1-D ``probs`` (binary, P(class 1)) gives ``mean (p - y)^2``, scikit-learn's
    ``brier_score_loss``; an ``(n, K)`` array gives ``mean sum_k (p_k - 1[y = k])^2``
    (Brier 1950), which for two columns is twice the binary value.
    """
    binary = np.ndim(probs) == 1
    p = class_probabilities(probs)
    y = labels_for(labels, p.shape[0], p.shape[1])
    squared = (p - np.eye(p.shape[1])[y]) ** 2
    return float(squared[:, 1].mean() if binary else squared.sum(axis=1).mean())


def negative_log_likelihood(probs: Any, labels: Any) -> float:
    """Mean negative log probability of the true class (``inf`` if any is 0: no clipping)."""
    p = class_probabilities(probs)
    y = labels_for(labels, p.shape[0], p.shape[1])
    with np.errstate(divide="ignore"):
        return float(-np.mean(np.log(p[np.arange(p.shape[0]), y])))


def retention_curve(uncertainty: Any, loss: Any, num_points: int = 101):
    """Selective prediction: mean ``loss`` on the most certain fraction of predictions.

    Parameters
    ----------
    uncertainty
        Shape ``(n,)``; lower is more certain (entropy, predictive std, 1 - confidence).
    loss
        Shape ``(n,)``: per-prediction loss (0/1 error, squared error, NLL).
    num_points
        Retention fractions evaluated, from ``1/n`` to 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``retention`` and ``loss``; ``DataFrame.attrs["area"]`` is the area
        under the curve (AURC; lower is better).
    """
    import pandas as pd

    u = real(uncertainty, "uncertainty", 1)
    losses = real(loss, "loss", 1)
    if losses.shape != u.shape:
        raise ValueError(f"`loss` must have shape {u.shape} to match `uncertainty`; got {losses.shape}.")
    order = np.argsort(u, kind="stable")
    cumulative = np.cumsum(losses[order]) / np.arange(1, u.size + 1)
    retained = np.unique(np.clip(np.round(np.linspace(0, 1, num_points) * u.size).astype(int), 1, u.size))
    frame = pd.DataFrame({"retention": retained / u.size, "loss": cumulative[retained - 1]})
    frame.attrs["area"] = float(np.mean(cumulative))
    return frame


def uncertainty_auroc(uncertainty: Any, is_positive: Any) -> float:
    """AUROC of an uncertainty score for flagging positives (errors, or out-of-distribution inputs).

    The probability that a random positive has higher uncertainty than a random
    negative (ties count one half): the Mann-Whitney statistic from mid-ranks.
    """
    u = real(uncertainty, "uncertainty", 1)
    flags = real(is_positive, "is_positive", 1)
    if flags.shape != u.shape:
        raise ValueError(f"`is_positive` must have shape {u.shape} to match `uncertainty`; got {flags.shape}.")
    if not np.isin(flags, (0.0, 1.0)).all():
        raise ValueError("`is_positive` must be 0/1 (or boolean).")
    positives = flags.astype(bool)
    num_positive, num_negative = int(positives.sum()), int((~positives).sum())
    if num_positive == 0 or num_negative == 0:
        raise ValueError("AUROC needs both positives and negatives; `is_positive` has only one kind.")
    ranks = stats.rankdata(u)
    return float((ranks[positives].sum() - num_positive * (num_positive + 1) / 2) / (num_positive * num_negative))
