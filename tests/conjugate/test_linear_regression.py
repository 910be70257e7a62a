import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import BayesianRidge, Ridge

from bayeskit.conjugate import BayesianLinearRegression


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(120, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.normal(size=120)
    return x, y


def test_map_weights_are_the_ridge_solution(data):
    x, y = data
    posterior = BayesianLinearRegression(mean=np.zeros(3), precision=4.0).update(x, y)
    ridge = Ridge(alpha=4.0, fit_intercept=False).fit(x, y)
    np.testing.assert_allclose(posterior.mode()["weights"], ridge.coef_, rtol=1e-10)


def test_posterior_matches_direct_formulas(data):
    x, y = data
    prior_precision = np.diag([1.0, 2.0, 3.0])
    m0 = np.array([0.1, 0.2, 0.3])
    posterior = BayesianLinearRegression(mean=m0, precision=prior_precision, alpha=2.0, beta=1.5).update(x, y)
    precision = prior_precision + x.T @ x
    mean = np.linalg.solve(precision, prior_precision @ m0 + x.T @ y)
    beta = 1.5 + 0.5 * (y @ y + m0 @ prior_precision @ m0 - mean @ precision @ mean)
    np.testing.assert_allclose(posterior.loc, mean, rtol=1e-10)
    np.testing.assert_allclose(posterior.precision, precision, rtol=1e-12)
    assert float(posterior.beta) == pytest.approx(beta, rel=1e-9)
    assert float(posterior.alpha) == 2.0 + 60


def test_evidence_matches_multivariate_t(data):
    x, y = data
    x, y = x[:15], y[:15]
    prior = BayesianLinearRegression(mean=np.zeros(3), precision=2.0, alpha=3.0, beta=2.0)
    shape = (2.0 / 3.0) * (np.eye(15) + x @ x.T / 2.0)
    expected = stats.multivariate_t(np.zeros(15), shape, df=6.0).logpdf(y)
    assert float(prior.log_marginal_likelihood(x, y)) == pytest.approx(expected, abs=1e-9)


def test_predictive_variance_adds_noise_and_weight_uncertainty(data):
    x, y = data
    posterior = BayesianLinearRegression(mean=np.zeros(3), precision=1.0, alpha=2.0, beta=1.0).update(x, y)
    x_new = np.array([[0.0, 0.0, 0.0], [3.0, 3.0, 3.0]])
    predictive = posterior.predictive(x_new)
    draws = posterior.sample(np.random.default_rng(0), 100_000)
    simulated = draws["weights"] @ x_new.T + np.sqrt(draws["noise_variance"])[:, None] * np.random.default_rng(
        1
    ).normal(size=(100_000, 2))
    np.testing.assert_allclose(simulated.var(axis=0), predictive.var(), rtol=0.03)
    assert predictive.std()[1] > predictive.std()[0]  # further from the data: wider


def test_equals_bayesian_ridge_at_its_fitted_precisions(data):
    # BayesianRidge: w ~ N(0, 1/lambda), noise precision alpha; its posterior mean is ours with
    # prior precision lambda / alpha (ours is scaled by the noise variance).
    x, y = data
    reference = BayesianRidge(fit_intercept=False).fit(x, y)
    prior = BayesianLinearRegression(mean=np.zeros(3), precision=reference.lambda_ / reference.alpha_)
    posterior = prior.update(x, y)
    np.testing.assert_allclose(posterior.mean()["weights"], reference.coef_, rtol=1e-8)
    np.testing.assert_allclose(posterior.predictive(x).mean(), reference.predict(x), rtol=1e-8, atol=1e-10)


def test_sequential_equals_batch(data):
    x, y = data
    prior = BayesianLinearRegression(mean=np.zeros(3), precision=1.0, alpha=2.0, beta=1.0)
    once = prior.update(x, y)
    twice = prior.update(x[:50], y[:50]).update(x[50:], y[50:])
    np.testing.assert_allclose(twice.loc, once.loc, rtol=1e-10)
    np.testing.assert_allclose(twice.precision, once.precision, rtol=1e-12)
    assert float(twice.beta) == pytest.approx(float(once.beta), rel=1e-10)


def test_summary_lists_every_weight_and_noise(data):
    x, y = data
    table = BayesianLinearRegression(mean=np.zeros(3)).update(x, y).summary()
    assert list(table.index) == ["weights[0]", "weights[1]", "weights[2]", "noise_variance"]
