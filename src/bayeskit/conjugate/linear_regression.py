"""Bayesian linear regression with a Normal-Inverse-Gamma prior: exact posterior and Student-t predictive."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar

import numpy as np
from scipy import special, stats

from bayeskit._validate import as_float_array, check_finite
from bayeskit.conjugate._base import ExactPosterior

__all__ = ["BayesianLinearRegression"]

_LOG_2PI = np.log(2.0 * np.pi)


def _cholesky(matrix: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"`{name}` must be symmetric positive-definite; the Cholesky factorization failed. "
            "Check for duplicated or all-zero features, or add prior precision."
        ) from None


def _log_det(cholesky: np.ndarray) -> np.ndarray:
    return 2.0 * np.log(np.diagonal(cholesky, axis1=-2, axis2=-1)).sum(axis=-1)


def _design(x: Any, y: Any, num_features: int) -> tuple[np.ndarray, np.ndarray]:
    x = check_finite(as_float_array(x, "x"), "x")
    y = check_finite(as_float_array(y, "y"), "y")
    if x.ndim != 2 or x.shape[1] != num_features:
        raise ValueError(
            f"`x` must have shape (n_obs, {num_features}) to match the prior's {num_features} features; got {x.shape}."
        )
    if y.shape != (x.shape[0],):
        raise ValueError(f"`y` must have shape ({x.shape[0]},) to match `x`; got {y.shape}.")
    return x, y


@dataclasses.dataclass(frozen=True, eq=False, repr=False, init=False)
class BayesianLinearRegression(ExactPosterior):
    """Conjugate Bayesian linear regression ``y = x @ w + noise``, ``noise ~ N(0, sigma^2)``.

    Prior: ``sigma^2 ~ InvGamma(alpha, beta)``, ``w | sigma^2 ~ N(mean, sigma^2 precision^-1)``.
    The posterior is of the same form; the predictive is Student-t. With
    ``mean = 0`` and ``precision = lam * I`` the MAP weights are the ridge
    solution with penalty ``lam``.

    Parameters
    ----------
    mean
        Prior mean of the weights, shape ``(n_features,)``; a scalar needs ``num_features``.
    precision
        Prior precision (scaled by ``1/sigma^2``): a scalar (``lam * I``), a vector
        (diagonal) or an ``(n_features, n_features)`` positive-definite matrix.
    alpha, beta
        Inverse-Gamma shape and scale of the noise variance.
    num_features
        Needed only when both ``mean`` and ``precision`` are scalars.

    Examples
    --------
    >>> import numpy as np
    >>> from bayeskit.conjugate import BayesianLinearRegression
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 2)); y = x @ np.array([1.5, -2.0]) + 0.1 * rng.normal(size=200)
    >>> posterior = BayesianLinearRegression(mean=np.zeros(2), precision=1.0).update(x, y)
    >>> posterior.mean()["weights"].round(1).tolist()
    [1.5, -2.0]
    >>> predictive = posterior.predictive(np.array([[1.0, 1.0]]))

    """

    loc: np.ndarray
    precision: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray

    parameter_names = ("weights", "noise_variance")
    _repr_names: ClassVar[dict[str, str]] = {"loc": "mean"}

    def __init__(
        self,
        mean: Any = 0.0,
        precision: Any = 1.0,
        alpha: Any = 1.0,
        beta: Any = 1.0,
        num_features: int | None = None,
    ):
        loc = check_finite(as_float_array(mean, "mean"), "mean")
        prec = check_finite(as_float_array(precision, "precision"), "precision")
        if loc.ndim > 1:
            raise ValueError(f"`mean` must be a vector of shape (n_features,); got {loc.shape}.")
        dims = {loc.shape[0]} if loc.ndim == 1 else set()
        if prec.ndim >= 1:
            dims.add(prec.shape[-1])
        if num_features is not None:
            dims.add(int(num_features))
        if len(dims) != 1:
            raise ValueError(
                "could not tell the number of features: give `mean` as a vector (e.g. np.zeros(d)) "
                f"or pass num_features; got mean {loc.shape}, precision {prec.shape}, "
                f"num_features {num_features}."
            )
        d = dims.pop()
        if prec.ndim == 0 or prec.ndim == 1:
            prec = np.diag(np.broadcast_to(prec, (d,)))
        if prec.shape != (d, d):
            raise ValueError(f"`precision` must have shape ({d}, {d}); got {prec.shape}.")
        if not np.allclose(prec, prec.T):
            raise ValueError("`precision` must be symmetric; got an asymmetric matrix.")
        _cholesky(prec, "precision")
        self._assign(
            loc=np.broadcast_to(loc, (d,)),
            precision=prec,
            alpha=self._positive(alpha, "alpha"),
            beta=self._positive(beta, "beta"),
        )
        if self.alpha.ndim or self.beta.ndim:
            raise ValueError("`alpha` and `beta` must be scalars for BayesianLinearRegression.")

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Always ``()``: one regression per object (fit several objects for several models)."""
        return ()

    @property
    def num_features(self) -> int:
        """Number of regression weights."""
        return self.loc.shape[-1]

    @functools.cached_property
    def _precision_cholesky(self) -> np.ndarray:
        return _cholesky(self.precision, "precision")

    @functools.cached_property
    def _covariance(self) -> np.ndarray:
        """``precision^-1``: the weight covariance per unit noise variance."""
        identity = np.eye(self.num_features)
        inverse_factor = np.linalg.solve(self._precision_cholesky, identity)
        return inverse_factor.T @ inverse_factor

    def update(self, x: Any, y: Any) -> BayesianLinearRegression:
        """Condition on rows ``x`` of shape ``(n_obs, n_features)`` and targets ``y`` of shape ``(n_obs,)``.

        The noise scale uses residuals, ``||y - x m_n||^2 + (m_n - m_0)^T P_0 (m_n - m_0)``,
        rather than the textbook difference of large quadratic forms, which loses
        digits at a million rows.
        """
        x, y = _design(x, y, self.num_features)
        posterior = self._condition(x, y)
        return self._then(posterior, functools.partial(self._log_evidence_of, posterior, x.shape[0]))

    def _condition(self, x: np.ndarray, y: np.ndarray) -> BayesianLinearRegression:
        precision = self.precision + x.T @ x
        information = self.precision @ self.loc + x.T @ y
        factor = _cholesky(precision, "precision + x^T x")
        loc = np.linalg.solve(factor.T, np.linalg.solve(factor, information))
        residual = y - x @ loc
        shift = loc - self.loc
        beta = self.beta + 0.5 * (residual @ residual + shift @ self.precision @ shift)
        return BayesianLinearRegression._make(
            loc=loc, precision=0.5 * (precision + precision.T), alpha=self.alpha + 0.5 * x.shape[0], beta=beta
        )

    def marginals(self) -> dict[str, Any]:
        """Student-t marginal of each weight and Inverse-Gamma marginal of the noise variance."""
        scale = np.sqrt(self.beta / self.alpha * np.diagonal(self._covariance))
        return {
            "weights": stats.t(2.0 * self.alpha, self.loc, scale),
            "noise_variance": stats.invgamma(self.alpha, scale=self.beta),
        }

    def mean(self) -> dict[str, np.ndarray]:
        """Posterior means of the weights and of the noise variance (inf for alpha <= 1)."""
        noise = self.beta / (self.alpha - 1.0) if self.alpha > 1 else np.inf
        return {"weights": self.loc, "noise_variance": np.asarray(noise)}

    def mode(self) -> dict[str, np.ndarray]:
        """The joint MAP: weights at the mean (the ridge solution), noise ``beta / (alpha + 1 + d/2)``."""
        return {
            "weights": self.loc,
            "noise_variance": self.beta / (self.alpha + 1.0 + 0.5 * self.num_features),
        }

    def log_prob(self, weights: Any, noise_variance: Any) -> np.ndarray:
        """Joint log posterior density at (``weights``, ``noise_variance``)."""
        w = check_finite(as_float_array(weights, "weights"), "weights")
        sigma2 = as_float_array(noise_variance, "noise_variance")
        diff = w - self.loc
        quadratic = np.einsum("...i,ij,...j->...", diff, self.precision, diff)
        d = self.num_features
        log_normal = -0.5 * (
            d * _LOG_2PI + d * np.log(sigma2) - _log_det(self._precision_cholesky) + quadratic / sigma2
        )
        return log_normal + stats.invgamma.logpdf(sigma2, self.alpha, scale=self.beta)

    def _sample(self, rng: np.random.Generator, num_samples: int) -> dict[str, np.ndarray]:
        noise_variance = self.beta / rng.gamma(self.alpha, size=num_samples)
        z = rng.standard_normal((num_samples, self.num_features))
        # w = m + sigma * L^-T z has covariance sigma^2 (L L^T)^-1 = sigma^2 precision^-1.
        offsets = np.linalg.solve(self._precision_cholesky.T, z.T).T
        return {
            "weights": self.loc + np.sqrt(noise_variance)[:, None] * offsets,
            "noise_variance": noise_variance,
        }

    def predictive(self, x: Any):
        """Posterior predictive of targets at rows ``x``: Student-t with ``2 alpha`` degrees of freedom.

        Returns
        -------
        ExactPredictive
            The Student-t (``.distribution``), one entry per row of ``x``; its variance
            splits exactly into noise ``E[sigma^2]`` (aleatoric) and weight uncertainty
            ``E[sigma^2] x^T Lambda^-1 x`` (epistemic).

        """
        x = check_finite(as_float_array(x, "x"), "x")
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"`x` must have shape (n_obs, {self.num_features}); got {x.shape}.")
        from bayeskit.predictive import ExactPredictive

        leverage = np.einsum("ij,jk,ik->i", x, self._covariance, x)
        distribution = stats.t(2.0 * self.alpha, x @ self.loc, np.sqrt(self.beta / self.alpha * (1.0 + leverage)))
        noise = self.beta / (self.alpha - 1.0) if self.alpha > 1 else np.inf
        return ExactPredictive(distribution, np.full(x.shape[0], noise), noise * leverage, "Student-t")

    def log_marginal_likelihood(self, x: Any, y: Any) -> np.ndarray:
        """Log evidence ``log p(y | x)`` with weights and noise variance integrated out."""
        x, y = _design(x, y, self.num_features)
        return self._log_evidence_of(self._condition(x, y), x.shape[0])

    def _log_evidence_of(self, posterior: BayesianLinearRegression, num_obs: int) -> np.ndarray:
        return np.asarray(
            -0.5 * num_obs * _LOG_2PI
            + 0.5 * (_log_det(self._precision_cholesky) - _log_det(posterior._precision_cholesky))
            + self.alpha * np.log(self.beta)
            - posterior.alpha * np.log(posterior.beta)
            + special.gammaln(posterior.alpha)
            - special.gammaln(self.alpha)
        )
