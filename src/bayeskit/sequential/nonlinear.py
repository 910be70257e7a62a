"""Non-linear state-space models: extended and unscented Kalman filters, and a bootstrap particle filter.

The model, with Gaussian noises and any JAX-traceable ``transition_fn`` and
``observation_fn``::

    x_1 ~ N(initial_mean, initial_cov)
    x_t = transition_fn(x_{t-1}) + N(0, transition_cov)
    y_t = observation_fn(x_t) + N(0, observation_cov)

- **EKF**: linearize both functions at the current mean (Jacobians by ``jax.jacfwd``).
- **UKF**: propagate ``2d + 1`` sigma points through the functions (scaled unscented
  transform, parameters ``alpha``, ``beta``, ``kappa``).
- **Particle filter**: the bootstrap filter with systematic resampling whenever the
  effective sample size falls below ``ess_threshold * num_particles``; its likelihood
  estimate is unbiased for ``p(y)`` (so ``log`` of it is slightly low on average).

On a linear model the EKF and UKF are the Kalman filter exactly (tests). Each is one
``lax.scan``; NaN in ``y`` marks a missing value.

References
----------
Särkkä, S. (2013). Bayesian Filtering and Smoothing, algorithms 5.4 (EKF), 5.14 (UKF) and 7.5 (bootstrap).
Julier, S. J. & Uhlmann, J. K. (2004). Unscented filtering and nonlinear estimation. Proc. IEEE 92(3).
Van der Merwe, R. (2004). Sigma-point Kalman filters for probabilistic inference in dynamic state-space models.
Kitagawa, G. (1996). Monte Carlo filter and smoother for non-Gaussian nonlinear state space models
(systematic resampling).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_factor, cho_solve
from jax.scipy.special import logsumexp

from bayeskit._rng import as_jax_key
from bayeskit._validate import as_float_array, check_choice
from bayeskit.sequential.estimate import StateEstimate
from bayeskit.sequential.kalman import gaussian_log_density, mask_noise, masked_update, symmetrize
from bayeskit.sequential.linear import LinearGaussianSSM, _matrix, check_series

__all__ = [
    "NoiseParams",
    "NonlinearSSM",
    "ParticleEstimate",
    "bootstrap_particle_filter",
    "extended_kalman_filter",
    "unscented_kalman_filter",
]


class NoiseParams(NamedTuple):
    """The Gaussian parts of a non-linear state-space model (a pytree)."""

    transition_cov: jax.Array  # (d, d)
    observation_cov: jax.Array  # (m, m)
    initial_mean: jax.Array  # (d,)
    initial_cov: jax.Array  # (d, d)


@dataclass(frozen=True)
class _LinearMap:
    """``x -> matrix @ x`` with equality by value, so equal linear models share compiled filters."""

    shape: tuple[int, ...]
    entries: tuple[float, ...]

    def __call__(self, x):
        return jnp.asarray(self.entries, x.dtype).reshape(self.shape) @ x

    @classmethod
    def of(cls, matrix: np.ndarray) -> _LinearMap:
        return cls(tuple(matrix.shape), tuple(float(v) for v in matrix.ravel()))


def _value_and_jacobian(fn, x):
    """``fn(x)`` and its Jacobian from one forward-mode pass."""
    jacobian, value = jax.jacfwd(lambda z: (lambda v: (v, v))(fn(z)), has_aux=True)(x)
    return value, jacobian


def extended_kalman_filter(transition_fn, observation_fn, params: NoiseParams, y: jax.Array):
    """EKF over ``y`` ``(T, m)``; returns ``(means, covariances, log_likelihood)`` (traceable)."""

    def step(carry, inputs):
        mean, cov = carry
        y_t, observed_t = inputs
        predicted, jacobian = _value_and_jacobian(observation_fn, mean)
        mean, cov, log_density = masked_update(mean, cov, y_t, observed_t, jacobian, params.observation_cov, predicted)
        next_mean, transition = _value_and_jacobian(transition_fn, mean)
        next_cov = symmetrize(transition @ cov @ transition.T + params.transition_cov)
        return (next_mean, next_cov), (mean, cov, log_density)

    _, (means, covs, log_densities) = jax.lax.scan(step, (params.initial_mean, params.initial_cov), (y, ~jnp.isnan(y)))
    return means, covs, jnp.sum(log_densities)


def _sigma_points(mean, cov, alpha, beta, kappa):
    dimension = mean.shape[0]
    spread = alpha**2 * (dimension + kappa) - dimension
    factor = jnp.linalg.cholesky((dimension + spread) * cov)
    points = jnp.concatenate([mean[None], mean + factor.T, mean - factor.T])
    weight = 1.0 / (2 * (dimension + spread))
    mean_weights = jnp.full(2 * dimension + 1, weight).at[0].set(spread / (dimension + spread))
    cov_weights = mean_weights.at[0].add(1 - alpha**2 + beta)
    return points, mean_weights, cov_weights


def _unscented(fn, mean, cov, alpha, beta, kappa):
    points, mean_weights, cov_weights = _sigma_points(mean, cov, alpha, beta, kappa)
    images = jax.vmap(fn)(points)
    image_mean = mean_weights @ images
    centered_images, centered_points = images - image_mean, points - mean
    image_cov = (cov_weights[:, None] * centered_images).T @ centered_images
    cross_cov = (cov_weights[:, None] * centered_points).T @ centered_images
    return image_mean, image_cov, cross_cov


def unscented_kalman_filter(
    transition_fn, observation_fn, params: NoiseParams, y: jax.Array, alpha=1.0, beta=2.0, kappa=0.0
):
    """UKF over ``y`` ``(T, m)``; returns ``(means, covariances, log_likelihood)`` (traceable)."""

    def step(carry, inputs):
        mean, cov = carry
        y_t, observed_t = inputs
        predicted, innovation_cov, cross_cov = _unscented(observation_fn, mean, cov, alpha, beta, kappa)
        innovation_cov, weight = mask_noise(symmetrize(innovation_cov + params.observation_cov), observed_t)
        cross_cov = cross_cov * weight[None, :]
        residual = jnp.where(observed_t, y_t - predicted, 0.0)
        factor = cho_factor(innovation_cov, lower=True)
        gain = cho_solve(factor, cross_cov.T).T
        mean = mean + gain @ residual
        cov = symmetrize(cov - gain @ innovation_cov @ gain.T)
        log_density = gaussian_log_density(factor, residual, jnp.sum(weight))
        next_mean, next_cov, _ = _unscented(transition_fn, mean, cov, alpha, beta, kappa)
        return (next_mean, symmetrize(next_cov + params.transition_cov)), (mean, cov, log_density)

    _, (means, covs, log_densities) = jax.lax.scan(step, (params.initial_mean, params.initial_cov), (y, ~jnp.isnan(y)))
    return means, covs, jnp.sum(log_densities)


def _systematic_resample(key, weights):
    num = weights.shape[0]
    positions = (jax.random.uniform(key, dtype=weights.dtype) + jnp.arange(num, dtype=weights.dtype)) / num
    return jnp.clip(jnp.searchsorted(jnp.cumsum(weights), positions), 0, num - 1)


def bootstrap_particle_filter(
    key, transition_fn, observation_fn, params: NoiseParams, y: jax.Array, num_particles: int, ess_threshold=0.5
):
    """Bootstrap particle filter over ``y`` ``(T, m)`` (traceable; ``num_particles`` static).

    Returns ``(means, covariances, ess, resampled, log_likelihood)``: the weighted
    moments of the cloud after each observation, its effective sample size (before
    any resampling), whether it was resampled, and the estimate of ``log p(y)``.
    """
    dimension = params.initial_mean.shape[0]
    key_initial, key_steps = jax.random.split(key)
    state_factor = jnp.linalg.cholesky(params.transition_cov + 1e-12 * jnp.eye(dimension))
    particles = (
        params.initial_mean
        + jax.random.normal(key_initial, (num_particles, dimension), params.initial_mean.dtype)
        @ jnp.linalg.cholesky(params.initial_cov).T
    )
    log_weights = jnp.full(num_particles, -jnp.log(num_particles), params.initial_mean.dtype)

    def step(carry, inputs):
        particles, log_weights = carry
        y_t, observed_t, key_t = inputs
        key_resample, key_move = jax.random.split(key_t)
        noise, weight = mask_noise(params.observation_cov, observed_t)
        residuals = jnp.where(observed_t, y_t - jax.vmap(observation_fn)(particles), 0.0)
        log_density = gaussian_log_density(cho_factor(noise, lower=True), residuals, jnp.sum(weight))
        updated = log_weights + log_density
        increment = logsumexp(updated) - logsumexp(log_weights)
        updated = updated - logsumexp(updated)
        weights = jnp.exp(updated)
        mean = weights @ particles
        centered = particles - mean
        cov = (weights[:, None] * centered).T @ centered
        ess = 1.0 / jnp.sum(weights**2)
        resample = ess < ess_threshold * num_particles
        indices = _systematic_resample(key_resample, weights)
        particles = jnp.where(resample, particles[indices], particles)
        updated = jnp.where(resample, -jnp.log(num_particles).astype(particles.dtype), updated)
        moved = (
            jax.vmap(transition_fn)(particles)
            + jax.random.normal(key_move, particles.shape, particles.dtype) @ state_factor.T
        )
        return (moved, updated), (mean, cov, ess, resample, increment)

    keys = jax.random.split(key_steps, y.shape[0])
    _, (means, covs, ess, resampled, increments) = jax.lax.scan(
        step, (particles, log_weights), (y, ~jnp.isnan(y), keys)
    )
    return means, covs, ess, resampled, jnp.sum(increments)


@dataclass(frozen=True)
class ParticleEstimate(StateEstimate):
    """A particle filter's result: the cloud's weighted mean and covariance per step, its ESS and resampling steps.

    ``interval`` and ``sample`` use a Gaussian with the cloud's moments (a summary; the
    cloud itself can be skewed or multi-modal). ``log_likelihood`` is the estimate of
    ``log p(y)``.
    """

    ess: np.ndarray | None = None
    resampled: np.ndarray | None = None


@dataclass(frozen=True)
class NonlinearSSM:
    """A state-space model with non-linear transition and observation functions and Gaussian noises.

    Parameters
    ----------
    transition_fn
        ``x_{t-1} (d,) -> E[x_t] (d,)``, written with ``jax.numpy`` (differentiated for the EKF).
    transition_cov
        ``(d, d)`` state-noise covariance.
    observation_fn
        ``x_t (d,) -> E[y_t] (m,)``.
    observation_cov
        ``(m, m)`` observation-noise covariance (positive definite).
    initial_mean, initial_cov
        Prior of the first state.

    Examples
    --------
    A pendulum's angle seen through its horizontal position ``sin(angle)``:

    >>> import jax.numpy as jnp
    >>> import numpy as np
    >>> from bayeskit.sequential import NonlinearSSM
    >>> step = lambda x: jnp.array([x[0] + 0.1 * x[1], x[1] - 0.1 * 9.81 * jnp.sin(x[0])])
    >>> model = NonlinearSSM(step, 0.01 * np.eye(2), lambda x: jnp.sin(x[:1]), [[0.1]], [1.0, 0.0], np.eye(2))
    >>> estimate = model.filter(np.sin(np.linspace(1.0, -1.0, 20))[:, None], method="ukf")
    >>> estimate.mean().shape
    (20, 2)

    """

    transition_fn: Callable
    transition_cov: Any
    observation_fn: Callable
    observation_cov: Any
    initial_mean: Any
    initial_cov: Any

    def __post_init__(self):
        for name in ("transition_fn", "observation_fn"):
            if not callable(getattr(self, name)):
                raise TypeError(f"`{name}` must be a function of the state; got {type(getattr(self, name)).__name__}.")
        mean = np.atleast_1d(as_float_array(self.initial_mean, "initial_mean"))
        dimension = mean.shape[0]
        if mean.ndim != 1 or not np.all(np.isfinite(mean)):
            raise ValueError(f"`initial_mean` must be a 1-D array of finite numbers; got shape {mean.shape}.")
        with jax.enable_x64(True):
            try:
                output_shape = jax.eval_shape(self.observation_fn, jnp.zeros(dimension)).shape
                state_shape = jax.eval_shape(self.transition_fn, jnp.zeros(dimension)).shape
            except Exception as error:  # the user's function failed on a state vector
                raise TypeError(
                    f"`transition_fn` and `observation_fn` must take a state of shape ({dimension},) "
                    f"and return arrays; calling them failed: {error}"
                ) from None
        if len(output_shape) != 1:
            raise ValueError(f"`observation_fn` must return a 1-D array (m,); it returns shape {output_shape}.")
        outputs = output_shape[0]
        if state_shape != (dimension,):
            raise ValueError(f"`transition_fn` must return shape ({dimension},); it returns {state_shape}.")
        object.__setattr__(self, "initial_mean", mean)
        for name, shape in {
            "transition_cov": (dimension, dimension),
            "observation_cov": (outputs, outputs),
            "initial_cov": (dimension, dimension),
        }.items():
            object.__setattr__(self, name, _matrix(getattr(self, name), name, shape, covariance=True))
        if np.linalg.eigvalsh(self.observation_cov).min() <= 0:
            raise ValueError("`observation_cov` must be positive definite (every observation needs some noise).")

    @classmethod
    def from_linear(cls, model: LinearGaussianSSM) -> NonlinearSSM:
        """The same model with ``x -> F x`` and ``x -> H x`` as functions (for the particle filter)."""
        return cls(
            _LinearMap.of(model.transition),
            model.transition_cov,
            _LinearMap.of(model.observation),
            model.observation_cov,
            model.initial_mean,
            model.initial_cov,
        )

    @property
    def observation_dim(self) -> int:
        """``m``, the number of observed quantities per step."""
        return self.observation_cov.shape[0]

    def noise_params(self) -> NoiseParams:
        """The Gaussian parts as a float64 pytree (call inside ``jax.enable_x64(True)``)."""
        return NoiseParams(*(jnp.asarray(getattr(self, name), jnp.float64) for name in NoiseParams._fields))

    def filter(self, y: Any, method: str = "ukf", alpha: float = 1.0, beta: float = 2.0, kappa: float = 0.0):
        """Gaussian filter: ``method="ekf"`` (extended) or ``"ukf"`` (unscented, default).

        Parameters
        ----------
        y
            ``(T, m)`` observations (``(T,)`` when ``m = 1``); NaN marks a missing value.
        method
            ``"ekf"`` or ``"ukf"``.
        alpha, beta, kappa
            The unscented transform's spread, prior-knowledge and secondary scaling parameters.

        Returns
        -------
        StateEstimate
            Filtered means and covariances, and the filter's approximation of ``log p(y)``.
        """
        check_choice(method, "method", ("ekf", "ukf"))
        y = check_series(y, self.observation_dim)
        if y.ndim != 2:
            raise ValueError("non-linear filters take one series (T, m) at a time.")
        with jax.enable_x64(True):
            if method == "ekf":
                run = _cached("ekf", self.transition_fn, self.observation_fn)
                means, covs, log_likelihood = run(self.noise_params(), jnp.asarray(y))
            else:
                run = _cached("ukf", self.transition_fn, self.observation_fn)
                means, covs, log_likelihood = run(self.noise_params(), jnp.asarray(y), alpha, beta, kappa)
            means, covs, log_likelihood = np.asarray(means), np.asarray(covs), np.asarray(log_likelihood)
        if not (np.isfinite(log_likelihood) and np.all(np.isfinite(means))):
            raise FloatingPointError(
                f"the {method.upper()} diverged (non-finite values); try method='ukf', a smaller initial_cov, "
                "or the particle filter for strongly non-linear models."
            )
        return StateEstimate(means, covs, log_likelihood, "filtered")

    def particle_filter(self, key: Any, y: Any, num_particles: int = 1000, ess_threshold: float = 0.5):
        """Bootstrap particle filter with systematic resampling when ESS < ``ess_threshold * num_particles``.

        Returns
        -------
        ParticleEstimate
            Weighted moments per step, ESS, resampling steps and the estimate of ``log p(y)``.
        """
        key = as_jax_key(key)
        if int(num_particles) < 2:
            raise ValueError(f"`num_particles` must be at least 2; got {num_particles}.")
        if not 0.0 <= float(ess_threshold) <= 1.0:
            raise ValueError(f"`ess_threshold` must be in [0, 1] (a fraction of num_particles); got {ess_threshold}.")
        y = check_series(y, self.observation_dim)
        if y.ndim != 2:
            raise ValueError("the particle filter takes one series (T, m) at a time.")
        with jax.enable_x64(True):
            run = _cached("particles", self.transition_fn, self.observation_fn, int(num_particles))
            out = run(key, self.noise_params(), jnp.asarray(y), float(ess_threshold))
            means, covs, ess, resampled, log_likelihood = (np.asarray(a) for a in out)
        return ParticleEstimate(means, covs, log_likelihood, "particle", ess, resampled)


@lru_cache(maxsize=32)
def _cached(kind, *static):
    """The jitted filter of ``kind`` for these functions (and particle count), compiled once per model."""
    if kind == "ekf":
        return jax.jit(partial(extended_kalman_filter, *static))
    if kind == "ukf":
        return jax.jit(partial(unscented_kalman_filter, *static))
    transition_fn, observation_fn, num_particles = static

    def run(key, params, y, threshold):
        return bootstrap_particle_filter(key, transition_fn, observation_fn, params, y, num_particles, threshold)

    return jax.jit(run)
