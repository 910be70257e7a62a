import numpy as np
import pytest
from scipy import stats

from bayeskit.conjugate import NormalInverseGamma, NormalKnownVariance


def test_known_variance_update_matches_precision_weighting():
    x = np.array([1.2, 0.8, 1.1, 2.0])
    posterior = NormalKnownVariance(mean=0.5, variance=10, noise_variance=2).update(x)
    precision = 1 / 10 + 4 / 2
    assert float(posterior.var()) == pytest.approx(1 / precision)
    assert float(posterior.mean()) == pytest.approx((0.5 / 10 + x.sum() / 2) / precision)
    assert float(posterior.mode()) == float(posterior.mean())


def test_known_variance_evidence_matches_multivariate_normal():
    x = np.array([0.3, -1.2, 2.2, 0.7, 0.1])
    prior = NormalKnownVariance(mean=1.0, variance=3.0, noise_variance=0.5)
    cov = 0.5 * np.eye(5) + 3.0 * np.ones((5, 5))
    expected = stats.multivariate_normal(np.ones(5), cov).logpdf(x)
    assert float(prior.log_marginal_likelihood(x)) == pytest.approx(expected, abs=1e-10)


def test_known_variance_batch_with_per_model_observations():
    prior = NormalKnownVariance(mean=[0.0, 5.0], variance=1.0, noise_variance=1.0)
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    posterior = prior.update(x)
    for i in range(2):
        single = NormalKnownVariance(mean=[0.0, 5.0][i], variance=1.0, noise_variance=1.0).update(x[i])
        assert float(posterior.mean()[i]) == pytest.approx(float(single.mean()))


def test_nig_update_matches_textbook_formulas():
    x = np.array([4.9, 5.3, 5.1, 4.7])
    posterior = NormalInverseGamma(mean=0, kappa=1, alpha=2, beta=2).update(x)
    n, xbar = 4, x.mean()
    assert float(posterior.kappa) == 5
    assert float(posterior.loc) == pytest.approx(n * xbar / 5)
    assert float(posterior.alpha) == 4
    assert float(posterior.beta) == pytest.approx(2 + 0.5 * ((x - xbar) ** 2).sum() + 1 * n * xbar**2 / (2 * 5))


def test_nig_marginals_and_predictive_against_sampling():
    posterior = NormalInverseGamma(mean=1.0, kappa=2.0, alpha=5.0, beta=3.0)
    draws = posterior.sample(np.random.default_rng(1), 200_000)
    mean = posterior.mean()
    for name in ("mean", "variance"):
        mcse = draws[name].std() / np.sqrt(draws[name].size)
        assert abs(draws[name].mean() - mean[name]) < 4 * mcse
    marginal = posterior.marginals()["mean"]
    assert stats.kstest(draws["mean"], marginal.cdf).pvalue > 1e-3


def test_nig_evidence_matches_multivariate_t():
    x = np.array([0.3, -1.2, 2.2, 0.7, 0.1])
    prior = NormalInverseGamma(mean=0.5, kappa=0.8, alpha=3.0, beta=2.0)
    shape = (2.0 / 3.0) * (np.eye(5) + np.ones((5, 5)) / 0.8)
    expected = stats.multivariate_t(0.5 * np.ones(5), shape, df=6.0).logpdf(x)
    assert float(prior.log_marginal_likelihood(x)) == pytest.approx(expected, abs=1e-10)


def test_nig_mode_is_the_joint_maximum():
    posterior = NormalInverseGamma(mean=1.0, kappa=2.0, alpha=3.0, beta=4.0)
    mode = posterior.mode()
    peak = posterior.log_prob(mode["mean"], mode["variance"])
    for dm, dv in [(0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)]:
        assert posterior.log_prob(mode["mean"] + dm, mode["variance"] + dv) < peak


def test_nig_large_offset_does_not_cancel():
    x = 1e9 + np.array([0.1, -0.2, 0.3, 0.0])
    posterior = NormalInverseGamma(mean=1e9, kappa=1e-6, alpha=1.0, beta=1e-3).update(x)
    centred = NormalInverseGamma(mean=0.0, kappa=1e-6, alpha=1.0, beta=1e-3).update(x - 1e9)
    assert float(posterior.beta) == pytest.approx(float(centred.beta), rel=1e-6)
