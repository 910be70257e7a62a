import numpy as np
import pytest
from scipy import special

from bayeskit.evaluate import (
    decompose_classification,
    decompose_regression,
    fit_isotonic,
    fit_temperature,
    fit_variance_scaling,
    miscalibration_area,
    negative_log_likelihood,
    pit_gaussian,
)


def test_regression_decomposition_is_the_law_of_total_variance():
    rng = np.random.default_rng(0)
    means, variances = rng.normal(size=(8, 100)), rng.uniform(0.1, 2.0, size=(8, 100))
    parts = decompose_regression(means, variances)
    np.testing.assert_allclose(parts.total, parts.aleatoric + parts.epistemic, rtol=1e-14)
    # the mixture of the 8 Gaussians has exactly this variance: check against many draws
    member = rng.integers(0, 8, size=400_000)
    draws = means[member, 0] + np.sqrt(variances[member, 0]) * rng.normal(size=member.size)
    assert draws.var() == pytest.approx(parts.total[0], rel=0.01)


def test_classification_decomposition():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(10, 50, 3))
    probs = np.exp(special.log_softmax(logits, axis=-1))
    parts = decompose_classification(probs)
    np.testing.assert_allclose(parts.total, parts.aleatoric + parts.epistemic, rtol=1e-12)
    assert np.all(parts.epistemic >= 0)
    agreeing = decompose_classification(np.repeat(probs[:1], 10, axis=0))
    np.testing.assert_allclose(agreeing.epistemic, 0.0, atol=1e-12)  # no disagreement, no epistemic part
    disagreeing = decompose_classification(np.array([[[1.0, 0.0]], [[0.0, 1.0]]]))
    assert disagreeing.epistemic[0] == pytest.approx(np.log(2))  # all uncertainty is epistemic
    assert disagreeing.aleatoric[0] == 0.0


def test_temperature_scaling_recovers_a_known_temperature_and_helps_held_out_nll():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(8000, 5)) * 5
    true_probs = np.exp(special.log_softmax(logits / 2.5, axis=1))
    labels = (true_probs.cumsum(axis=1) < rng.uniform(size=(8000, 1))).sum(axis=1)
    scaler = fit_temperature(logits[:4000], labels[:4000], ids=np.arange(4000))
    assert scaler.temperature == pytest.approx(2.5, rel=0.05)
    held_out = scaler.transform(logits[4000:], ids=np.arange(4000, 8000))
    raw = np.exp(special.log_softmax(logits[4000:], axis=1))
    assert negative_log_likelihood(held_out, labels[4000:]) < negative_log_likelihood(raw, labels[4000:])


def test_variance_scaling_and_isotonic_fix_overconfidence_on_held_out_rows():
    rng = np.random.default_rng(3)
    mean = rng.normal(size=10_000)
    y = mean + 2.0 * rng.normal(size=10_000)
    std = np.ones_like(y)  # half the true spread
    calibration, evaluation = np.arange(5000), np.arange(5000, 10_000)
    scaling = fit_variance_scaling(y[calibration], mean[calibration], std[calibration], ids=calibration)
    assert scaling.factor == pytest.approx(2.0, rel=0.03)
    before = miscalibration_area(pit_gaussian(y[evaluation], mean[evaluation], std[evaluation]))
    fixed_std = scaling.transform(std[evaluation], ids=evaluation)
    assert miscalibration_area(pit_gaussian(y[evaluation], mean[evaluation], fixed_std)) < 0.01 < before
    isotonic = fit_isotonic(pit_gaussian(y[calibration], mean[calibration], std[calibration]), ids=calibration)
    recalibrated = isotonic.transform(pit_gaussian(y[evaluation], mean[evaluation], std[evaluation]), ids=evaluation)
    assert miscalibration_area(recalibrated) < 0.01 < before


def test_overlapping_splits_are_refused():
    rng = np.random.default_rng(4)
    logits, labels = rng.normal(size=(100, 3)), rng.integers(0, 3, size=100)
    scaler = fit_temperature(logits[:60], labels[:60], ids=np.arange(60))
    with pytest.raises(ValueError, match="10 evaluation rows were used to fit the recalibration"):
        scaler.transform(logits[50:], ids=np.arange(50, 100))
    with pytest.raises(TypeError, match="`ids` is required"):
        scaler.transform(logits[60:], ids=None)
    with pytest.raises(ValueError, match="`ids` must be unique"):
        fit_temperature(logits[:2], labels[:2], ids=[1, 1])


def test_epistemic_uncertainty_flags_out_of_distribution_inputs():
    """Ensemble members agree near the training data and disagree far from it: AUROC of MI for OOD."""
    from bayeskit.evaluate import uncertainty_auroc

    rng = np.random.default_rng(6)
    slopes = rng.normal(1.0, 0.3, size=(10, 1, 1))  # 10 members of a 3-class "ensemble"
    x = np.concatenate([rng.uniform(-1, 1, 300), rng.uniform(4, 6, 100)])  # last 100 are out of distribution
    logits = slopes * x[None, :, None] * np.array([1.0, 0.0, -1.0]) + rng.normal(0, 0.1, size=(10, 400, 3))
    parts = decompose_classification(np.exp(special.log_softmax(logits, axis=-1)))
    is_ood = np.r_[np.zeros(300), np.ones(100)]
    assert uncertainty_auroc(parts.epistemic, is_ood) > 0.9
