"""``StateEstimate``: Gaussian beliefs over the state at every time step, with the posterior API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bayeskit.posterior import (
    Finding,
    Interval,
    as_generator,
    check_interval_args,
    check_num_samples,
    interval_columns,
    require_key,
)

__all__ = ["StateEstimate"]


@dataclass(frozen=True)
class StateEstimate:
    """Per-step Gaussian marginals ``N(means[t], covariances[t])`` of the state, and ``log p(y)``.

    Arrays carry an optional leading series axis: ``means`` is ``(T, d)`` or
    ``(n_series, T, d)``, ``covariances`` ``(..., T, d, d)``, ``log_likelihood`` ``(...)``.
    ``kind`` is ``"filtered"`` (given the past) or ``"smoothed"`` (given the whole series).
    """

    means: np.ndarray
    covariances: np.ndarray
    log_likelihood: np.ndarray
    kind: str = "filtered"

    def mean(self) -> np.ndarray:
        """Posterior mean of the state per step, ``(..., T, d)``."""
        return self.means

    def var(self) -> np.ndarray:
        """Posterior variance of each state variable per step, ``(..., T, d)``."""
        return np.diagonal(self.covariances, axis1=-2, axis2=-1).copy()

    def std(self) -> np.ndarray:
        """Posterior standard deviation of each state variable per step."""
        return np.sqrt(np.maximum(self.var(), 0.0))

    def interval(self, prob: float = 0.95, kind: str = "eti") -> Interval:
        """Central credible band per step and variable (Gaussian: the HDI is the same interval)."""
        prob, kind = check_interval_args(prob, kind)
        half = stats.norm.ppf(0.5 + prob / 2) * self.std()
        return Interval(self.means - half, self.means + half)

    def check(self) -> tuple[Finding, ...]:
        """A finding when any mean or variance is NaN or infinite (empty otherwise)."""
        bad = int(np.sum(~np.isfinite(self.means)) + np.sum(~np.isfinite(self.var())))
        if not bad:
            return ()
        advice = "the filter diverged: check the noise covariances' scale and the observations for outliers."
        return (Finding("non-finite state estimates", bad, 0, f"in the {self.kind} estimate", advice),)

    def sample(self, key: Any, num_samples: int) -> np.ndarray:
        """``(num_samples, ..., T, d)`` draws of each step's marginal (joint over variables, not over time)."""
        factor = np.linalg.cholesky(self.covariances + 1e-12 * np.eye(self.means.shape[-1]))
        noise = as_generator(key).standard_normal((check_num_samples(num_samples), *self.means.shape))
        return self.means + np.einsum("...ij,s...j->s...i", factor, noise)

    def summary(self, prob: float = 0.95, kind: str = "eti", names: list[str] | None = None) -> pd.DataFrame:
        """One row per step and state variable: ``mean, sd, <kind>_<low>%, <kind>_<high>%`` (single series).

        Rows are indexed by ``(step, state)``; ``names`` label the state variables.
        """
        if self.means.ndim != 2:
            raise ValueError("summary() is for one series; index a batch first, e.g. estimate.series(0).")
        prob, kind = check_interval_args(prob, kind)
        low, high = self.interval(prob, kind)
        steps, dimension = self.means.shape
        names = names or [f"x{i}" for i in range(dimension)]
        if len(names) != dimension:
            raise ValueError(f"`names` must have {dimension} entries, one per state variable; got {len(names)}.")
        low_label, high_label = interval_columns(prob, kind)
        index = pd.MultiIndex.from_arrays(
            [np.repeat(np.arange(steps), dimension), np.tile(names, steps)], names=["step", "state"]
        )
        return pd.DataFrame(
            {"mean": self.means.ravel(), "sd": self.std().ravel(), low_label: low.ravel(), high_label: high.ravel()},
            index=index,
        )

    def series(self, index: int) -> StateEstimate:
        """The estimate of one series of a batch."""
        if self.means.ndim != 3:
            raise ValueError("series() needs a batch of series (estimate from a 3-D y).")
        return StateEstimate(self.means[index], self.covariances[index], self.log_likelihood[index], self.kind)

    def to_arviz(self, key: Any = None, num_draws: int = 1000, *, num_chains: int = 4):
        """An ArviZ ``DataTree`` with exact draws of each step's marginal, dims ``(chain, draw, time, state_dim)``.

        ``key`` is required: the draws are random.
        """
        from bayeskit._arviz import from_dict

        require_key(key, f"{type(self).__name__}.to_arviz()")
        if self.means.ndim != 2:
            raise ValueError("to_arviz() is for one series; index a batch first, e.g. estimate.series(0).")
        num_draws, num_chains = check_num_samples(num_draws, "num_draws"), check_num_samples(num_chains, "num_chains")
        draws = self.sample(key, num_draws * num_chains).reshape(num_chains, num_draws, *self.means.shape)
        return from_dict({"posterior": {"state": draws}}, dims={"state": ["time", "state_dim"]})
