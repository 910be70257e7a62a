"""Regression scores against numerical integration and SciPy; calibration measures on known cases."""

import itertools

import numpy as np
import pytest
from scipy import integrate, stats

from bayeskit.evaluate import (
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


def crps_by_integration(cdf, y, low, high):
    left, _ = integrate.quad(lambda x: cdf(x) ** 2, low, y, limit=200)
    right, _ = integrate.quad(lambda x: (1 - cdf(x)) ** 2, y, high, limit=200)
    return left + right


@pytest.mark.parametrize(("y", "mean", "std"), [(0.3, 0.0, 1.0), (-2.5, 1.0, 0.4), (10.0, 9.0, 3.0)])
def test_crps_gaussian_matches_integration(y, mean, std):
    expected = crps_by_integration(stats.norm(mean, std).cdf, y, mean - 12 * std, mean + 12 * std)
    assert crps_gaussian([y], [mean], [std]) == pytest.approx(expected, rel=1e-8)


def test_crps_samples_matches_integration_of_the_empirical_cdf():
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(50, 1))
    y = 0.4

    def cdf(x):
        return np.mean(draws[:, 0] <= x)

    points = np.sort(np.append(draws[:, 0], y))
    grid = np.concatenate([[points[0] - 1], points, [points[-1] + 1]])
    total = 0.0
    for lo, hi in itertools.pairwise(grid):
        middle = 0.5 * (lo + hi)
        total += (hi - lo) * (cdf(middle) - (middle >= y)) ** 2
    assert crps_samples([y], draws) == pytest.approx(total, rel=1e-10)


def test_crps_samples_converges_to_the_gaussian_value():
    rng = np.random.default_rng(1)
    y = rng.normal(size=200)
    draws = rng.normal(size=(20_000, 200))
    assert crps_samples(y, draws) == pytest.approx(crps_gaussian(y, np.zeros(200), np.ones(200)), rel=5e-3)


def test_gaussian_nll_matches_scipy():
    y, mean, std = np.array([0.1, 2.0]), np.array([0.0, 1.0]), np.array([1.0, 0.5])
    assert gaussian_nll(y, mean, std) == pytest.approx(-stats.norm(mean, std).logpdf(y).mean(), rel=1e-12)


def test_calibrated_predictions_have_uniform_pit_and_nominal_coverage():
    rng = np.random.default_rng(2)
    mean = rng.normal(size=100_000)
    std = rng.uniform(0.5, 2.0, size=mean.size)
    y = mean + std * rng.normal(size=mean.size)
    pit = pit_gaussian(y, mean, std)
    assert mean_absolute_calibration_error(pit) < 0.005
    assert miscalibration_area(pit) < 0.005
    coverage = central_interval_coverage(pit)
    np.testing.assert_allclose(coverage["coverage"], coverage["level"], atol=0.005)
    assert interval_coverage(y, mean - 1.96 * std, mean + 1.96 * std) == pytest.approx(0.95, abs=0.003)


def test_overconfidence_is_detected():
    rng = np.random.default_rng(3)
    y = rng.normal(size=20_000)
    pit = pit_gaussian(y, np.zeros_like(y), 0.5 * np.ones_like(y))  # std too small by half
    curve = quantile_calibration_curve(pit, [0.1, 0.9])
    assert curve["observed"].iloc[0] > 0.2 and curve["observed"].iloc[1] < 0.8
    assert miscalibration_area(pit) > 0.1
    assert central_interval_coverage(pit, [0.9])["coverage"].iloc[0] < 0.6


def test_pit_from_samples_agrees_with_the_closed_form():
    rng = np.random.default_rng(4)
    y = rng.normal(size=50)
    draws = rng.normal(size=(100_000, 50))
    np.testing.assert_allclose(pit_samples(y, draws), stats.norm.cdf(y), atol=0.005)


def test_sharpness():
    assert sharpness([3.0, 4.0]) == pytest.approx(np.sqrt(12.5))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: gaussian_nll([1.0, 2.0], [0.0], [1.0, 1.0]), r"`mean` must have shape \(2,\) to match `y`"),
        (lambda: gaussian_nll([1.0], [0.0], [0.0]), r"`std` must be > 0; got 0"),
        (lambda: crps_samples([1.0, 2.0], np.ones((5, 3))), r"`samples` must have shape \(num_samples, 2\)"),
        (lambda: interval_coverage([1.0], [2.0], [0.0]), r"`lower` must be <= `upper`"),
        (lambda: quantile_calibration_curve([0.5, 1.5]), r"`pit_values` must lie in \[0, 1\]"),
        (lambda: gaussian_nll(["a"], [0.0], [1.0]), r"`y` must be numeric"),
    ],
)
def test_bad_input_messages(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_crps_dispatches_and_refuses_ambiguous_input():
    assert crps([0.3], mean=[0.0], std=[1.0]) == crps_gaussian([0.3], [0.0], [1.0])
    draws = np.random.default_rng(5).normal(size=(100, 1))
    assert crps([0.3], samples=draws) == crps_samples([0.3], draws)
    with pytest.raises(ValueError, match="give either `mean` and `std`"):
        crps([0.3], mean=[0.0], samples=draws)


def test_pinball_loss_and_quantile_coverage():
    y = np.array([0.0, 1.0, 2.0])
    quantiles = np.array([[-1.0, 0.5], [0.0, 2.0], [1.0, 1.5]])
    levels = np.array([0.1, 0.9])
    manual = np.mean(
        [
            max(t * (v - q), (t - 1) * (v - q))
            for v, row in zip(y, quantiles, strict=True)
            for q, t in zip(row, levels, strict=True)
        ]
    )
    assert pinball_loss(y, quantiles, levels) == pytest.approx(manual)
    table = quantile_coverage(y, quantiles, levels)
    np.testing.assert_allclose(table["observed"], [0.0, 2 / 3])
    with pytest.raises(ValueError, match="strictly increasing"):
        pinball_loss(y, quantiles, [0.9, 0.1])
