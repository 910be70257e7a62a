"""Object tracking with a constant-velocity model: noisy positions in, smoothed positions and velocities out.

The state is ``(positions, velocities)`` in ``dims`` dimensions; between steps the
velocity takes a random kick (white-noise acceleration of spectral density
``process_noise``), and each position is seen with noise of variance
``measurement_noise``. :func:`fit_tracker` learns both noise levels by maximizing
the Kalman log-likelihood (L-BFGS-B with exact JAX gradients) and then filters and
smooths the track. The fit is scale-free: it runs on positions divided by their spread,
so metres, micrometres and kilometres give the same track in their own units, and a
noise level that ends on a bound of its search is reported by ``check()``, not as learned.

References
----------
Bar-Shalom, Y., Li, X. R. & Kirubarajan, T. (2001). Estimation with Applications to Tracking
and Navigation, section 6.2.2 (the discretized continuous white-noise acceleration model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from scipy import optimize

from bayeskit._validate import as_float_array, check_positive
from bayeskit.posterior import Finding
from bayeskit.sequential.estimate import StateEstimate
from bayeskit.sequential.kalman import SSMParams, kalman_filter
from bayeskit.sequential.linear import LinearGaussianSSM, check_series

__all__ = ["TrackFit", "constant_velocity", "constant_velocity_params", "fit_tracker"]


def constant_velocity_params(
    dt: float, process_noise: Any, measurement_noise: Any, dims: int = 2, initial_mean=None, initial_cov=None
) -> SSMParams:
    """The constant-velocity matrices as :class:`SSMParams`; traceable in the noise levels."""
    eye = jnp.eye(dims)
    transition = jnp.block([[eye, dt * eye], [jnp.zeros((dims, dims)), eye]])
    transition_cov = process_noise * jnp.block([[dt**3 / 3 * eye, dt**2 / 2 * eye], [dt**2 / 2 * eye, dt * eye]])
    observation = jnp.concatenate([eye, jnp.zeros((dims, dims))], axis=1)
    observation_cov = measurement_noise * eye
    initial_mean = jnp.zeros(2 * dims) if initial_mean is None else jnp.asarray(initial_mean)
    initial_cov = 1e4 * jnp.eye(2 * dims) if initial_cov is None else jnp.asarray(initial_cov)
    return SSMParams(transition, transition_cov, observation, observation_cov, initial_mean, initial_cov)


def constant_velocity(
    dt: float = 1.0,
    process_noise: float = 1.0,
    measurement_noise: float = 1.0,
    dims: int = 2,
    initial_mean: Any = None,
    initial_cov: Any = None,
) -> LinearGaussianSSM:
    """A validated constant-velocity :class:`LinearGaussianSSM` (state: ``dims`` positions, then velocities).

    Examples
    --------
    >>> from bayeskit.sequential import constant_velocity
    >>> model = constant_velocity(dt=0.5, process_noise=0.1, measurement_noise=4.0)
    >>> model.state_dim, model.observation_dim
    (4, 2)

    """
    for name, value in {"dt": dt, "process_noise": process_noise, "measurement_noise": measurement_noise}.items():
        check_positive(as_float_array(value, name), name)
    with jax.enable_x64(True):
        params = constant_velocity_params(float(dt), float(process_noise), float(measurement_noise), int(dims))
        params = params._replace(
            **{
                name: jnp.asarray(value, jnp.float64)
                for name, value in {"initial_mean": initial_mean, "initial_cov": initial_cov}.items()
                if value is not None
            }
        )
        return LinearGaussianSSM(*(np.asarray(a) for a in params))


@dataclass(frozen=True)
class TrackFit:
    """A fitted tracker: the model with learned noise levels, and the filtered and smoothed states."""

    model: LinearGaussianSSM
    process_noise: float
    measurement_noise: float
    filtered: StateEstimate
    smoothed: StateEstimate
    positions: np.ndarray
    dt: float
    scale: float = 1.0
    findings: tuple[Finding, ...] = field(default=())
    on_bound: tuple[str, ...] = ()  # "process_noise" / "measurement_noise": searched for, not learned

    @property
    def log_likelihood(self) -> float:
        """``log p(positions)`` under the fitted noise levels."""
        return float(self.filtered.log_likelihood)

    def check(self) -> tuple[Finding, ...]:
        """Failed checks of the fit (a learned noise level stuck on its bound); empty when healthy."""
        return self.findings


# Bounds of the log noise levels, in units of the positions' spread: a level this far from 1 means the
# data hold no information about it (a noise-free or a pure-noise track), so it is reported, not trusted.
LOG_NOISE_BOUNDS = (-25.0, 25.0)


def _diffuse_prior(positions: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """A wide prior on the first state; ``positions`` are in units of their spread (so the +1 is scale-free)."""
    dims = positions.shape[1]
    first = np.array([col[~np.isnan(col)][0] for col in positions.T])
    spread = np.nanstd(positions, axis=0) + 1.0
    speed = np.nanstd(np.diff(positions, axis=0), axis=0) / dt + 1.0
    return np.concatenate([first, np.zeros(dims)]), np.diag(np.concatenate([spread, 10 * speed]) ** 2)


def _scale(positions: np.ndarray) -> float:
    """The positions' spread: the pooled sd of the coordinates around their means (1 for a point)."""
    spread = float(np.sqrt(np.nanmean(np.nanvar(positions, axis=0))))
    return spread if np.isfinite(spread) and spread > 0 else 1.0


