"""The posterior predictive of a Bayesian network for regression: an equal-weight mixture of Gaussians.

Each component is one ensemble member, dropout pass, SWAG or Laplace draw: a
predicted mean and a noise variance per input. The mixture's variance splits into
aleatoric (mean of the variances) and epistemic (variance of the means) parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from bayeskit._validate import check_prob
from bayeskit.evaluate.decompose import Decomposition, decompose_regression

__all__ = ["GaussianMixturePredictive"]


@dataclass(frozen=True)
class GaussianMixturePredictive:
    """``means`` and ``variances`` of shape ``(K, n)``: K equally weighted Gaussians for each of n inputs."""

    means: np.ndarray
    variances: np.ndarray
    method: str = ""

    def __post_init__(self):
        if self.means.shape != self.variances.shape or self.means.ndim != 2:
            raise ValueError(
                f"`means` and `variances` must both be (K, n); got {self.means.shape} and {self.variances.shape}."
            )

    def mean(self) -> np.ndarray:
        """Predictive mean per input."""
        return self.means.mean(axis=0)

    def var(self) -> np.ndarray:
        """Predictive variance per input (aleatoric + epistemic)."""
        return self.decompose().total

    def std(self) -> np.ndarray:
        """Predictive standard deviation per input."""
        return np.sqrt(self.var())

    def decompose(self) -> Decomposition:
        """``total = aleatoric + epistemic`` variances per input (law of total variance)."""
        return decompose_regression(self.means, self.variances)

    def cdf(self, y: Any) -> np.ndarray:
        """P(Y <= y) under the mixture, per input."""
        return stats.norm.cdf((np.asarray(y, dtype=float) - self.means) / np.sqrt(self.variances)).mean(axis=0)

    def log_prob(self, y: Any) -> np.ndarray:
        """Log predictive density of observed ``y`` (shape ``(n,)``), per input."""
        y = np.asarray(y, dtype=float)
        terms = stats.norm.logpdf(y, self.means, np.sqrt(self.variances))
        return special.logsumexp(terms, axis=0) - np.log(self.means.shape[0])

    def interval(self, prob: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Central predictive interval of the mixture (exact quantiles by bisection on its CDF)."""
        prob = check_prob(prob)
        return self.quantile((1 - prob) / 2), self.quantile((1 + prob) / 2)

    def quantile(self, level: float) -> np.ndarray:
        """The mixture's ``level`` quantile per input, to 1e-10 of the spread."""
        sd = np.sqrt(self.variances)
        low = (self.means - 10 * sd).min(axis=0)
        high = (self.means + 10 * sd).max(axis=0)
        for _ in range(60):
            middle = 0.5 * (low + high)
            below = self.cdf(middle) < level
            low, high = np.where(below, middle, low), np.where(below, high, middle)
        return 0.5 * (low + high)

    def sample(self, rng: Any, num_samples: int) -> np.ndarray:
        """``(num_samples, n)`` draws: a random component, then its Gaussian."""
        from bayeskit._rng import as_generator

        generator = as_generator(rng)
        components = generator.integers(0, self.means.shape[0], size=(num_samples, self.means.shape[1]))
        columns = np.arange(self.means.shape[1])
        mean, var = self.means[components, columns], self.variances[components, columns]
        return mean + np.sqrt(var) * generator.standard_normal(mean.shape)

    def evaluate(self, y: Any, num_draws: int = 1000, rng: Any = 0) -> dict[str, float]:
        """Held-out metrics from the exact mixture: RMSE, NLL, CRPS, coverage, calibration, decomposition.

        ``nll`` is the mean negative log predictive density; ``crps`` uses
        ``num_draws`` draws; calibration uses the mixture's PIT values.
        """
        from bayeskit.evaluate.regression import (
            central_interval_coverage,
            crps_samples,
            mean_absolute_calibration_error,
            miscalibration_area,
        )

        y = np.asarray(y, dtype=float)
        if y.shape != (self.means.shape[1],):
            raise ValueError(f"`y` must have shape ({self.means.shape[1]},) like the predictions; got {y.shape}.")
        pit = np.clip(self.cdf(y), 0.0, 1.0)
        coverage = central_interval_coverage(pit, [0.5, 0.8, 0.9, 0.95])
        parts = self.decompose()
        return {
            "n": float(y.size),
            "rmse": float(np.sqrt(np.mean((y - self.mean()) ** 2))),
            "nll": float(-np.mean(self.log_prob(y))),
            "crps": crps_samples(y, self.sample(rng, num_draws)),
            **{
                f"coverage_{round(100 * level)}": float(value)
                for level, value in zip(coverage["level"], coverage["coverage"], strict=True)
            },
            "mean_absolute_calibration_error": mean_absolute_calibration_error(pit),
            "miscalibration_area": miscalibration_area(pit),
            "mean_std": float(np.mean(np.sqrt(parts.total))),
            "mean_aleatoric_var": float(np.mean(parts.aleatoric)),
            "mean_epistemic_var": float(np.mean(parts.epistemic)),
        }
