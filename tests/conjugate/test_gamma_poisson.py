import numpy as np
import pytest
from scipy import integrate, stats

from bayeskit.conjugate import GammaPoisson


def test_update_with_exposure():
    posterior = GammaPoisson(shape=2, rate=1).update(counts=30, exposure=10)
    assert repr(posterior) == "GammaPoisson(shape=32.0, rate=11.0)"


def test_moments_and_intervals_match_scipy():
    posterior = GammaPoisson([0.5, 3.0, 400.0], [2.0, 0.1, 50.0])
    reference = stats.gamma([0.5, 3.0, 400.0], scale=1 / np.array([2.0, 0.1, 50.0]))
    np.testing.assert_allclose(posterior.mean(), reference.mean(), rtol=1e-12)
    np.testing.assert_allclose(posterior.var(), reference.var(), rtol=1e-12)
    np.testing.assert_allclose(posterior.interval(0.8).low, reference.ppf(0.1), rtol=1e-10)
    low, high = posterior.interval(0.8, kind="hdi")
    np.testing.assert_allclose(reference.cdf(high) - reference.cdf(low), 0.8, atol=1e-10)
    assert float(low[0]) == 0.0  # shape < 1: the density peaks at 0


def test_mode():
    np.testing.assert_allclose(GammaPoisson([0.5, 3.0], 2.0).mode(), [0.0, 1.0])


def test_zero_exposure_with_zero_counts_is_a_no_op():
    prior = GammaPoisson(2.0, 3.0)
    same = prior.update(counts=0, exposure=0)
    assert (float(same.shape), float(same.rate)) == (2.0, 3.0)


def test_predictive_is_negative_binomial_and_matches_quadrature():
    posterior = GammaPoisson(3.5, 2.0)
    predictive = posterior.predictive(exposure=1.5)
    for k in (0, 1, 4, 10):
        mixture, _ = integrate.quad(
            lambda lam, k=k: stats.poisson.pmf(k, lam * 1.5) * stats.gamma.pdf(lam, 3.5, scale=0.5), 0, np.inf
        )
        assert np.exp(predictive.log_prob(k)) == pytest.approx(mixture, rel=1e-8)
        assert float(posterior.log_marginal_likelihood(k, 1.5)) == pytest.approx(np.log(mixture), abs=1e-8)


def test_large_counts_no_overflow():
    posterior = GammaPoisson(1.0, 1.0).update(counts=1e9, exposure=1e6)
    assert float(posterior.mean()) == pytest.approx(1e3, rel=1e-5)
    assert np.isfinite(GammaPoisson(1.0, 1.0).log_marginal_likelihood(1e9, 1e6))
