"""The posterior predictive of a GP at new inputs: independent Gaussians with the variance split in two.

``epistemic`` is the latent function's posterior variance (it shrinks with data),
``aleatoric`` the observation noise. ``var()`` is their sum: the predictive of a new
observation. Intervals are exact Gaussian quantiles (equal-tailed = HDI).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from bayeskit._validate import check_choice, check_prob
from bayeskit.evaluate.decompose import Decomposition

__all__ = ["GaussianPredictive"]


@dataclass(frozen=True)
class GaussianPredictive:
    """Mean ``(n,)``, latent (epistemic) variance ``(n,)`` and noise (aleatoric) variance ``(n,)``."""

    means: np.ndarray
    latent_variance: np.ndarray
    noise_variance: np.ndarray
    method: str = "Gaussian process"

    def mean(self) -> np.ndarray:
        """Predictive mean per input."""
        return self.means

    def var(self) -> np.ndarray:
        """Predictive variance of a new observation (latent + noise)."""
        return self.latent_variance + self.noise_variance

    def std(self) -> np.ndarray:
        """Predictive standard deviation of a new observation."""
        return np.sqrt(self.var())

    def decompose(self) -> Decomposition:
        """``total = aleatoric (noise) + epistemic (latent function)`` per input."""
        return Decomposition(self.var(), self.noise_variance, self.latent_variance)

    def interval(self, prob: float = 0.95, kind: str = "eti") -> tuple[np.ndarray, np.ndarray]:
        """Central interval for a new observation (for a Gaussian the HDI is the same interval)."""
        prob = check_prob(prob)
        check_choice(kind, "kind", ("eti", "hdi"))
        half = stats.norm.ppf(0.5 + prob / 2) * self.std()
        return self.means - half, self.means + half

    def cdf(self, y: Any) -> np.ndarray:
        """P(Y <= y) per input."""
        return stats.norm.cdf(np.asarray(y, dtype=float), self.means, self.std())

    def log_prob(self, y: Any) -> np.ndarray:
        """Log predictive density of observed ``y``, per input."""
        return stats.norm.logpdf(np.asarray(y, dtype=float), self.means, self.std())

    def sample(self, rng: Any, num_samples: int) -> np.ndarray:
        """``(num_samples, n)`` independent draws of new observations.

        ``GPRegressor.sample_functions`` gives joint draws of the function instead.
        """
        from bayeskit._rng import as_generator

        return self.means + self.std() * as_generator(rng).standard_normal((num_samples, self.means.size))

    def evaluate(self, y: Any) -> dict[str, float]:
        """Held-out metrics: RMSE, NLL, CRPS (closed form), coverage, calibration, mean variances."""
        from bayeskit.evaluate.regression import (
            central_interval_coverage,
            crps_gaussian,
            mean_absolute_calibration_error,
            miscalibration_area,
        )

        y = np.asarray(y, dtype=float)
        if y.shape != self.means.shape:
            raise ValueError(f"`y` must have shape {self.means.shape} like the predictions; got {y.shape}.")
        pit = self.cdf(y)
        coverage = central_interval_coverage(pit, [0.5, 0.8, 0.9, 0.95])
        return {
            "n": float(y.size),
            "rmse": float(np.sqrt(np.mean((y - self.means) ** 2))),
            "nll": float(-np.mean(self.log_prob(y))),
            "crps": crps_gaussian(y, self.means, self.std()),
            **{
                f"coverage_{round(100 * level)}": float(value)
                for level, value in zip(coverage["level"], coverage["coverage"], strict=True)
            },
            "mean_absolute_calibration_error": mean_absolute_calibration_error(pit),
            "miscalibration_area": miscalibration_area(pit),
            "mean_std": float(np.mean(self.std())),
            "mean_aleatoric_var": float(np.mean(self.noise_variance)),
            "mean_epistemic_var": float(np.mean(self.latent_variance)),
        }

    def summary(self, prob: float = 0.95) -> Any:
        """A pandas table per input: mean, sd, interval, aleatoric and epistemic sd."""
        import pandas as pd

        low, high = self.interval(prob)
        percent = f"{100 * prob:g}%"
        return pd.DataFrame(
            {
                "mean": self.means,
                "sd": self.std(),
                f"low_{percent}": low,
                f"high_{percent}": high,
                "aleatoric_sd": np.sqrt(self.noise_variance),
                "epistemic_sd": np.sqrt(self.latent_variance),
            }
        )

    def to_arviz(self, y: Any = None, num_draws: int = 1000, rng: Any = 0, name: str = "y") -> Any:
        """An ``arviz.InferenceData`` with predictive draws (and ``y`` as observed data)."""
        import arviz as az

        observed = None if y is None else {name: np.asarray(y, dtype=float)}
        return az.from_dict(posterior_predictive={name: self.sample(rng, num_draws)[None]}, observed_data=observed)
