"""Kalman filter and Rauch-Tung-Striebel smoother: the exact posterior of a linear-Gaussian state-space model.

The model, for ``t = 1..T``::

    x_1 ~ N(initial_mean, initial_cov)
    x_t = transition @ x_{t-1} + N(0, transition_cov)
    y_t = observation @ x_t + N(0, observation_cov)

Both passes are one ``lax.scan`` each (no Python loop over time), traceable under
``jit``/``grad``/``vmap``: :func:`kalman_filter` returns the log-likelihood of the
data, so noise parameters can be learned by gradient or NUTS. Missing observations
are NaN in ``y``; a partly observed step uses the observed entries only. The
covariance update is the Joseph form, which stays symmetric positive semi-definite
under round-off.

References
----------
Kalman, R. E. (1960). A new approach to linear filtering and prediction problems.
Rauch, H. E., Tung, F. & Striebel, C. T. (1965). Maximum likelihood estimates of linear dynamic systems.
Särkkä, S. (2013). Bayesian Filtering and Smoothing, algorithms 4.3 (filter) and 8.2 (RTS smoother).
Bucy, R. S. & Joseph, P. D. (1968). Filtering for Stochastic Processes (the Joseph form).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve

__all__ = ["FilterOutput", "SSMParams", "SmootherOutput", "kalman_filter", "rts_smoother"]

LOG_2PI = math.log(2.0 * math.pi)


class SSMParams(NamedTuple):
    """Matrices of a time-invariant linear-Gaussian state-space model (a pytree)."""

    transition: jax.Array  # (d, d)
    transition_cov: jax.Array  # (d, d)
    observation: jax.Array  # (m, d)
    observation_cov: jax.Array  # (m, m)
    initial_mean: jax.Array  # (d,)
    initial_cov: jax.Array  # (d, d)


class FilterOutput(NamedTuple):
    """Filtered and one-step-predicted moments per step, and the log-likelihood of the series."""

    means: jax.Array  # (T, d): E[x_t | y_1..t]
    covariances: jax.Array  # (T, d, d)
    predicted_means: jax.Array  # (T, d): E[x_t | y_1..t-1]
    predicted_covariances: jax.Array  # (T, d, d)
    log_likelihood: jax.Array  # (): log p(y_1..T)


class SmootherOutput(NamedTuple):
    """Smoothed moments ``E[x_t | y_1..T]`` per step and the log-likelihood of the series."""

    means: jax.Array  # (T, d)
    covariances: jax.Array  # (T, d, d)
    log_likelihood: jax.Array  # ()


def symmetrize(matrix: jax.Array) -> jax.Array:
    """``(A + A^T) / 2`` over the last two axes: removes the round-off asymmetry of covariance updates."""
    return 0.5 * (matrix + jnp.swapaxes(matrix, -1, -2))


def mask_noise(covariance: jax.Array, observed: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``covariance`` with missing entries made inert (unit variance, no correlation), and the 0/1 weights."""
    weight = observed.astype(covariance.dtype)
    return covariance * jnp.outer(weight, weight) + jnp.diag(1.0 - weight), weight


def gaussian_log_density(factor: tuple, residuals: jax.Array, num_observed: jax.Array) -> jax.Array:
    """``log N(r; 0, L L^T)`` for residuals ``(m,)`` or ``(n, m)`` whose missing entries are zero.

    Each inert entry (zero residual, unit variance) adds nothing but its ``log 2 pi``
    term, so only ``num_observed`` of those are counted.
    """
    log_det = 2.0 * jnp.sum(jnp.log(jnp.diagonal(factor[0])))
    whitened = jax.scipy.linalg.solve_triangular(factor[0], residuals.T, lower=True)
    return -0.5 * (jnp.sum(whitened**2, axis=0) + log_det + num_observed * LOG_2PI)


def masked_update(mean, cov, y, observed, observation, observation_cov, predicted_observation=None):
    """Condition ``N(mean, cov)`` on the observed entries of ``y = observation @ x + noise``.

    Missing entries get a zero observation row, unit noise and a zero residual, which
    makes them inert: the gain has zero columns for them, and the log density counts
    only the observed entries. ``predicted_observation`` (default ``observation @ mean``)
    is ``h(mean)`` for the extended filter, where ``observation`` is the Jacobian of ``h``.
    Returns the posterior mean, covariance and ``log p(y_observed | past)``.
    """
    noise, weight = mask_noise(observation_cov, observed)
    predicted = observation @ mean if predicted_observation is None else predicted_observation
    observation = observation * weight[:, None]
    residual = jnp.where(observed, y - predicted, 0.0)
    innovation_cov = symmetrize(observation @ cov @ observation.T + noise)
    factor = cho_factor(innovation_cov, lower=True)
    gain = cho_solve(factor, observation @ cov).T  # (d, m)
    new_mean = mean + gain @ residual
    keep = jnp.eye(mean.shape[0], dtype=mean.dtype) - gain @ observation
    new_cov = symmetrize(keep @ cov @ keep.T + gain @ noise @ gain.T)  # Joseph form
    return new_mean, new_cov, gaussian_log_density(factor, residual, jnp.sum(weight))


