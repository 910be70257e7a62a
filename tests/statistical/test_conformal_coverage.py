"""Conformal coverage against its finite-sample guarantee, over many random calibration/test splits."""

import numpy as np
import pytest

from bayeskit.evaluate import (
    adaptive_prediction_sets,
    conformalized_quantile_regression,
    split_conformal_regression,
)

pytestmark = pytest.mark.statistical

NUM_SPLITS, NUM_CALIBRATION, NUM_TEST, ALPHA = 300, 200, 200, 0.1
UPPER = 1 - ALPHA + 1 / (NUM_CALIBRATION + 1)


def heteroscedastic(rng, n):
    x = rng.uniform(-2, 2, size=n)
    scale = 0.3 + np.abs(x)
    return x, 1.5 * x + scale * rng.standard_t(5, size=n), scale


def assert_valid(coverages, exact=True):
    coverages = np.asarray(coverages)
    standard_error = coverages.std() / np.sqrt(coverages.size)
    assert coverages.mean() >= 1 - ALPHA - 4 * standard_error
    if exact:
        assert coverages.mean() <= UPPER + 4 * standard_error


def test_split_conformal_absolute_and_normalized_residuals():
    rng = np.random.default_rng(10)
    absolute, normalized, widths = [], [], []
    for _ in range(NUM_SPLITS):
        x, y, scale = heteroscedastic(rng, NUM_CALIBRATION + NUM_TEST)
        prediction = 1.5 * x  # the model's mean; the scale stands in for its predictive std
        c, t = slice(0, NUM_CALIBRATION), slice(NUM_CALIBRATION, None)
        low, high = split_conformal_regression(y[c], prediction[c], prediction[t], ALPHA)
        absolute.append(np.mean((low <= y[t]) & (y[t] <= high)))
        low, high = split_conformal_regression(y[c], prediction[c], prediction[t], ALPHA, scale[c], scale[t])
        normalized.append(np.mean((low <= y[t]) & (y[t] <= high)))
        widths.append(high - low)
    assert_valid(absolute)
    assert_valid(normalized)
    assert np.std(np.concatenate(widths)) > 0  # normalized intervals adapt their width


def test_conformalized_quantile_regression():
    rng = np.random.default_rng(11)
    coverages = []
    for _ in range(NUM_SPLITS):
        x, y, scale = heteroscedastic(rng, NUM_CALIBRATION + NUM_TEST)
        lower, upper = 1.5 * x - 1.0 * scale, 1.5 * x + 1.0 * scale  # too narrow quantile estimates
        c, t = slice(0, NUM_CALIBRATION), slice(NUM_CALIBRATION, None)
        low, high = conformalized_quantile_regression(y[c], lower[c], upper[c], lower[t], upper[t], ALPHA)
        coverages.append(np.mean((low <= y[t]) & (y[t] <= high)))
    assert_valid(coverages)


@pytest.mark.parametrize("randomized", [False, True])
def test_adaptive_prediction_sets(randomized):
    rng = np.random.default_rng(12)
    coverages, sizes = [], []
    for split in range(NUM_SPLITS):
        logits = rng.normal(size=(NUM_CALIBRATION + NUM_TEST, 6)) * 2
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        labels = (probs.cumsum(axis=1) < rng.uniform(size=(probs.shape[0], 1))).sum(axis=1)
        c, t = slice(0, NUM_CALIBRATION), slice(NUM_CALIBRATION, None)
        sets = adaptive_prediction_sets(probs[c], labels[c], probs[t], ALPHA, rng=split if randomized else None)
        coverages.append(np.mean(sets[np.arange(NUM_TEST), labels[t]]))
        sizes.append(sets.sum(axis=1).mean())
    assert_valid(coverages, exact=randomized)
    assert np.mean(sizes) < 6  # informative: not every class every time
