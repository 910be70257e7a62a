"""SWAG against the analytic stationary covariance of SGD; Bayes-by-backprop's KL, reparameterization and ELBO."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import linalg

from bayeskit.info import kl_normal
from bayeskit.nn import SWAG, BayesByBackprop
from bayeskit.nn._core import BayesLinear, Network
from bayeskit.nn.swag import swag_init, swag_posterior, swag_update

rng = np.random.default_rng(5)
X = rng.uniform(-3, 3, size=(200, 1))
Y = np.sin(X[:, 0]) + 0.2 * rng.normal(size=200)


def test_swag_on_a_noisy_quadratic_matches_sgds_stationary_covariance():
    # SGD on L(t) = t'At/2 with gradient noise N(0, C): t <- t - lr (A t + e). Its stationary covariance S solves
    # the discrete Lyapunov equation S = B S B' + lr^2 C with B = I - lr A.
    a = np.array([[2.0, 0.8], [0.8, 1.0]])
    noise = np.array([[1.0, 0.3], [0.3, 0.5]])
    lr, thin, num_snapshots = 0.05, 100, 3000
    exact = linalg.solve_discrete_lyapunov(np.eye(2) - lr * a, lr**2 * noise)
    normals = np.random.default_rng(0).standard_normal((thin * (num_snapshots + 10), 2))
    shocks = lr * normals @ np.linalg.cholesky(noise).T
    step_matrix = np.eye(2) - lr * a
    theta = np.zeros(2)
    state = swag_init((2,))
    for step, shock in enumerate(shocks):
        theta = step_matrix @ theta - shock
        if step >= 10 * thin and step % thin == 0:
            state = swag_update(state, theta, rank=num_snapshots)
    posterior = swag_posterior(state)
    # ~3,000 nearly independent snapshots: relative standard error of a variance about 2.6%.
    np.testing.assert_allclose(posterior.mean, 0.0, atol=4 * np.sqrt(exact.diagonal().max() / num_snapshots))
    np.testing.assert_allclose(posterior.variance, exact.diagonal(), rtol=0.1)
    low_rank = posterior.deviations.T @ posterior.deviations / (num_snapshots - 1)
    np.testing.assert_allclose(low_rank, exact, rtol=0.1, atol=0.1 * exact.diagonal().min())
    # SWAG's own Gaussian is the equal mix of the two: diagonal exact, off-diagonal halved.
    expected_swag = 0.5 * np.diag(exact.diagonal()) + 0.5 * exact
    np.testing.assert_allclose(posterior.covariance(), expected_swag, rtol=0.1, atol=0.1 * exact.diagonal().min())
    # Draws follow SWAG's own Gaussian; the last 200 deviations keep the 100,000 draws cheap (each draw mixes
    # every kept deviation).
    short = posterior._replace(deviations=posterior.deviations[-200:])
    draws = short.sample(np.random.default_rng(1), 100_000)
    np.testing.assert_allclose(np.cov(draws.T), short.covariance(), rtol=0.03, atol=1e-3 * exact.max())


def test_swag_keeps_only_the_last_rank_snapshots_and_needs_two():
    state = swag_init((3,))
    with pytest.raises(ValueError, match="SWAG needs at least 2 snapshots"):
        swag_posterior(swag_update(state, np.ones(3), rank=5))
    for value in range(10):
        state = swag_update(state, np.full(3, float(value)), rank=4)
    posterior = swag_posterior(state)
    assert posterior.deviations.shape == (4, 3)
    np.testing.assert_allclose(posterior.mean, 4.5)
    np.testing.assert_allclose(posterior.variance, np.var(np.arange(10.0)))
    np.testing.assert_allclose(posterior.deviations[:, 0], np.arange(6.0, 10.0) - 4.5)


def test_swag_network_predicts_with_epistemic_spread():
    model = SWAG(epochs=150, swag_epochs=20, rank=10, num_draws=20).fit(X, Y)
    assert model.swag_.mean.shape == model.swag_.variance.shape and model.swag_.deviations.shape[0] == 10
    predictive = model.predictive(np.array([[0.0], [8.0]]))
    assert predictive.means.shape == (20, 2)
    parts = predictive.decompose()
    assert np.all(parts.epistemic > 0) and parts.epistemic[1] > parts.epistemic[0]
    low, high = model.predict_interval(X)
    assert 0.85 <= np.mean((Y >= low) & (Y <= high)) <= 1.0


def test_bbb_kl_matches_bayeskit_info_and_a_monte_carlo_estimate():
    layer = BayesLinear(3, 2, 0.3, jax.random.PRNGKey(0))
    layer = jax.tree.map(lambda leaf: leaf + 0.1, layer)  # move off the symmetric start
    prior_variance = 0.5
    mean = np.concatenate([np.asarray(layer.weight_mean).ravel(), np.asarray(layer.bias_mean)]).astype(float)
    std = np.log1p(np.exp(np.concatenate([np.asarray(layer.weight_rho).ravel(), np.asarray(layer.bias_rho)])))
    reference = float(np.sum(kl_normal(mean, std**2, np.zeros_like(mean), np.full_like(mean, prior_variance))))
    assert float(layer.kl(prior_variance)) == pytest.approx(reference, rel=1e-5)
    # An independent check: E_q[log q(w) - log p(w)] by Monte Carlo (float64 NumPy).
    draws = mean + std * np.random.default_rng(0).standard_normal((200_000, mean.size))
    log_q = -0.5 * (((draws - mean) / std) ** 2 + np.log(2 * np.pi * std**2))
    log_p = -0.5 * (draws**2 / prior_variance + np.log(2 * np.pi * prior_variance))
    terms = (log_q - log_p).sum(axis=1)
    assert abs(terms.mean() - reference) < 4 * terms.std() / np.sqrt(terms.size)


def test_local_reparameterization_has_the_weight_sampling_distribution():
    layer = BayesLinear(4, 3, 0.5, jax.random.PRNGKey(2))
    x = jnp.array([1.0, -2.0, 0.5, 3.0])
    keys = jax.random.split(jax.random.PRNGKey(3), 40_000)
    local = np.asarray(jax.vmap(lambda k: layer(x, k))(keys))
    sampled = np.asarray(jax.vmap(lambda k: layer.sample(k)(x))(keys))
    std_w, std_b = np.log1p(np.exp(np.asarray(layer.weight_rho))), np.log1p(np.exp(np.asarray(layer.bias_rho)))
    exact_mean = np.asarray(layer.weight_mean @ x + layer.bias_mean)
    exact_var = std_w**2 @ np.asarray(x) ** 2 + std_b**2
    for draws in (local, sampled):
        np.testing.assert_allclose(draws.mean(axis=0), exact_mean, atol=5 * np.sqrt(exact_var.max() / draws.shape[0]))
        np.testing.assert_allclose(draws.var(axis=0), exact_var, rtol=0.05)
    assert np.allclose(np.asarray(layer(x)), exact_mean, atol=1e-5)  # no key: the mean network


def test_bbb_trains_its_elbo_and_is_uncertain_off_the_data():
    model = BayesByBackprop(epochs=150, passes=50).fit(X, Y)
    assert model.elbo_.shape == model.kl_.shape == (model.epochs_run_,)
    first, last = model.elbo_[:10].mean(), model.elbo_[-10:].mean()
    assert last > first  # the ELBO rises during training
    assert np.all(model.kl_ > 0)
    parts = model.predictive(np.array([[0.0], [8.0]])).decompose()
    assert parts.epistemic[1] > 5 * parts.epistemic[0]
    network = Network(1, (50,), 0.0, "homoscedastic", jax.random.PRNGKey(0), prior_variance=1.0)
    assert network.stochastic and float(network.kl()) > 0


def test_jit_equals_eager_for_bayesian_and_mixture_networks():
    import equinox as eqx

    for network in (
        Network(3, (8,), 0.0, "heteroscedastic", jax.random.PRNGKey(0), prior_variance=1.0, init_std=0.1),
        Network(3, (8,), 0.1, "mixture", jax.random.PRNGKey(0), num_outputs=3),
    ):
        x, key = jnp.ones(3), jax.random.PRNGKey(1)
        eager = network(x, key)
        jitted = eqx.filter_jit(lambda net, v, k: net(v, k))(network, x, key)
        np.testing.assert_allclose(np.asarray(eager), np.asarray(jitted), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SWAG(swag_epochs=1), "`swag_epochs` must be >= 2"),
        (lambda: SWAG(rank=0), "`rank` must be a positive int"),
        (lambda: SWAG(swag_learning_rate=0.0), "`swag_learning_rate` must be > 0"),
        (lambda: BayesByBackprop(prior_scale=-1.0), "`prior_scale` must be a finite number > 0"),
        (lambda: BayesByBackprop(init_std=float("nan")), "`init_std` must be a finite number > 0"),
    ],
)
def test_bad_settings(make, message):
    with pytest.raises(ValueError, match=message):
        make().fit(X, Y)
