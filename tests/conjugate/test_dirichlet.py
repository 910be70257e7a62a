import numpy as np
import pytest
from scipy import stats

from bayeskit.conjugate import BetaBinomial, DirichletMultinomial


def test_update_and_mean():
    posterior = DirichletMultinomial(alpha=[1, 1, 1]).update(counts=[10, 5, 0])
    np.testing.assert_allclose(posterior.alpha, [11, 6, 1])
    np.testing.assert_allclose(posterior.mean(), np.array([11, 6, 1]) / 18)


def test_two_categories_equal_beta_binomial():
    dirichlet = DirichletMultinomial([3.0, 4.0]).update([5, 2])
    beta = BetaBinomial(3.0, 4.0).update(5, 7)
    assert dirichlet.mean()[0] == pytest.approx(float(beta.mean()))
    assert dirichlet.var()[0] == pytest.approx(float(beta.var()))
    assert dirichlet.interval(0.9, kind="hdi").low[0] == pytest.approx(float(beta.interval(0.9, kind="hdi").low))
    assert float(dirichlet.log_marginal_likelihood([5, 2])) == pytest.approx(float(beta.log_marginal_likelihood(5, 7)))


def test_log_prob_and_evidence_match_scipy():
    alpha = np.array([2.0, 0.7, 5.0])
    posterior = DirichletMultinomial(alpha)
    point = np.array([0.2, 0.1, 0.7])
    assert float(posterior.log_prob(point)) == pytest.approx(stats.dirichlet(alpha).logpdf(point))
    counts = np.array([3, 0, 9])
    expected = stats.dirichlet_multinomial(alpha, 12).logpmf(counts)
    assert float(posterior.log_marginal_likelihood(counts)) == pytest.approx(expected, abs=1e-10)


def test_mode():
    np.testing.assert_allclose(DirichletMultinomial([3.0, 2.0, 1.0]).mode(), [2 / 3, 1 / 3, 0.0])
    np.testing.assert_allclose(DirichletMultinomial([1.0, 1.0]).mode(), [0.5, 0.5])
    assert np.isnan(DirichletMultinomial([0.5, 2.0]).mode()).all()


def test_samples_of_tiny_concentrations_lie_on_the_simplex():
    draws = DirichletMultinomial([1e-3, 1e-3, 1e-3]).sample(np.random.default_rng(0), 1000)
    assert np.all(np.isfinite(draws))
    np.testing.assert_allclose(draws.sum(axis=-1), 1.0, atol=1e-12)


def test_batch_shape_and_predictive():
    posterior = DirichletMultinomial(np.ones((4, 3)))
    assert posterior.batch_shape == (4,)
    assert posterior.sample(0, 5).shape == (5, 4, 3)
    predictive = posterior.predictive(10)
    assert predictive.log_prob([3, 3, 4]).shape == (4,)
    assert predictive.sample(0, 6).shape == (6, 4, 3) and np.all(predictive.sample(0, 6).sum(axis=-1) == 10)
    expected = stats.dirichlet_multinomial(np.ones(3), 10).var()
    np.testing.assert_allclose(predictive.var(), np.broadcast_to(expected, (4, 3)), rtol=1e-12)
