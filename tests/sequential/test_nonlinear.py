"""EKF, UKF and the bootstrap particle filter: exact on linear models, consistent with each other on non-linear ones."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bayeskit.sequential import LinearGaussianSSM, NonlinearSSM


@pytest.fixture(scope="module")
def linear():
    return LinearGaussianSSM(
        transition=np.array([[0.9, 0.2], [-0.1, 0.8]]),
        transition_cov=np.array([[0.3, 0.1], [0.1, 0.2]]),
        observation=np.array([[1.0, 0.5]]),
        observation_cov=0.4,
        initial_mean=np.array([0.5, -0.5]),
        initial_cov=np.eye(2),
    )


@pytest.fixture(scope="module")
def linear_series(linear):
    _, y = linear.sample(jax.random.key(0), 40)
    y[5] = np.nan
    return y


@pytest.mark.parametrize("method", ["ekf", "ukf"])
def test_gaussian_filters_equal_kalman_on_a_linear_model(linear, linear_series, method):
    exact = linear.filter(linear_series)
    approximate = NonlinearSSM.from_linear(linear).filter(linear_series, method=method)
    np.testing.assert_allclose(approximate.means, exact.means, atol=1e-9)
    np.testing.assert_allclose(approximate.covariances, exact.covariances, atol=1e-9)
    np.testing.assert_allclose(approximate.log_likelihood, exact.log_likelihood, atol=1e-9)


@pytest.mark.statistical
def test_particle_log_likelihood_converges_to_kalman(linear, linear_series):
    exact = float(linear.log_likelihood(linear_series))
    model = NonlinearSSM.from_linear(linear)
    errors = {}
    for num in (100, 5000):
        estimates = np.array(
            [float(model.particle_filter(jax.random.key(s), linear_series, num).log_likelihood) for s in range(8)]
        )
        errors[num] = np.sqrt(np.mean((estimates - exact) ** 2))
        if num == 5000:
            standard_error = estimates.std(ddof=1) / np.sqrt(len(estimates))
            # log of an unbiased estimate is biased down by about var/2: tiny at 5000 particles
            assert abs(estimates.mean() - exact) < 4 * standard_error + 0.02
    assert errors[5000] < 0.3 * errors[100]  # Monte Carlo error falls like 1 / sqrt(num_particles): 0.14


def test_particle_moments_track_the_kalman_filter(linear, linear_series):
    exact = linear.filter(linear_series)
    particles = NonlinearSSM.from_linear(linear).particle_filter(jax.random.key(1), linear_series, 4000)
    assert particles.means.shape == exact.means.shape and particles.ess.shape == (40,)
    np.testing.assert_allclose(particles.means, exact.means, atol=6 * np.sqrt(exact.var().max() / 1000))
    np.testing.assert_allclose(particles.var(), exact.var(), rtol=0.25)
    assert particles.resampled.any() and np.all(particles.ess <= 4000 + 1e-6)
    # Missing step: nothing to weigh, so the ESS does not drop below where it was.
    assert particles.ess[5] == pytest.approx(4000, rel=1e-6) or particles.resampled[4]


def pendulum():
    dt = 0.05

    def transition(x):
        return jnp.array([x[0] + dt * x[1], x[1] - dt * 9.81 * jnp.sin(x[0])])

    return NonlinearSSM(
        transition,
        np.diag([1e-4, 1e-2]),
        lambda x: jnp.sin(x[:1]),
        [[0.05]],
        initial_mean=[1.2, 0.0],
        initial_cov=np.diag([0.05, 0.05]),
    )


def test_ekf_ukf_and_particles_agree_on_a_mildly_nonlinear_model():
    model = pendulum()
    rng = np.random.default_rng(0)
    state, truth, ys = np.array([1.2, 0.0]), [], []
    for _ in range(60):
        truth.append(state)
        ys.append(np.sin(state[:1]) + rng.normal(0, np.sqrt(0.05), 1))
        state = np.asarray(model.transition_fn(jnp.asarray(state))) + rng.normal(0, [0.01, 0.1])
    ys, truth = np.array(ys), np.array(truth)
    ekf, ukf = model.filter(ys, "ekf"), model.filter(ys, "ukf")
    particles = model.particle_filter(jax.random.key(0), ys, 5000)
    assert abs(float(ukf.log_likelihood) - float(particles.log_likelihood)) < 2.0
    assert abs(float(ekf.log_likelihood) - float(particles.log_likelihood)) < 2.0
    for estimate in (ekf, ukf, particles):
        # The angle is tracked: errors within 3 posterior sds at 95% of steps.
        z = np.abs(estimate.means[:, 0] - truth[:, 0]) / estimate.std()[:, 0]
        assert np.mean(z < 3) > 0.9


def test_particle_filter_is_reproducible_and_key_dependent(linear, linear_series):
    model = NonlinearSSM.from_linear(linear)
    first = model.particle_filter(jax.random.key(5), linear_series, 200).log_likelihood
    again = model.particle_filter(jax.random.key(5), linear_series, 200).log_likelihood
    other = model.particle_filter(jax.random.key(6), linear_series, 200).log_likelihood
    assert first == again and first != other


@pytest.mark.parametrize(
    ("change", "message", "error"),
    [
        ({"transition_fn": 3.0}, "`transition_fn` must be a function", TypeError),
        ({"transition_fn": lambda x: x[:1]}, r"`transition_fn` must return shape \(2,\)", ValueError),
        ({"observation_fn": lambda x: x[0]}, r"`observation_fn` must return a 1-D array", ValueError),
        ({"observation_fn": lambda x: x @ jnp.ones(5)}, "calling them failed", TypeError),
        ({"observation_cov": [[0.0]]}, "`observation_cov` must be positive definite", ValueError),
        ({"initial_mean": [0.0, np.inf]}, "`initial_mean` must be a 1-D array of finite", ValueError),
    ],
)
def test_bad_nonlinear_models_are_named(change, message, error):
    settings = {
        "transition_fn": lambda x: x,
        "transition_cov": np.eye(2),
        "observation_fn": lambda x: x[:1],
        "observation_cov": [[1.0]],
        "initial_mean": [0.0, 0.0],
        "initial_cov": np.eye(2),
    }
    with pytest.raises(error, match=message):
        NonlinearSSM(**{**settings, **change})


def test_bad_filter_arguments_are_named(linear, linear_series):
    model = NonlinearSSM.from_linear(linear)
    with pytest.raises(ValueError, match="unknown method"):
        model.filter(linear_series, method="kf")
    with pytest.raises(ValueError, match="`num_particles` must be at least 2"):
        model.particle_filter(jax.random.key(0), linear_series, 1)
    with pytest.raises(ValueError, match="`ess_threshold` must be in"):
        model.particle_filter(jax.random.key(0), linear_series, 10, ess_threshold=2.0)
    with pytest.raises(TypeError, match=r"`key` must be a JAX key, a numpy\.random\.Generator or an int seed"):
        model.particle_filter(None, linear_series, 10)
    # an int seed is a key like any other: the same seed, the same particles
    first, second = (model.particle_filter(7, linear_series, 10).means for _ in range(2))
    np.testing.assert_array_equal(first, second)
