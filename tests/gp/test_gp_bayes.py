"""Fully Bayesian GP hyperparameters by NUTS: near the type-II ML optimum on informative data, a mixture predictive."""

import numpy as np
import pytest

from bayeskit.gp import GPRegressor, Matern52
from bayeskit.gp.bayes import hyperparameter_names

rng = np.random.default_rng(4)
X = rng.uniform(-2, 2, size=(60, 1))
Y = np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=60)


@pytest.fixture(scope="module")
def sampled():
    options = {"num_chains": 2, "num_warmup": 300, "num_samples": 300}
    return GPRegressor(Matern52(np.ones(1)), optimizer="nuts", num_draws=20, nuts_options=options).fit(X, Y)


def test_nuts_hyperparameters_sit_near_the_marginal_likelihood_optimum(sampled):
    optimum = GPRegressor(Matern52(np.ones(1))).fit(X, Y)
    draws = sampled.posterior_._flat()
    assert sampled.hyperparameter_names_ == ["log_lengthscale", "log_variance"]
    assert sampled.posterior_.is_healthy or all("ESS" in str(f) for f in sampled.posterior_.findings)
    log_lengthscale = draws["log_hyperparameters"][:, 0]
    ml_value = float(np.asarray(optimum.kernel_.log_lengthscale)[0])
    # 60 informative points: the type-II ML lengthscale lies inside the posterior's bulk.
    assert np.quantile(log_lengthscale, 0.05) < ml_value < np.quantile(log_lengthscale, 0.95)
    grid = np.linspace(-2, 2, 9)[:, None]
    mean, std = optimum.predict(grid, return_std=True, observation_noise=True)
    # Averaging over hyperparameters moves the mean by well under one predictive sd (most at the edges).
    assert np.all(np.abs(sampled.predictive(grid).mean() - mean) < 0.5 * std)


def test_nuts_predictive_is_a_mixture_with_a_consistent_decomposition(sampled):
    predictive = sampled.predictive(np.array([[0.0], [6.0]]))
    assert predictive.means.shape == (20, 2)
    parts = predictive.decompose()
    np.testing.assert_allclose(parts.total, predictive.var(), rtol=1e-10)
    np.testing.assert_allclose(parts.total, parts.aleatoric + parts.epistemic, rtol=1e-10)
    assert parts.epistemic[1] > 20 * parts.epistemic[0]
    noise = np.exp(sampled.posterior_._flat()["log_noise_variance"]) * sampled.y_std_**2
    assert np.quantile(noise, 0.05) < parts.aleatoric[0] < np.quantile(noise, 0.95)


def test_hyperparameter_names_follow_the_kernel_tree():
    from bayeskit.gp import RBF, White

    assert hyperparameter_names(RBF(np.ones(2)) + White()) == [
        "left.log_lengthscale[0]",
        "left.log_lengthscale[1]",
        "left.log_variance",
        "right.log_variance",
    ]
