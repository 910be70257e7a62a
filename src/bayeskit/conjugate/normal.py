"""Normal likelihoods: known noise variance, and unknown mean and variance (Normal-Inverse-Gamma)."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar

import numpy as np
from scipy import special, stats

from bayeskit._validate import as_float_array, check_finite, check_integer_valued, check_nonnegative
from bayeskit.conjugate._base import ExactPosterior, broadcast_parameters, observations

__all__ = ["NormalInverseGamma", "NormalKnownVariance"]

_LOG_2PI = np.log(2.0 * np.pi)


@dataclasses.dataclass(frozen=True, eq=False, repr=False, init=False)
class NormalKnownVariance(ExactPosterior):
    """Normal(mean, variance) belief over the mean of Normal data with known noise variance.

    Parameters
    ----------
    mean, variance
        Prior mean and variance of the unknown mean.
    noise_variance
        Known variance of each observation around the unknown mean.

    Examples
    --------
    >>> from bayeskit.conjugate import NormalKnownVariance
    >>> prior = NormalKnownVariance(mean=0, variance=10, noise_variance=1)
    >>> posterior = prior.update([1.2, 0.8, 1.1])
    >>> round(float(posterior.mean()), 4), round(float(posterior.var()), 4)
    (1.0, 0.3226)

    """

    loc: np.ndarray
    variance: np.ndarray
    noise_variance: np.ndarray

    parameter_names = ("mean",)
    _repr_names: ClassVar[dict[str, str]] = {"loc": "mean"}

    def __init__(self, mean: Any = 0.0, variance: Any = 1.0, noise_variance: Any = 1.0):
        params = broadcast_parameters(
            loc=check_finite(as_float_array(mean, "mean"), "mean"),
            variance=self._positive(variance, "variance"),
            noise_variance=self._positive(noise_variance, "noise_variance"),
        )
        self._assign(**params)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the batch of independent posteriors."""
        return self.loc.shape

    def update(self, x: Any) -> NormalKnownVariance:
        """Condition on observations ``x`` (last axis); batches in turn == all at once."""
        x = observations(x, self.batch_shape)
        posterior = self._condition_on(x.shape[-1], x.sum(axis=-1))
        return self._then(posterior, functools.partial(self.log_marginal_likelihood, x))

    def update_from_statistics(self, num_obs: Any, total: Any) -> NormalKnownVariance:
        """Condition on ``num_obs`` observations summing to ``total`` (the sufficient statistics).

        Arrays broadcast against the batch, e.g. prefix counts and ``cumsum(x)`` give
        the posterior after each observation in one call.
        """
        num_obs = check_integer_valued(check_nonnegative(as_float_array(num_obs, "num_obs"), "num_obs"), "num_obs")
        total = check_finite(as_float_array(total, "total"), "total")
        posterior = self._condition_on(num_obs, total)
        # The evidence needs the sum of squares too: it is unknown from (num_obs, total) alone.
        return self._then(posterior, np.where(num_obs > 0, np.nan, 0.0))

    def _condition_on(self, num_obs: Any, total: Any) -> NormalKnownVariance:
        precision = 1.0 / self.variance + num_obs / self.noise_variance
        loc = (self.loc / self.variance + total / self.noise_variance) / precision
        return NormalKnownVariance._make(
            loc=loc,
            variance=np.broadcast_to(1.0 / precision, loc.shape),
            noise_variance=np.broadcast_to(self.noise_variance, loc.shape),
        )

    def marginals(self) -> dict[str, Any]:
        """The Normal marginal of the mean."""
        return {"mean": stats.norm(self.loc, np.sqrt(self.variance))}

    def mean(self) -> np.ndarray:
        """Posterior mean of the unknown mean."""
        return self.loc

    def var(self) -> np.ndarray:
        """Posterior variance of the unknown mean."""
        return self.variance

    def mode(self) -> np.ndarray:
        """The MAP, equal to the posterior mean."""
        return self.loc

    def log_prob(self, mean: Any) -> np.ndarray:
        """Log posterior density of the unknown mean at ``mean``."""
        value = as_float_array(mean, "mean")
        return np.asarray(stats.norm.logpdf(value, self.loc, np.sqrt(self.variance)))

    def _sample(self, rng: np.random.Generator, num_samples: int) -> dict[str, np.ndarray]:
        size = (num_samples, *self.batch_shape)
        return {"mean": self.loc + np.sqrt(self.variance) * rng.standard_normal(size)}

    def predictive(self):
        """Posterior predictive of one new observation: ``Normal(mean, variance + noise_variance)``.

        An ``ExactPredictive``: the noise variance is aleatoric, the mean's variance epistemic.
        """
        from bayeskit.predictive import ExactPredictive

        return ExactPredictive(
            stats.norm(self.loc, np.sqrt(self.variance + self.noise_variance)),
            self.noise_variance,
            self.variance,
            "Normal",
        )

    def log_marginal_likelihood(self, x: Any) -> np.ndarray:
        """Log evidence of observations ``x``: ``N(x; mean 1, noise_variance I + variance 1 1^T)``."""
        x = observations(x, self.batch_shape)
        num_obs = x.shape[-1]
        noise, prior = self.noise_variance, self.variance
        centred = x - self.loc[..., None]
        total = centred.sum(axis=-1)
        quadratic = ((centred**2).sum(axis=-1) - prior * total**2 / (noise + num_obs * prior)) / noise
        log_det = num_obs * np.log(noise) + np.log1p(num_obs * prior / noise)
        return -0.5 * (num_obs * _LOG_2PI + log_det + quadratic)


