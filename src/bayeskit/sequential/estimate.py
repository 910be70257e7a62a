"""``StateEstimate``: Gaussian beliefs over the state at every time step, with the posterior API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bayeskit._validate import check_choice, check_prob

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

    def interval(self, prob: float = 0.95, kind: str = "eti") -> tuple[np.ndarray, np.ndarray]:
        """Central credible band per step and variable (Gaussian: the HDI is the same interval)."""
        prob = check_prob(prob)
        check_choice(kind, "kind", ("eti", "hdi"))
        half = stats.norm.ppf(0.5 + prob / 2) * self.std()
        return self.means - half, self.means + half

    def sample(self, rng: Any, num_samples: int) -> np.ndarray:
        """``(num_samples, ..., T, d)`` draws of each step's marginal (joint over variables, not over time)."""
        from bayeskit._rng import as_generator

        factor = np.linalg.cholesky(self.covariances + 1e-12 * np.eye(self.means.shape[-1]))
        noise = as_generator(rng).standard_normal((int(num_samples), *self.means.shape))
        return self.means + np.einsum("...ij,s...j->s...i", factor, noise)

    def summary(self, prob: float = 0.95, names: list[str] | None = None) -> pd.DataFrame:
        """One row per step and state variable: mean, sd and the central interval (single series)."""
        if self.means.ndim != 2:
            raise ValueError("summary() is for one series; index a batch first, e.g. estimate.series(0).")
        low, high = self.interval(prob)
        steps, dimension = self.means.shape
        names = names or [f"x{i}" for i in range(dimension)]
        if len(names) != dimension:
            raise ValueError(f"`names` must have {dimension} entries, one per state variable; got {len(names)}.")
        label = f"{100 * prob:g}%"
        return pd.DataFrame(
            {
                "step": np.repeat(np.arange(steps), dimension),
                "state": np.tile(names, steps),
                "mean": self.means.ravel(),
                "sd": self.std().ravel(),
                f"{label} low": low.ravel(),
                f"{label} high": high.ravel(),
            }
        )

    def series(self, index: int) -> StateEstimate:
        """The estimate of one series of a batch."""
        if self.means.ndim != 3:
            raise ValueError("series() needs a batch of series (estimate from a 3-D y).")
        return StateEstimate(self.means[index], self.covariances[index], self.log_likelihood[index], self.kind)

    def to_arviz(self, rng: Any, num_draws: int = 1000, num_chains: int = 4):
        """``InferenceData`` with exact draws of each step's marginal, dims ``(chain, draw, time, state)``."""
        import arviz as az

        if self.means.ndim != 2:
            raise ValueError("to_arviz() is for one series; index a batch first, e.g. estimate.series(0).")
        draws = self.sample(rng, num_draws * num_chains).reshape(num_chains, num_draws, *self.means.shape)
        return az.from_dict(posterior={"state": draws}, dims={"state": ["time", "state_dim"]})
