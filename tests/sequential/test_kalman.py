"""Kalman filter and RTS smoother: exact against dense Gaussian conditioning and filterpy; missing data; batches."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from bayeskit.sequential import LinearGaussianSSM, kalman_filter, rts_smoother
from bayeskit.sequential.tracking import constant_velocity, constant_velocity_params


@pytest.fixture(scope="module")
def model():
    # A damped oscillator seen through two noisy, correlated sensors.
    angle = 0.3
    transition = 0.95 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return LinearGaussianSSM(
        transition=transition,
        transition_cov=np.array([[0.2, 0.05], [0.05, 0.1]]),
        observation=np.array([[1.0, 0.0], [0.5, 1.0]]),
        observation_cov=np.array([[0.5, 0.1], [0.1, 0.3]]),
        initial_mean=np.array([1.0, -1.0]),
        initial_cov=np.array([[2.0, 0.3], [0.3, 1.0]]),
    )


def dense_posterior(model: LinearGaussianSSM, y: np.ndarray):
    """Condition the joint Gaussian of all states and all observed values at once (no recursion)."""
    steps, d = y.shape[0], model.state_dim
    means, covs = [model.initial_mean], [model.initial_cov]
    for _ in range(1, steps):
        means.append(model.transition @ means[-1])
    # Cov(x_s, x_t) for s <= t is F^(t-s) Var(x_s); Var(x_t) = F Var(x_{t-1}) F^T + Q.
    for _ in range(1, steps):
        covs.append(model.transition @ covs[-1] @ model.transition.T + model.transition_cov)
    state_cov = np.zeros((steps * d, steps * d))
    for s in range(steps):
        block = covs[s]
        for t in range(s, steps):
            state_cov[t * d : (t + 1) * d, s * d : (s + 1) * d] = block
            state_cov[s * d : (s + 1) * d, t * d : (t + 1) * d] = block.T
            block = model.transition @ block
    h = np.kron(np.eye(steps), model.observation)
    y_cov = h @ state_cov @ h.T + np.kron(np.eye(steps), model.observation_cov)
    observed = ~np.isnan(y.ravel())
    y_obs, h_obs = y.ravel()[observed], h[observed]
    y_cov_obs = y_cov[np.ix_(observed, observed)]
    mean_y = h_obs @ np.concatenate(means)
    gain = state_cov @ h_obs.T @ np.linalg.inv(y_cov_obs)
    post_mean = np.concatenate(means) + gain @ (y_obs - mean_y)
    post_cov = state_cov - gain @ h_obs @ state_cov
    log_likelihood = stats.multivariate_normal(mean_y, y_cov_obs).logpdf(y_obs)
    return post_mean.reshape(steps, d), post_cov, log_likelihood


@pytest.fixture(scope="module")
def series(model):
    _, y = model.sample(jax.random.key(0), 25)
    return y


def test_smoother_and_likelihood_equal_dense_conditioning(model, series):
    mean, cov, log_likelihood = dense_posterior(model, series)
    smoothed = model.smooth(series)
    d = model.state_dim
    np.testing.assert_allclose(smoothed.mean(), mean, atol=1e-8)
    blocks = np.stack([cov[t * d : (t + 1) * d, t * d : (t + 1) * d] for t in range(series.shape[0])])
    np.testing.assert_allclose(smoothed.covariances, blocks, atol=1e-8)
    np.testing.assert_allclose(smoothed.log_likelihood, log_likelihood, atol=1e-8)


def test_filter_at_each_step_equals_dense_conditioning_on_the_past(model, series):
    filtered = model.filter(series)
    for t in (0, 7, 24):
        mean, cov, _ = dense_posterior(model, series[: t + 1])
        d = model.state_dim
        np.testing.assert_allclose(filtered.means[t], mean[t], atol=1e-8)
        np.testing.assert_allclose(filtered.covariances[t], cov[t * d :, t * d :], atol=1e-8)
    np.testing.assert_allclose(filtered.means[-1], model.smooth(series).means[-1], atol=1e-12)


def test_missing_values_equal_dense_conditioning_on_what_was_seen(model, series):
    y = series.copy()
    y[3] = np.nan  # a whole step missing
    y[10, 1] = np.nan  # one sensor missing
    y[11, 0] = np.nan
    mean, _, log_likelihood = dense_posterior(model, y)
    smoothed = model.smooth(y)
    np.testing.assert_allclose(smoothed.mean(), mean, atol=1e-8)
    np.testing.assert_allclose(smoothed.log_likelihood, log_likelihood, atol=1e-8)
    # A missing step's filtered belief is just the prediction.
    filtered = model.filter(y)
    np.testing.assert_allclose(filtered.means[3], model.transition @ filtered.means[2], atol=1e-12)


def test_filter_agrees_with_filterpy(model, series):
    from filterpy.kalman import KalmanFilter

    kf = KalmanFilter(dim_x=2, dim_z=2)
    kf.F, kf.Q, kf.H, kf.R = model.transition, model.transition_cov, model.observation, model.observation_cov
    kf.x, kf.P = model.initial_mean.copy(), model.initial_cov.copy()
    means, covs, log_likelihood = [], [], 0.0
    for y_t in series:
        kf.update(y_t)
        means.append(kf.x.copy())
        covs.append(kf.P.copy())
        log_likelihood += kf.log_likelihood
        kf.predict()
    filtered = model.filter(series)
    np.testing.assert_allclose(filtered.means, np.array(means), atol=1e-9)
    np.testing.assert_allclose(filtered.covariances, np.array(covs), atol=1e-9)
    np.testing.assert_allclose(filtered.log_likelihood, log_likelihood, atol=1e-8)


def test_batch_of_series_equals_one_at_a_time(model):
    _, ys = model.sample(jax.random.key(1), 12, num_series=3)
    batch = model.smooth(ys)
    assert batch.means.shape == (3, 12, 2) and batch.log_likelihood.shape == (3,)
    for i in range(3):
        one = model.smooth(ys[i])
        np.testing.assert_allclose(batch.series(i).means, one.means, atol=1e-12)
        np.testing.assert_allclose(batch.log_likelihood[i], one.log_likelihood, atol=1e-10)


@pytest.mark.parametrize("kind", ["filter", "smooth"])
def test_complete_series_share_covariances_and_equal_dense_conditioning(model, kind):
    _, ys = model.sample(jax.random.key(4), 10, num_series=4)
    ys[2, 3, 1] = np.nan  # one series with a gap runs per series; the others share one covariance recursion
    batch = getattr(model, kind)(ys)
    assert batch.means.shape == (4, 10, 2) and batch.covariances.shape == (4, 10, 2, 2)
    for i in range(4):
        mean, cov, log_likelihood = dense_posterior(model, ys[i])
        np.testing.assert_allclose(batch.log_likelihood[i], log_likelihood, rtol=1e-10)
        if kind == "smooth":
            np.testing.assert_allclose(batch.means[i], mean, atol=1e-10)
            blocks = [cov[2 * t : 2 * t + 2, 2 * t : 2 * t + 2] for t in range(10)]
            np.testing.assert_allclose(batch.covariances[i], np.stack(blocks), atol=1e-10)
        else:  # the filter at the last step is the dense posterior of the last state
            np.testing.assert_allclose(batch.means[i, -1], mean[-1], atol=1e-10)
    complete = model.smooth(np.delete(ys, 2, axis=0))
    assert not complete.covariances.flags.writeable  # one (T, d, d) array, broadcast over the series
    np.testing.assert_array_equal(complete.covariances[0], complete.covariances[2])


@pytest.mark.parametrize("kind", ["filter", "smooth"])
def test_the_parallel_scan_equals_the_sequential_one_with_missing_values(model, kind):
    _, ys = model.sample(jax.random.key(5), 37, num_series=2)  # not a power of two: the scan's odd tails
    ys[0, 5, 0] = np.nan
    ys[0, 20:23] = np.nan
    sequential = getattr(model, kind)(ys, method="sequential")
    parallel = getattr(model, kind)(ys, method="parallel")
    np.testing.assert_allclose(parallel.means, sequential.means, atol=1e-9)
    np.testing.assert_allclose(parallel.covariances, sequential.covariances, atol=1e-9)
    np.testing.assert_allclose(parallel.log_likelihood, sequential.log_likelihood, rtol=1e-11)
    one = getattr(model, kind)(ys[1], method="parallel")
    np.testing.assert_allclose(one.means, sequential.means[1], atol=1e-9)


def test_an_unknown_method_is_named(model, series):
    with pytest.raises(ValueError, match=r"unknown method 'fast'; choose one of 'auto', 'sequential', 'parallel'"):
        model.filter(series, method="fast")


def test_jit_equals_eager_and_gradients_match_finite_differences(model, series):
    with jax.enable_x64(True):
        params = model.params()
        y = jnp.asarray(series)
        eager = kalman_filter(params, y).log_likelihood
        jitted = jax.jit(kalman_filter)(params, y).log_likelihood
        assert abs(float(eager - jitted)) < 1e-10

        def log_likelihood(log_noise):
            return kalman_filter(params._replace(observation_cov=jnp.exp(log_noise) * jnp.eye(2)), y).log_likelihood

        gradient = float(jax.grad(log_likelihood)(0.0))
        step = 1e-5
        numeric = float((log_likelihood(step) - log_likelihood(-step)) / (2 * step))
        assert abs(gradient - numeric) < 1e-6 * max(1.0, abs(numeric))


def test_noise_variances_are_learned_by_gradient_ascent():
    import optax

    truth = constant_velocity(dt=1.0, process_noise=0.05, measurement_noise=2.0, initial_cov=np.eye(4))
    _, ys = truth.sample(jax.random.key(3), 200, num_series=4)
    with jax.enable_x64(True):
        base, y = truth.params(), jnp.asarray(ys)

        def loss(log_q_r):
            model = constant_velocity_params(
                1.0, jnp.exp(log_q_r[0]), jnp.exp(log_q_r[1]), 2, base.initial_mean, base.initial_cov
            )
            return -jnp.sum(jax.vmap(kalman_filter, (None, 0))(model, y).log_likelihood)

        optimizer = optax.adam(0.05)
        theta = jnp.zeros(2)
        state = optimizer.init(theta)
        step = jax.jit(lambda theta, state: _adam_step(optimizer, loss, theta, state))
        for _ in range(400):
            theta, state = step(theta, state)
    process, measurement = np.exp(np.asarray(theta))
    assert 0.02 < process < 0.12  # truth 0.05 (a variance seen through 800 noisy steps)
    assert abs(measurement - 2.0) < 0.3


def _adam_step(optimizer, loss, theta, state):
    import optax

    updates, state = optimizer.update(jax.grad(loss)(theta), state)
    return optax.apply_updates(theta, updates), state


def test_smoother_output_from_core_functions(model, series):
    with jax.enable_x64(True):
        filtered = kalman_filter(model.params(), jnp.asarray(series))
        smoothed = rts_smoother(model.params(), filtered)
    np.testing.assert_allclose(np.asarray(smoothed.means), model.smooth(series).means, atol=1e-12)


def test_the_callers_arrays_stay_writable_and_unchanged():
    transition = np.eye(2)
    LinearGaussianSSM(transition, np.eye(2), np.array([[1.0, 0.0]]), 1.0, np.zeros(2), np.eye(2))
    transition[0, 0] = 0.5  # still the caller's own, writable array
    assert transition.flags.writeable


def test_estimate_api(model, series):
    smoothed = model.smooth(series)
    low, high = smoothed.interval(0.9)
    assert np.all(low < smoothed.mean()) and np.all(smoothed.mean() < high)
    np.testing.assert_allclose(high - low, 2 * 1.6448536 * smoothed.std(), rtol=1e-6)
    draws = smoothed.sample(np.random.default_rng(0), 20000)
    assert draws.shape == (20000, 25, 2)
    np.testing.assert_allclose(np.cov(draws[:, 5].T), smoothed.covariances[5], atol=0.03)
    table = smoothed.summary(names=["position", "velocity"])
    assert list(table.columns) == ["mean", "sd", "eti_2.5%", "eti_97.5%"] and len(table) == 50
    assert table.index.names == ["step", "state"] and table.index[1] == (0, "velocity")
    data = smoothed.to_arviz(np.random.default_rng(0), num_draws=50, num_chains=2)
    assert data.posterior["state"].shape == (2, 50, 25, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"transition": np.ones((2, 3))}, r"`transition` must have shape \(2, 2\)"),
        ({"transition_cov": np.array([[1.0, 0.5], [0.0, 1.0]])}, "`transition_cov` must be symmetric"),
        ({"transition_cov": -np.eye(2)}, "`transition_cov` must be positive semi-definite"),
        ({"observation_cov": np.zeros((1, 1))}, "`observation_cov` must be positive definite"),
        ({"initial_mean": [0.0, np.nan]}, "`initial_mean` must be 2 finite numbers"),
        ({"observation": [["a", "b"]]}, "`observation`"),
        ({"initial_cov": np.full((2, 2), np.inf)}, "`initial_cov` must be finite"),
    ],
)
def test_bad_model_settings_are_named(kwargs, message):
    settings = {
        "transition": np.eye(2),
        "transition_cov": np.eye(2),
        "observation": np.array([[1.0, 0.0]]),
        "observation_cov": 1.0,
        "initial_mean": np.zeros(2),
        "initial_cov": np.eye(2),
    }
    with pytest.raises((ValueError, TypeError), match=message):
        LinearGaussianSSM(**{**settings, **kwargs})


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.ones((5, 3)), r"`y` must have shape \(T, 2\)"),
        (np.empty((0, 2)), "`y` is empty"),
        (np.array([[1.0, np.inf]]), "`y` has an infinite value at index \\(0, 1\\); mark a missing"),
        ([["1.0", "x"]], "`y`"),
    ],
)
def test_bad_series_are_named(model, y, message):
    with pytest.raises((ValueError, TypeError), match=message):
        model.filter(y)