@dataclasses.dataclass(frozen=True, eq=False, repr=False, init=False)
class NormalInverseGamma(ExactPosterior):
    """Normal-Inverse-Gamma belief over the mean and variance of Normal data.

    ``variance ~ InvGamma(alpha, beta)`` and ``mean | variance ~ Normal(mean, variance / kappa)``;
    ``kappa`` acts as a number of prior pseudo-observations of the mean.

    Examples
    --------
    >>> from bayeskit.conjugate import NormalInverseGamma
    >>> posterior = NormalInverseGamma(mean=0, kappa=1, alpha=2, beta=2).update([4.9, 5.3, 5.1, 4.7])
    >>> {k: round(float(v), 3) for k, v in posterior.mean().items()}
    {'mean': 4.0, 'variance': 4.033}
    >>> sorted(posterior.interval(0.9).high)
    ['mean', 'variance']

    """

    loc: np.ndarray
    kappa: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray

    parameter_names = ("mean", "variance")
    _repr_names: ClassVar[dict[str, str]] = {"loc": "mean"}

    def __init__(self, mean: Any = 0.0, kappa: Any = 1.0, alpha: Any = 1.0, beta: Any = 1.0):
        params = broadcast_parameters(
            loc=check_finite(as_float_array(mean, "mean"), "mean"),
            kappa=self._positive(kappa, "kappa"),
            alpha=self._positive(alpha, "alpha"),
            beta=self._positive(beta, "beta"),
        )
        self._assign(**params)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the batch of independent posteriors."""
        return self.loc.shape

    def update(self, x: Any) -> NormalInverseGamma:
        """Condition on observations ``x`` (last axis); batches in turn == all at once.

        Uses the centred sum of squares, so large offsets do not cancel catastrophically.
        """
        x = observations(x, self.batch_shape)
        num_obs = x.shape[-1]
        if num_obs == 0:
            return self
        sample_mean = x.mean(axis=-1)
        sum_squares = ((x - sample_mean[..., None]) ** 2).sum(axis=-1)
        posterior = self._condition(num_obs, sample_mean, sum_squares)
        return self._then(posterior, functools.partial(self._log_evidence_of, posterior, num_obs))

    def update_from_statistics(self, num_obs: Any, sample_mean: Any, sum_squares: Any) -> NormalInverseGamma:
        """Condition on ``num_obs`` observations with mean ``sample_mean`` and centred ``sum_squares``.

        Arrays broadcast against the batch, so each member (arm, segment) can have its
        own count; members with ``num_obs = 0`` are unchanged (their mean is ignored).
        """
        num_obs = check_integer_valued(check_nonnegative(as_float_array(num_obs, "num_obs"), "num_obs"), "num_obs")
        sample_mean = check_finite(as_float_array(sample_mean, "sample_mean"), "sample_mean")
        sum_squares = check_nonnegative(
            check_finite(as_float_array(sum_squares, "sum_squares"), "sum_squares"), "sum_squares"
        )
        posterior = self._condition(num_obs, np.where(num_obs > 0, sample_mean, 0.0), sum_squares)
        return self._then(posterior, functools.partial(self._log_evidence_of, posterior, num_obs))

    def _condition(self, num_obs, sample_mean, sum_squares) -> NormalInverseGamma:
        kappa = self.kappa + num_obs
        loc = (self.kappa * self.loc + num_obs * sample_mean) / kappa
        shift = self.kappa * num_obs * (sample_mean - self.loc) ** 2 / (2.0 * kappa)
        beta = self.beta + 0.5 * sum_squares + shift
        shape = np.broadcast_shapes(loc.shape, np.shape(beta), self.batch_shape)
        return NormalInverseGamma._make(
            loc=np.broadcast_to(loc, shape),
            kappa=np.broadcast_to(kappa, shape),
            alpha=np.broadcast_to(self.alpha + 0.5 * num_obs, shape),
            beta=np.broadcast_to(beta, shape),
        )

    def marginals(self) -> dict[str, Any]:
        """Student-t marginal of the mean and Inverse-Gamma marginal of the variance."""
        scale = np.sqrt(self.beta / (self.alpha * self.kappa))
        return {
            "mean": stats.t(2.0 * self.alpha, self.loc, scale),
            "variance": stats.invgamma(self.alpha, scale=self.beta),
        }

    def mean(self) -> dict[str, np.ndarray]:
        """Posterior means: the mean's location and ``beta / (alpha - 1)`` (inf for alpha <= 1)."""
        with np.errstate(divide="ignore"):
            variance = np.where(self.alpha > 1, self.beta / np.maximum(self.alpha - 1.0, 0.0), np.inf)
        return {"mean": self.loc, "variance": variance}

    def mode(self) -> dict[str, np.ndarray]:
        """The joint MAP: ``mean = loc``, ``variance = beta / (alpha + 3/2)``."""
        return {"mean": self.loc, "variance": self.beta / (self.alpha + 1.5)}

    def log_prob(self, mean: Any, variance: Any) -> np.ndarray:
        """Joint log posterior density at (``mean``, ``variance``)."""
        mu = as_float_array(mean, "mean")
        sigma2 = as_float_array(variance, "variance")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(
                stats.norm.logpdf(mu, self.loc, np.sqrt(sigma2 / self.kappa))
                + stats.invgamma.logpdf(sigma2, self.alpha, scale=self.beta)
            )

    def _sample(self, rng: np.random.Generator, num_samples: int) -> dict[str, np.ndarray]:
        size = (num_samples, *self.batch_shape)
        variance = self.beta / rng.gamma(self.alpha, size=size)
        mean = self.loc + np.sqrt(variance / self.kappa) * rng.standard_normal(size)
        return {"mean": mean, "variance": variance}

    def predictive(self):
        """Posterior predictive of one new observation: Student-t with ``2 alpha`` degrees of freedom.

        An ``ExactPredictive`` with aleatoric ``E[variance] = beta / (alpha - 1)`` and epistemic
        ``E[variance] / kappa`` (both infinite for ``alpha <= 1``, where the t has no variance).
        """
        from bayeskit.predictive import ExactPredictive

        scale = np.sqrt(self.beta * (self.kappa + 1.0) / (self.alpha * self.kappa))
        with np.errstate(divide="ignore"):
            noise = np.where(self.alpha > 1, self.beta / np.maximum(self.alpha - 1.0, 0.0), np.inf)
        return ExactPredictive(stats.t(2.0 * self.alpha, self.loc, scale), noise, noise / self.kappa, "Student-t")

    def log_marginal_likelihood(self, x: Any) -> np.ndarray:
        """Log evidence of observations ``x`` with mean and variance integrated out."""
        x = observations(x, self.batch_shape)
        num_obs = x.shape[-1]
        if num_obs == 0:
            return np.zeros(self.batch_shape)
        sample_mean = x.mean(axis=-1)
        sum_squares = ((x - sample_mean[..., None]) ** 2).sum(axis=-1)
        return self._log_evidence_of(self._condition(num_obs, sample_mean, sum_squares), num_obs)

    def _log_evidence_of(self, posterior: NormalInverseGamma, num_obs: Any) -> np.ndarray:
        """``log p(data)`` from the posterior after them: the data enter only through (n, mean, sum of squares)."""
        return (
            special.gammaln(posterior.alpha)
            - special.gammaln(self.alpha)
            + self.alpha * np.log(self.beta)
            - posterior.alpha * np.log(posterior.beta)
            + 0.5 * (np.log(self.kappa) - np.log(posterior.kappa))
            - 0.5 * num_obs * _LOG_2PI
        )
