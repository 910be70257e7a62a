"""Sequential Bayesian inference: Kalman filtering and smoothing, extended and unscented filters, particle filters.

Today's posterior is tomorrow's prior: every filter here carries a Gaussian (or
particle) belief over a hidden state forward in time with one ``lax.scan``.
"""

from bayeskit.sequential.estimate import StateEstimate
from bayeskit.sequential.kalman import SSMParams, kalman_filter, rts_smoother
from bayeskit.sequential.linear import LinearGaussianSSM
from bayeskit.sequential.nonlinear import (
    NonlinearSSM,
    ParticleEstimate,
    bootstrap_particle_filter,
    extended_kalman_filter,
    unscented_kalman_filter,
)
from bayeskit.sequential.parallel import parallel_filter, parallel_smoother
from bayeskit.sequential.tracking import TrackFit, constant_velocity, constant_velocity_params, fit_tracker

__all__ = [
    "LinearGaussianSSM",
    "NonlinearSSM",
    "ParticleEstimate",
    "SSMParams",
    "StateEstimate",
    "TrackFit",
    "constant_velocity",
    "constant_velocity_params",
    "fit_tracker",
    "bootstrap_particle_filter",
    "extended_kalman_filter",
    "kalman_filter",
    "parallel_filter",
    "parallel_smoother",
    "rts_smoother",
    "unscented_kalman_filter",
]
