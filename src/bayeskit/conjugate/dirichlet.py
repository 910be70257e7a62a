"""Dirichlet prior, multinomial likelihood: the posterior of category probabilities."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
from scipy import special, stats

from bayeskit._validate import as_float_array, check_finite, check_integer_valued, check_nonnegative
from bayeskit.conjugate._base import ExactPosterior
from bayeskit.conjugate._intervals import beta_highest_density

__all__ = ["DirichletMultinomial"]


def _category_counts(counts: Any, num_categories: int, batch_shape: tuple[int, ...]) -> np.ndarray:
    c = check_integer_valued(check_nonnegative(as_float_array(counts, "counts"), "counts"), "counts")
    if c.ndim == 0 or c.shape[-1] != num_categories:
        raise ValueError(
            f"`counts` must have {num_categories} categories on its last axis to match `alpha`; got shape {c.shape}."
        )
    try:
        shape = np.broadcast_shapes(batch_shape, c.shape[:-1])
    except ValueError:
        raise ValueError(
            f"`counts` leading shape {c.shape[:-1]} does not broadcast with the batch shape {batch_shape}."
        ) from None
    return np.broadcast_to(c, (*shape, num_categories))


@dataclasses.dataclass(frozen=True, eq=False, repr=False, init=False)
class DirichletMultinomial(ExactPosterior):
    """Dirichlet(alpha) belief over the probabilities of ``K`` categories.

    Parameters
    ----------
    alpha
        Positive concentrations, shape ``(*batch_shape, K)`` with ``K >= 2``.

    Examples
    --------
    >>> from bayeskit.conjugate import DirichletMultinomial
    >>> posterior = DirichletMultinomial(alpha=[1, 1, 1]).update(counts=[10, 5, 0])
    >>> posterior.mean().round(3).tolist()
    [0.611, 0.333, 0.056]

    """

    alpha: np.ndarray

    parameter_names = ("probabilities",)

    def __init__(self, alpha: Any):
        a = self._positive(alpha, "alpha")
        if a.ndim == 0 or a.shape[-1] < 2:
            raise ValueError(
                f"`alpha` must hold at least 2 categories on its last axis; got shape {a.shape}. "
                "For two categories BetaBinomial is the same model."
            )
        self._assign(alpha=a)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the batch of independent posteriors (the categories are the event axis)."""
        return self.alpha.shape[:-1]

    @property
    def num_categories(self) -> int:
        """Number of categories ``K``."""
        return self.alpha.shape[-1]

    @property
    def _total(self) -> np.ndarray:
        return self.alpha.sum(axis=-1, keepdims=True)

    def update(self, counts: Any) -> DirichletMultinomial:
        """Condition on category ``counts`` (last axis ``K``); returns Dirichlet(alpha + counts)."""
        c = _category_counts(counts, self.num_categories, self.batch_shape)
        return self._then(
            DirichletMultinomial._make(alpha=self.alpha + c), functools.partial(self.log_marginal_likelihood, c)
        )

    def marginals(self) -> dict[str, Any]:
        """Beta(alpha_k, sum(alpha) - alpha_k) marginal of each probability."""
        return {"probabilities": stats.beta(self.alpha, self._total - self.alpha)}

    def mean(self) -> np.ndarray:
        """``alpha / sum(alpha)``."""
        return self.alpha / self._total

    def var(self) -> np.ndarray:
        """Marginal variances ``p_k (1 - p_k) / (sum(alpha) + 1)``."""
        p = self.mean()
        return p * (1.0 - p) / (self._total + 1.0)

    def mode(self) -> np.ndarray:
        """The MAP ``(alpha - 1) / (sum(alpha) - K)`` when every alpha >= 1.

        All ones: the flat Dirichlet, 1/K is returned. Any alpha below 1: the
        density is unbounded on a face of the simplex and has no mode: NaN.
        """
        excess = self.alpha - 1.0
        total_excess = excess.sum(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            interior = excess / total_excess
        flat = np.full_like(self.alpha, 1.0 / self.num_categories)
        mode = np.where(total_excess > 0, interior, flat)
        return np.where((self.alpha < 1).any(axis=-1, keepdims=True), np.nan, mode)

    def log_prob(self, probabilities: Any) -> np.ndarray:
        """Log density at a point of the simplex (``-inf`` off the simplex)."""
        p = check_finite(as_float_array(probabilities, "probabilities"), "probabilities")
        if p.ndim == 0 or p.shape[-1] != self.num_categories:
            raise ValueError(
                f"`probabilities` must have {self.num_categories} entries on its last axis; got {p.shape}."
            )
        on_simplex = (np.abs(p.sum(axis=-1) - 1.0) < 1e-9) & (p >= 0).all(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_density = (
                special.gammaln(self.alpha.sum(axis=-1))
                - special.gammaln(self.alpha).sum(axis=-1)
                + special.xlogy(self.alpha - 1.0, p).sum(axis=-1)
            )
        return np.where(on_simplex, log_density, -np.inf)

    def _shortest(self, name: str, dist: Any, prob: float) -> Any:
        return beta_highest_density(self.alpha, self._total - self.alpha, prob)

    def _hdi_is_defined(self, name: str) -> np.ndarray:
        return ~((self.alpha < 1) & (self._total - self.alpha < 1))

    def _sample(self, rng: np.random.Generator, num_samples: int) -> dict[str, np.ndarray]:
        # Gamma(a) = Gamma(a + 1) * U^(1/a) in log space: no underflow to 0/0 for tiny alpha.
        size = (num_samples, *self.alpha.shape)
        log_gamma = np.log(rng.gamma(self.alpha + 1.0, size=size)) + np.log(rng.uniform(size=size)) / self.alpha
        return {"probabilities": np.exp(log_gamma - special.logsumexp(log_gamma, axis=-1, keepdims=True))}

    def predictive(self, num_trials: Any = 1):
        """Posterior predictive of the counts in ``num_trials`` new draws: a Dirichlet-multinomial.

        An ``ExactPredictive`` whose intervals and moments are those of each category's
        beta-binomial marginal, with ``log_prob`` and ``sample`` of the joint counts; the
        variance splits into multinomial noise and ``n^2 Var(p_c)`` per category.
        """
        from bayeskit.predictive import ExactPredictive

        n = check_integer_valued(
            check_nonnegative(as_float_array(num_trials, "num_trials"), "num_trials"), "num_trials"
        )
        n = np.asarray(n)[..., None]
        joint = stats.dirichlet_multinomial(self.alpha, n[..., 0].astype(np.int64))
        rest = self._total - self.alpha
        spread = self.alpha * rest / (self._total**2 * (self._total + 1.0))
        aleatoric = n * (self.alpha * rest / self._total**2 - spread)

        def sample_fn(generator: np.random.Generator, num_samples: int) -> np.ndarray:
            probabilities = self._sample(generator, num_samples)["probabilities"]
            return generator.multinomial(
                np.broadcast_to(n[..., 0], probabilities.shape[:-1]).astype(np.int64), probabilities
            )

        return ExactPredictive(
            stats.betabinom(n, self.alpha, rest),
            aleatoric,
            n * n * spread,
            "Dirichlet-multinomial",
            log_prob_fn=joint.logpmf,
            sample_fn=sample_fn,
        )

    def log_marginal_likelihood(self, counts: Any) -> np.ndarray:
        """Log evidence of category ``counts``: the Dirichlet-multinomial log pmf."""
        c = _category_counts(counts, self.num_categories, self.batch_shape)
        total_alpha, total = self.alpha.sum(axis=-1), c.sum(axis=-1)
        return (
            special.gammaln(total + 1)
            - special.gammaln(c + 1).sum(axis=-1)
            + special.gammaln(total_alpha)
            - special.gammaln(total + total_alpha)
            + (special.gammaln(c + self.alpha) - special.gammaln(self.alpha)).sum(axis=-1)
        )
