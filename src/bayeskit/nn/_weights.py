"""A Gaussian over a network's flattened weights (a Laplace, EWC or mean-field posterior), as a Posterior."""

from __future__ import annotations

import functools
from dataclasses import dataclass

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

__all__ = ["WeightPosterior"]


@dataclass(frozen=True, eq=False)
class WeightPosterior:
    """``N(loc, precision^-1)`` over the ``P`` flattened weights; ``precision`` ``(P,)`` is diagonal, ``(P, P)`` full.

    ``names`` label the weights (``trunk.0.weight[i,j]``, ``head.weight[t,c,h]``, ...).
    Marginals are Gaussian, so equal-tailed and highest-density intervals coincide.
    """

    loc: np.ndarray
    precision: np.ndarray
    names: tuple[str, ...]
    method: str = ""

    @property
    def full(self) -> bool:
        """Whether the precision is a full matrix (else diagonal)."""
        return self.precision.ndim == 2

    @functools.cached_property
    def _covariance(self) -> np.ndarray:
        return np.linalg.inv(self.precision) if self.full else np.diag(1.0 / self.precision)

    def covariance(self) -> np.ndarray:
        """``(P, P)`` covariance (diagonal unless the precision is full)."""
        return self._covariance.copy()

    def mean(self) -> np.ndarray:
        """``(P,)`` posterior mean of the weights."""
        return self.loc.copy()

    def var(self) -> np.ndarray:
        """``(P,)`` marginal variances."""
        return np.diag(self._covariance).copy() if self.full else 1.0 / self.precision

    def std(self) -> np.ndarray:
        """``(P,)`` marginal standard deviations."""
        return np.sqrt(self.var())

    def interval(self, prob: float = 0.95, kind: str = "eti") -> Interval:
        """Marginal interval of each weight (Gaussian: ETI and HDI are the same)."""
        prob, kind = check_interval_args(prob, kind)
        half = stats.norm.ppf(0.5 + prob / 2) * self.std()
        return Interval(self.loc - half, self.loc + half)

    def sample(self, key, num_samples: int) -> np.ndarray:
        """``(num_samples, P)`` joint draws."""
        rng = as_generator(require_key(key, "WeightPosterior.sample"))
        num_samples = check_num_samples(num_samples)
        noise = rng.standard_normal((num_samples, self.loc.size))
        if not self.full:
            return self.loc + noise / np.sqrt(self.precision)
        factor = np.linalg.cholesky(self.precision)
        from scipy.linalg import solve_triangular

        return self.loc + solve_triangular(factor.T, noise.T, lower=False).T

    def summary(self, prob: float = 0.95, kind: str = "eti") -> pd.DataFrame:
        """One row per weight: ``mean, sd`` and the interval."""
        low, high = self.interval(prob, kind)
        low_label, high_label = interval_columns(prob, kind)
        return pd.DataFrame(
            {"mean": self.loc, "sd": self.std(), low_label: low, high_label: high}, index=list(self.names)
        )

    def to_arviz(self, key=None, num_draws: int = 1000):
        """A ``DataTree`` with ``num_draws`` exact draws of ``weights`` as one chain (needs ``key``)."""
        from bayeskit._arviz import from_dict

        draws = self.sample(require_key(key, "WeightPosterior.to_arviz"), num_draws)
        return from_dict({"posterior": {"weights": draws[None]}}, dims={"weights": ["weight"]})

    def check(self) -> tuple[Finding, ...]:
        """A finding when the mean or the precision is not finite, or the precision not positive."""
        diagonal = np.diag(self.precision) if self.full else self.precision
        bad = int(np.sum(~np.isfinite(self.loc)) + np.sum(~(np.isfinite(diagonal) & (diagonal > 0))))
        if not bad:
            return ()
        return (
            Finding(
                "degenerate weight posterior",
                bad,
                0,
                "weights with a non-finite mean or a non-positive precision",
                "lower `learning_rate` or `strength`, or use a smaller `prior_scale`; then refit the sequence.",
            ),
        )
