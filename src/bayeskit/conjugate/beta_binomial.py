"""Beta prior, binomial likelihood: the posterior of a success probability."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
from scipy import special, stats

from bayeskit._parallel import elementwise
from bayeskit._validate import (
    as_float_array,
    check_integer_valued,
    check_less_equal,
    check_nonnegative,
)
from bayeskit.conjugate._base import ExactPosterior, broadcast_data, broadcast_parameters
from bayeskit.conjugate._intervals import beta_highest_density
from bayeskit.posterior import Interval

__all__ = ["BetaBinomial", "binomial_counts"]


def binomial_counts(
    successes: Any, trials: Any, names: tuple[str, str] = ("successes", "trials")
) -> tuple[np.ndarray, np.ndarray]:
    """Validate binomial counts: whole, non-negative, finite and ``successes <= trials``.

    ``names`` are the caller's names of the two arguments, used in the error messages
    (``("conversions", "visitors")`` for an A/B test).
    """
    success_name, trial_name = names
    s = as_float_array(successes, success_name)
    s = check_integer_valued(check_nonnegative(s, success_name), success_name)
    t = check_integer_valued(check_nonnegative(as_float_array(trials, trial_name), trial_name), trial_name)
    check_less_equal(s, t, success_name, trial_name)
    return s, t


@dataclasses.dataclass(frozen=True, eq=False, repr=False, init=False)
class BetaBinomial(ExactPosterior):
    """Beta(alpha, beta) belief over a success probability, conjugate to binomial counts.

    Parameters
    ----------
    alpha, beta
        Positive prior pseudo-counts of successes and failures; arrays broadcast
        to a batch of independent posteriors (one per segment, arm, ...).

    Examples
    --------
    >>> from bayeskit.conjugate import BetaBinomial
    >>> posterior = BetaBinomial(alpha=2, beta=2).update(successes=3, trials=10)
    >>> posterior
    BetaBinomial(alpha=5.0, beta=9.0)
    >>> round(float(posterior.mean()), 4)
    0.3571
    >>> low, high = posterior.interval(0.95, kind="hdi")

    """

    alpha: np.ndarray
    beta: np.ndarray

    parameter_names = ("probability",)

    def __init__(self, alpha: Any = 1.0, beta: Any = 1.0):
        params = broadcast_parameters(alpha=self._positive(alpha, "alpha"), beta=self._positive(beta, "beta"))
        self._assign(**params)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the batch of independent posteriors."""
        return self.alpha.shape

    def update(self, successes: Any, trials: Any) -> BetaBinomial:
        """Condition on ``successes`` out of ``trials``; returns Beta(alpha + s, beta + t - s).

        Updating with two batches in turn equals one update with their sums.
        """
        s, t = binomial_counts(successes, trials)
        s, t = broadcast_data(self.batch_shape, successes=s, trials=t)
        return self._then(
            BetaBinomial._make(alpha=self.alpha + s, beta=self.beta + (t - s)),
            functools.partial(self._log_evidence_of, s, t),
        )

    def marginals(self) -> dict[str, Any]:
        """The Beta marginal of the success probability."""
        return {"probability": stats.beta(self.alpha, self.beta)}

    def mean(self) -> np.ndarray:
        """``alpha / (alpha + beta)``."""
        return self.alpha / (self.alpha + self.beta)

    def var(self) -> np.ndarray:
        """``alpha beta / ((alpha + beta)^2 (alpha + beta + 1))``."""
        total = self.alpha + self.beta
        return self.alpha * self.beta / (total * total * (total + 1.0))

    def mode(self) -> np.ndarray:
        """The MAP: ``(alpha - 1) / (alpha + beta - 2)`` inside, 0 or 1 on a boundary.

        Beta(1, 1) is flat and every point is a mode: 0.5 is returned. With both
        parameters below 1 the density is U-shaped with modes at 0 and 1: NaN.
        """
        a, b = self.alpha, self.beta
        with np.errstate(invalid="ignore", divide="ignore"):
            interior = (a - 1.0) / (a + b - 2.0)
        return np.select(
            [
                (a > 1) & (b > 1),
                (a <= 1) & (b > 1) | (a < 1) & (b == 1),
                (a > 1) & (b <= 1) | (a == 1) & (b < 1),
                (a == 1) & (b == 1),
            ],
            [interior, 0.0, 1.0, 0.5],
            default=np.nan,
        )

    def log_prob(self, probability: Any) -> np.ndarray:
        """Log posterior density at ``probability`` (``-inf`` outside [0, 1])."""
        theta = as_float_array(probability, "probability")
        return np.asarray(stats.beta.logpdf(theta, self.alpha, self.beta))

    def _equal_tailed(self, name: str, dist: Any, prob: float) -> Interval:
        tail = 0.5 * (1.0 - prob)
        low = elementwise(lambda a, b: special.betaincinv(a, b, tail), self.alpha, self.beta)
        high = elementwise(lambda a, b: special.betainccinv(a, b, tail), self.alpha, self.beta)
        return Interval(low, high)

    def _shortest(self, name: str, dist: Any, prob: float) -> Interval:
        return beta_highest_density(self.alpha, self.beta, prob)

    def _hdi_is_defined(self, name: str) -> np.ndarray:
        return ~((self.alpha < 1) & (self.beta < 1))

    def _sample(self, rng: np.random.Generator, num_samples: int) -> dict[str, np.ndarray]:
        size = (num_samples, *self.batch_shape)
        return {"probability": rng.beta(self.alpha, self.beta, size=size)}

    def predictive(self, trials: Any = 1):
        """Posterior predictive of successes in ``trials`` new trials: a beta-binomial.

        Returns
        -------
        ExactPredictive
            The beta-binomial (``.distribution``), its variance split exactly into
            binomial noise ``t E[p(1-p)]`` (aleatoric) and ``t^2 Var(p)`` (epistemic).

        """
        from bayeskit.predictive import ExactPredictive

        t = check_integer_valued(check_nonnegative(as_float_array(trials, "trials"), "trials"), "trials")
        total = self.alpha + self.beta
        spread = self.alpha * self.beta / (total * total * (total + 1.0))  # Var(p)
        aleatoric = t * (self.alpha * self.beta / (total * total) - spread)  # t E[p (1 - p)]
        return ExactPredictive(stats.betabinom(t, self.alpha, self.beta), aleatoric, t * t * spread, "beta-binomial")

    def log_marginal_likelihood(self, successes: Any, trials: Any) -> np.ndarray:
        """Log evidence ``log p(successes | trials)`` of binomial data under this prior.

        Exact: ``log C(t, s) + ln B(alpha + s, beta + t - s) - ln B(alpha, beta)``.
        The binomial coefficient does not depend on the prior, so it cancels in
        Bayes factors; for a sequence of Bernoulli outcomes drop it.
        """
        return self._log_evidence_of(*binomial_counts(successes, trials))

    def _log_evidence_of(self, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        log_choose = special.gammaln(t + 1) - special.gammaln(s + 1) - special.gammaln(t - s + 1)
        return log_choose + special.betaln(self.alpha + s, self.beta + t - s) - special.betaln(self.alpha, self.beta)