def kalman_filter(params: SSMParams, y: jax.Array) -> FilterOutput:
    """Kalman filter of one series ``y`` ``(T, m)`` (NaN = missing); traceable.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from bayeskit.sequential.kalman import SSMParams, kalman_filter
    >>> params = SSMParams(*(jnp.eye(1) * v for v in (1.0, 0.1, 1.0, 1.0)), jnp.zeros(1), jnp.eye(1))
    >>> out = kalman_filter(params, jnp.array([[0.5], [1.0], [jnp.nan]]))
    >>> out.means.shape, bool(jnp.isfinite(out.log_likelihood))
    ((3, 1), True)

    """
    observed = ~jnp.isnan(y)

    def step(carry, inputs):
        predicted_mean, predicted_cov = carry
        y_t, observed_t = inputs
        mean, cov, log_density = masked_update(
            predicted_mean, predicted_cov, y_t, observed_t, params.observation, params.observation_cov
        )
        next_mean = params.transition @ mean
        next_cov = symmetrize(params.transition @ cov @ params.transition.T + params.transition_cov)
        return (next_mean, next_cov), (mean, cov, predicted_mean, predicted_cov, log_density)

    _, (means, covs, predicted_means, predicted_covs, log_densities) = jax.lax.scan(
        step, (params.initial_mean, params.initial_cov), (y, observed)
    )
    return FilterOutput(means, covs, predicted_means, predicted_covs, jnp.sum(log_densities))


def rts_smoother(params: SSMParams, filtered: FilterOutput) -> SmootherOutput:
    """Rauch-Tung-Striebel smoother from a filter's output (a backward ``lax.scan``); traceable."""

    def step(carry, inputs):
        next_mean, next_cov = carry
        mean, cov, next_predicted_mean, next_predicted_cov = inputs
        factor = cho_factor(next_predicted_cov, lower=True)
        gain = cho_solve(factor, params.transition @ cov).T  # cov F^T P_pred^-1
        smoothed_mean = mean + gain @ (next_mean - next_predicted_mean)
        smoothed_cov = symmetrize(cov + gain @ (next_cov - next_predicted_cov) @ gain.T)
        return (smoothed_mean, smoothed_cov), (smoothed_mean, smoothed_cov)

    last = (filtered.means[-1], filtered.covariances[-1])
    inputs = (
        filtered.means[:-1],
        filtered.covariances[:-1],
        filtered.predicted_means[1:],
        filtered.predicted_covariances[1:],
    )
    _, (means, covs) = jax.lax.scan(step, last, inputs, reverse=True)
    means = jnp.concatenate([means, last[0][None]])
    covs = jnp.concatenate([covs, last[1][None]])
    return SmootherOutput(means, covs, filtered.log_likelihood)


def sample_series(key: jax.Array, params: SSMParams, num_steps: int) -> tuple[jax.Array, jax.Array]:
    """Simulate states ``(T, d)`` and observations ``(T, m)`` from the model; traceable."""
    key_initial, key_steps = jax.random.split(key)
    dimension, outputs = params.transition.shape[0], params.observation.shape[0]
    state_noise = jnp.linalg.cholesky(params.transition_cov + 1e-12 * jnp.eye(dimension))
    observation_noise = jnp.linalg.cholesky(params.observation_cov)
    initial = params.initial_mean + jnp.linalg.cholesky(params.initial_cov) @ jax.random.normal(
        key_initial, (dimension,), params.initial_mean.dtype
    )

    def step(state, key_t):
        key_state, key_observation = jax.random.split(key_t)
        y_t = params.observation @ state + observation_noise @ jax.random.normal(
            key_observation, (outputs,), state.dtype
        )
        next_state = params.transition @ state + state_noise @ jax.random.normal(key_state, (dimension,), state.dtype)
        return next_state, (state, y_t)

    _, (states, ys) = jax.lax.scan(step, initial, jax.random.split(key_steps, num_steps))
    return states, ys
