"""Classification metrics against scikit-learn and loop re-implementations of the published definitions."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from bayeskit.evaluate import (
    brier_score,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_diagram,
    retention_curve,
    uncertainty_auroc,
)


@pytest.fixture(scope="module")
def multiclass():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3000, 4)) * 2.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(4, p=np.sqrt(p) / np.sqrt(p).sum()) for p in probs])  # miscalibrated on purpose
    return probs, labels


def loop_ece(confidence, outcome, n_bins, maximum=False):
    """Reference: equal-width bins (lo, hi], weighted |accuracy - confidence| (Naeini 2015, Guo 2017)."""
    edges = np.linspace(0, 1, n_bins + 1)
    total, worst = 0.0, 0.0
    for b in range(n_bins):
        inside = (confidence > edges[b]) & (confidence <= edges[b + 1]) if b else (confidence <= edges[1])
        if inside.sum() == 0:
            continue
        gap = abs(outcome[inside].mean() - confidence[inside].mean())
        total += inside.sum() / confidence.size * gap
        worst = max(worst, gap)
    return worst if maximum else total


def test_top_label_ece_and_mce_match_the_definition(multiclass):
    probs, labels = multiclass
    confidence, correct = probs.max(axis=1), (probs.argmax(axis=1) == labels).astype(float)
    assert expected_calibration_error(probs, labels, n_bins=15) == pytest.approx(
        loop_ece(confidence, correct, 15), abs=1e-12
    )
    assert maximum_calibration_error(probs, labels, n_bins=15) == pytest.approx(
        loop_ece(confidence, correct, 15, maximum=True), abs=1e-12
    )


def test_classwise_ece_is_the_mean_over_classes(multiclass):
    probs, labels = multiclass
    expected = np.mean([loop_ece(probs[:, k], (labels == k).astype(float), 10) for k in range(4)])
    assert expected_calibration_error(probs, labels, n_bins=10, kind="classwise") == pytest.approx(expected, abs=1e-12)


def test_positive_class_reliability_matches_sklearn_calibration_curve():
    rng = np.random.default_rng(1)
    p = rng.beta(2, 3, size=5000)
    y = (rng.uniform(size=5000) < p**1.3).astype(int)
    fraction, mean_predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    table = reliability_diagram(p, y, n_bins=10, kind="positive_class")
    filled = table[table["count"] > 0]
    np.testing.assert_allclose(filled["accuracy"], fraction, rtol=1e-12)
    np.testing.assert_allclose(filled["confidence"], mean_predicted, rtol=1e-12)
    weights = filled["count"] / filled["count"].sum()
    ece = float(np.sum(weights * np.abs(fraction - mean_predicted)))
    assert expected_calibration_error(p, y, n_bins=10, kind="positive_class") == pytest.approx(ece, abs=1e-12)


def test_equal_mass_bins_hold_equal_counts(multiclass):
    probs, labels = multiclass
    table = reliability_diagram(probs, labels, n_bins=10, binning="equal_mass")
    assert set(table["count"]) == {300}
    assert expected_calibration_error(probs, labels, binning="equal_mass") > 0


def test_perfectly_calibrated_predictions_have_small_ece():
    rng = np.random.default_rng(2)
    p = rng.uniform(size=200_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    assert expected_calibration_error(p, y, kind="positive_class") < 0.005


def test_brier_and_nll_match_sklearn(multiclass):
    probs, labels = multiclass
    rng = np.random.default_rng(3)
    p = rng.uniform(0.01, 0.99, size=400)
    y = (rng.uniform(size=400) < p).astype(int)
    assert brier_score(p, y) == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert brier_score(np.stack([1 - p, p], axis=1), y) == pytest.approx(2 * brier_score_loss(y, p), abs=1e-12)
    assert negative_log_likelihood(probs, labels) == pytest.approx(log_loss(labels, probs), rel=1e-10)
    assert negative_log_likelihood(np.array([[1.0, 0.0]]), [1]) == np.inf


def test_uncertainty_auroc_matches_sklearn_with_ties():
    rng = np.random.default_rng(4)
    uncertainty = np.round(rng.normal(size=1000), 1)
    flags = (rng.uniform(size=1000) < 1 / (1 + np.exp(-2 * uncertainty))).astype(int)
    assert uncertainty_auroc(uncertainty, flags) == pytest.approx(roc_auc_score(flags, uncertainty), abs=1e-12)


def test_retention_curve_rewards_informative_uncertainty():
    rng = np.random.default_rng(5)
    uncertainty = rng.uniform(size=2000)
    loss = (rng.uniform(size=2000) < uncertainty).astype(float)
    curve = retention_curve(uncertainty, loss)
    assert curve["loss"].iloc[-1] == pytest.approx(loss.mean())
    assert curve["loss"].iloc[10] < curve["loss"].iloc[-1]
    shuffled = retention_curve(rng.permutation(uncertainty), loss)
    assert curve.attrs["area"] < shuffled.attrs["area"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: expected_calibration_error([[0.5, 0.6]], [0]),
            r"each row of `probs` must sum to 1; row 0 sums to 1.1",
        ),
        (lambda: expected_calibration_error([1.2, 0.3], [0, 1]), r"`probs` must lie in \[0, 1\]"),
        (lambda: expected_calibration_error([0.2, np.nan], [0, 1]), r"`probs` must be finite"),
        (lambda: expected_calibration_error([0.2, 0.3], [0, 2]), r"`labels` must be whole numbers in \[0, 1\]; got 2"),
        (lambda: expected_calibration_error([0.2, 0.3], [0]), r"`labels` must have shape \(2,\)"),
        (lambda: expected_calibration_error([0.2, 0.3], [0, 1], binning="quantile"), r"unknown binning 'quantile'"),
        (lambda: expected_calibration_error([0.2, 0.3], [0, 1], kind="top"), r"unknown calibration kind 'top'"),
        (lambda: expected_calibration_error([0.2, 0.3], [0, 1], n_bins=0), r"`n_bins` must be a positive int"),
        (lambda: expected_calibration_error(np.eye(3), [0, 1, 2], kind="positive_class"), r"for binary problems"),
        (lambda: expected_calibration_error([], []), r"`probs` is empty"),
        (lambda: uncertainty_auroc([0.1, 0.2], [1, 1]), r"needs both positives and negatives"),
    ],
)
def test_bad_input_messages(call, message):
    with pytest.raises(ValueError, match=message):
        call()
