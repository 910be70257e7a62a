"""Evaluation metrics on 10 million predictions vs scikit-learn (whole-array NumPy, no loops over samples)."""

from __future__ import annotations

import time

import numpy as np

from bayeskit.evaluate import brier_score, expected_calibration_error, negative_log_likelihood, uncertainty_auroc

NUM = 10_000_000


def _data(seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.001, 0.999, size=NUM)
    y = (rng.uniform(size=NUM) < p**1.2).astype(np.int64)
    return p, y


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def binary_metrics():
    """ECE (positive class, 15 bins), Brier, NLL and AUROC on 10M binary predictions."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    p, y = _data()

    def ours():
        return (
            expected_calibration_error(p, y, n_bins=15, kind="positive_class"),
            brier_score(p, y),
            negative_log_likelihood(p, y),
            uncertainty_auroc(p, y),
        )

    def peer():
        fraction, predicted = calibration_curve(y, p, n_bins=15)
        counts = np.histogram(p, bins=np.linspace(0, 1, 16))[0]
        counts = counts[counts > 0]
        ece = float(np.sum(counts / counts.sum() * np.abs(fraction - predicted)))
        return ece, brier_score_loss(y, p), log_loss(y, p), roc_auc_score(y, p)

    seconds, values = _timed(ours)
    peer_seconds, peer_values = _timed(peer)
    difference = max(abs(a - b) for a, b in zip(values, peer_values, strict=True))
    return {
        "task": "ECE + Brier + NLL + AUROC on 10,000,000 binary predictions",
        "bayeskit_s": seconds,
        "peer": "scikit-learn calibration_curve (+ ECE from it), brier_score_loss, log_loss, roc_auc_score",
        "peer_s": peer_seconds,
        "peer_note": "single run",
        "speedup": peer_seconds / seconds,
        "agreement": f"max abs difference over the four metrics {difference:.1e}",
    }


BENCHMARKS = [binary_metrics]