def fit_tracker(positions: Any, dt: float = 1.0, process_noise: float | None = None, measurement_noise=None):
    """Fit a constant-velocity tracker to ``positions`` ``(T, dims)`` (NaN = missed detection).

    Noise levels left as ``None`` are learned by maximum likelihood; the prior of the
    first state is centred on the first detection with a wide spread.

    Examples
    --------
    >>> import numpy as np
    >>> from bayeskit.sequential import fit_tracker
    >>> t = np.arange(40.0)
    >>> positions = np.c_[t, 0.5 * t] + np.random.default_rng(0).normal(0, 1.0, (40, 2))
    >>> fit = fit_tracker(positions)
    >>> velocity = fit.smoothed.mean()[-1, 2:]
    >>> bool(np.allclose(velocity, [1.0, 0.5], atol=0.2))
    True

    """
    dt = float(check_positive(as_float_array(dt, "dt"), "dt"))
    positions = as_float_array(positions, "positions")
    if positions.ndim == 1:
        positions = positions[:, None]
    positions = check_series(positions, positions.shape[-1] if positions.ndim == 2 else -1, "positions")
    if np.isnan(positions).all(axis=0).any():
        raise ValueError("`positions` has a column with no observed value; every coordinate needs at least one.")
    if (~np.isnan(positions).any(axis=1)).sum() < 3:
        raise ValueError("`positions` needs at least 3 observed rows to learn a track.")
    dims = positions.shape[1]
    fixed = {"process_noise": process_noise, "measurement_noise": measurement_noise}
    for name, value in fixed.items():
        if value is not None:
            check_positive(as_float_array(value, name), name)
    # Fit in units of the positions' spread: the model is linear, so both noise variances scale by scale**2.
    scale = _scale(positions)
    unit_mean, unit_cov = _diffuse_prior(positions / scale, dt)
    findings: tuple[Finding, ...] = ()
    on_bound: tuple[str, ...] = ()
    if process_noise is None or measurement_noise is None:
        unit_fixed = {name: None if value is None else float(value) / scale**2 for name, value in fixed.items()}
        learned, findings, on_bound = _maximize_likelihood(positions / scale, dt, unit_mean, unit_cov, unit_fixed)
        fixed = {name: fixed[name] if fixed[name] is not None else learned[name] * scale**2 for name in fixed}
    initial_mean, initial_cov = unit_mean * scale, unit_cov * scale**2
    model = constant_velocity(dt, fixed["process_noise"], fixed["measurement_noise"], dims, initial_mean, initial_cov)
    return TrackFit(
        model,
        float(fixed["process_noise"]),
        float(fixed["measurement_noise"]),
        model.filter(positions),
        model.smooth(positions),
        positions,
        dt,
        scale,
        findings,
        on_bound,
    )


@jax.jit
@jax.value_and_grad
def _negative_log_likelihood(log_noise, y, dt, initial_mean, initial_cov):
    """``-log p(y)`` at ``(log process noise, log measurement noise)``; compiled once per data shape."""
    params = constant_velocity_params(dt, jnp.exp(log_noise[0]), jnp.exp(log_noise[1]), y.shape[1])
    return -kalman_filter(params._replace(initial_mean=initial_mean, initial_cov=initial_cov), y).log_likelihood


def _maximize_likelihood(positions, dt, initial_mean, initial_cov, fixed) -> tuple[dict[str, float], tuple, tuple]:
    """Maximum-likelihood noise levels; a level given in ``fixed`` is held there (L-BFGS-B bounds).

    Returns the levels, a finding for each learned level that ended on a bound, and those levels' names.
    """
    differences = np.diff(positions, axis=0)
    start = {
        "process_noise": float(np.nanvar(np.diff(differences, axis=0)) / dt**3 + 1e-6),
        "measurement_noise": float(np.nanvar(differences) / 2 + 1e-6),
    }
    names = ("process_noise", "measurement_noise")
    bounds = [LOG_NOISE_BOUNDS if fixed[n] is None else (np.log(fixed[n]),) * 2 for n in names]
    start_point = [start[n] if fixed[n] is None else fixed[n] for n in names]
    with jax.enable_x64(True):
        arguments = (
            jnp.asarray(positions, jnp.float64),
            jnp.asarray(dt, jnp.float64),
            jnp.asarray(initial_mean, jnp.float64),
            jnp.asarray(initial_cov, jnp.float64),
        )

        def objective(log_noise):
            value, gradient = _negative_log_likelihood(jnp.asarray(log_noise, jnp.float64), *arguments)
            return float(value), np.asarray(gradient, dtype=float)

        start_point = np.clip(np.log(start_point), *LOG_NOISE_BOUNDS)
        result = optimize.minimize(objective, start_point, jac=True, method="L-BFGS-B", bounds=bounds)
    stuck = {
        name: bound
        for name, value in zip(names, result.x, strict=True)
        if fixed[name] is None
        for bound in LOG_NOISE_BOUNDS
        if abs(value - bound) < 1e-3
    }
    findings = tuple(
        Finding(
            check=f"log {name.replace('_', ' ')} (in units of the positions' spread squared)",
            value=float(result.x[names.index(name)]),
            threshold=float(bound),
            where="on the bound of its search",
            advice=(
                "the data show none at all"
                if bound == LOG_NOISE_BOUNDS[0]
                else "the data cannot tell it from an unbounded one"
            )
            + f", so it is not learned; give it with --{name.replace('_', '-')} (or `{name}=`) from what you "
            "know of the sensor or the motion.",
        )
        for name, bound in stuck.items()
    )
    learned = {n: float(np.exp(v)) if fixed[n] is None else fixed[n] for n, v in zip(names, result.x, strict=True)}
    return learned, findings, tuple(stuck)
