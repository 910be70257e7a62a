"""Gamma prior, Poisson likelihood with exposure: the posterior of an event rate."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
from scipy import special, stats

from bayeskit._validate import (
    as_float_array,
    check_integer_valued,
    check_nonnegative,
    check_positive,
    first_bad_index,
)
from bayeskit.conjugate._base import ExactPosterior, broadcast_data, broadcast_parameters

__all__ = ["GammaPoisson", "counts_and_exposure"]


def counts_and_exposure(counts: Any, exposure: Any, allow_zero_exposure: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validate event counts (whole, >= 0) and exposure (> 0, or >= 0 where the count is 0)."""
    k = check_integer_valued(check_nonnegative(as_float_array(counts, "counts"), "counts"), "counts")
    e = as_float_array(exposure, "exposure")
    if not allow_zero_exposure:
        return k, check_positive(e, "exposure")
    check_nonnegative(e, "exposure")
    k_b, e_b = np.broadcast_arrays(k, e)
    bad = (e_b == 0) & (k_b > 0)
    if bad.any():
        raise ValueError(
            f"`counts` must be 0 where `exposure` is 0; index {first_bad_index(bad) if bad.ndim else 0} "
            f"has {k_b[bad].ravel()[0]:g} events in zero exposure."
        )
    return k, e


@dataclasses.dataclass(frozen=True, eq=False, repr=False, init=False)
class GammaPoisson(ExactPosterior):
    """Gamma(shape, rate) belief over a Poisson rate per unit of exposure.

    Data are ``counts`` events observed over ``exposure`` units (time, users,
    area); the posterior is Gamma(shape + counts, rate + exposure).

    Examples
    --------
    >>> from bayeskit.conjugate import GammaPoisson
    >>> posterior = GammaPoisson(shape=2, rate=1).update(counts=30, exposure=10)
    >>> posterior
    GammaPoisson(shape=32.0, rate=11.0)
    >>> round(float(posterior.mean()), 3)
    2.909

    """

    shape: np.ndarray
    rate: np.ndarray

    parameter_names = ("rate",)

    def __init__(self, shape: Any = 1.0, rate: Any = 1.0):
        params = broadcast_parameters(shape=self._positive(shape, "shape"), rate=self._positive(rate, "rate"))
        self._assign(**params)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the batch of independent posteriors."""
        return self.shape.shape

    def update(self, counts: Any, exposure: Any = 1.0) -> GammaPoisson:
        """Condition on ``counts`` events over ``exposure`` (zero exposure with zero counts is a no-op).

        Sequential updates add up: two periods in turn equal one with their totals.
        """
        k, e = counts_and_exposure(counts, exposure, allow_zero_exposure=True)
        k, e = broadcast_data(self.batch_shape, counts=k, exposure=e)
        return self._then(
            GammaPoisson._make(shape=self.shape + k, rate=self.rate + e), functools.partial(self._log_evidence_of, k, e)
        )

    def marginals(self) -> dict[str, Any]:
        """The Gamma marginal of the rate."""
        return {"rate": stats.gamma(self.shape, scale=1.0 / self.rate)}

    def mean(self) -> np.ndarray:
        """``shape / rate``."""
        return self.shape / self.rate

    def var(self) -> np.ndarray:
        """``shape / rate^2``."""
        return self.shape / (self.rate * self.rate)

    def mode(self) -> np.ndarray:
        """The MAP: ``(shape - 1) / rate`` for shape >= 1, else 0 (density unbounded there)."""
        return np.maximum(self.shape - 1.0, 0.0) / self.rate

    def log_prob(self, rate: Any) -> np.ndarray:
        """Log posterior density at ``rate``."""
        value = as_float_array(rate, "rate")
        return np.asarray(stats.gamma.logpdf(value, self.shape, scale=1.0 / self.rate))

    def _sample(self, rng: np.random.Generator, num_samples: int) -> dict[str, np.ndarray]:
        size = (num_samples, *self.batch_shape)
        return {"rate": rng.gamma(self.shape, size=size) / self.rate}

    def predictive(self, exposure: Any = 1.0):
        """Posterior predictive of the count over ``exposure`` units: a negative binomial.

        Returns
        -------
        ExactPredictive
            ``NB(n=shape, p=rate / (rate + exposure))`` (``.distribution``), its variance
            split into Poisson noise ``e E[rate]`` and ``e^2 Var(rate)``.

        """
        from bayeskit.predictive import ExactPredictive

        e = check_positive(as_float_array(exposure, "exposure"), "exposure")
        mean_rate = self.shape / self.rate
        return ExactPredictive(
            stats.nbinom(self.shape, self.rate / (self.rate + e)),
            e * mean_rate,
            e * e * mean_rate / self.rate,
            "negative binomial",
        )

    def log_marginal_likelihood(self, counts: Any, exposure: Any = 1.0) -> np.ndarray:
        """Log evidence of ``counts`` over ``exposure``: the negative-binomial log pmf.

        For several periods pass their totals: the factorial terms that differ do
        not depend on the prior, so Bayes factors between priors stay exact.
        """
        return self._log_evidence_of(*counts_and_exposure(counts, exposure))

    def _log_evidence_of(self, k: np.ndarray, e: np.ndarray) -> np.ndarray:
        a, r = self.shape, self.rate
        with np.errstate(divide="ignore", invalid="ignore"):
            count_term = np.where(k > 0, k * np.log1p(r / np.where(e > 0, e, 1.0)), 0.0)
        return special.gammaln(a + k) - special.gammaln(a) - special.gammaln(k + 1) - a * np.log1p(e / r) - count_term
