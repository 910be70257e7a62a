"""Closed-form KL divergences and entropies of the distributions bayeskit uses.

Each function is pure and elementwise over leading batch axes. NumPy inputs are
computed in float64 with SciPy's special functions; JAX inputs stay in JAX, so
``kl_normal_standard`` can sit inside a jitted VAE loss and be differentiated.
All values are in nats.

References
----------
Kullback, S. & Leibler, R. A. (1951). On information and sufficiency.
Penny, W. D. (2001). KL-divergences of Normal, Gamma, Dirichlet and Wishart densities.

"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayeskit._namespace import is_jax, namespace

__all__ = [
    "entropy_beta",
    "entropy_categorical",
    "entropy_dirichlet",
    "entropy_gamma",
    "entropy_multivariate_normal",
    "entropy_normal",
    "kl_beta",
    "kl_categorical",
    "kl_dirichlet",
    "kl_gamma",
    "kl_multivariate_normal",
    "kl_normal",
    "kl_normal_standard",
]


def _positive(name: str, value: Any) -> Any:
    """Boundary check for NumPy input (JAX tracers pass through: NaN propagates instead)."""
    if is_jax(value):
        return value
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(
            f"`{name}` must be finite and > 0; got {array[~(np.isfinite(array) & (array > 0))].ravel()[0]}."
        )
    return array


def _probabilities(name: str, value: Any) -> Any:
    if is_jax(value):
        return value
    p = np.asarray(value, dtype=np.float64)
    if p.ndim == 0 or np.any(~np.isfinite(p)) or np.any(p < 0) or np.any(np.abs(p.sum(axis=-1) - 1) > 1e-6):
        raise ValueError(f"`{name}` must be non-negative probabilities summing to 1 on the last axis.")
    return p


def kl_normal(mean_p: Any, var_p: Any, mean_q: Any, var_q: Any) -> Any:
    """``KL(N(mean_p, var_p) || N(mean_q, var_q))`` for univariate Normals.

    Examples
    --------
    >>> round(float(kl_normal(0.0, 1.0, 1.0, 2.0)), 6)
    0.346574

    """
    var_p, var_q = _positive("var_p", var_p), _positive("var_q", var_q)
    ns = namespace(mean_p, var_p, mean_q, var_q)
    ratio = var_p / var_q
    return 0.5 * (ratio + (mean_p - mean_q) ** 2 / var_q - 1.0 - ns.xp.log(ratio))


def kl_normal_standard(mean: Any, log_var: Any, axis: int = -1) -> Any:
    """``KL(N(mean, diag(exp(log_var))) || N(0, I))`` summed over ``axis``: the VAE latent term.

    Examples
    --------
    >>> float(kl_normal_standard(np.zeros(3), np.zeros(3)))
    0.0

    """
    ns = namespace(mean, log_var)
    return 0.5 * ns.xp.sum(ns.xp.exp(log_var) + mean**2 - 1.0 - log_var, axis=axis)


def kl_multivariate_normal(mean_p: Any, cov_p: Any, mean_q: Any, cov_q: Any) -> Any:
    """``KL(N(mean_p, cov_p) || N(mean_q, cov_q))``, via Cholesky factors (no explicit inverse).

    Examples
    --------
    >>> round(float(kl_multivariate_normal(np.zeros(2), np.eye(2), np.ones(2), 2 * np.eye(2))), 6)
    0.693147

    """
    ns = namespace(mean_p, cov_p, mean_q, cov_q)
    xp = ns.xp
    chol_q = xp.linalg.cholesky(cov_q)
    chol_p = xp.linalg.cholesky(cov_p)
    d = xp.shape(mean_p)[-1]
    solved = xp.linalg.solve(chol_q, chol_p)  # L_q^-1 L_p
    trace = xp.sum(solved**2, axis=(-2, -1))
    diff = xp.linalg.solve(chol_q, (mean_q - mean_p)[..., None])[..., 0]
    log_det_q = 2.0 * xp.sum(xp.log(xp.diagonal(chol_q, axis1=-2, axis2=-1)), axis=-1)
    log_det_p = 2.0 * xp.sum(xp.log(xp.diagonal(chol_p, axis1=-2, axis2=-1)), axis=-1)
    return 0.5 * (trace + xp.sum(diff**2, axis=-1) - d + log_det_q - log_det_p)


def kl_beta(alpha_p: Any, beta_p: Any, alpha_q: Any, beta_q: Any) -> Any:
    """``KL(Beta(alpha_p, beta_p) || Beta(alpha_q, beta_q))``.

    Examples
    --------
    >>> float(kl_beta(2.0, 3.0, 2.0, 3.0))
    0.0

    """
    a1, b1 = _positive("alpha_p", alpha_p), _positive("beta_p", beta_p)
    a2, b2 = _positive("alpha_q", alpha_q), _positive("beta_q", beta_q)
    ns = namespace(a1, b1, a2, b2)
    dg = ns.digamma
    return (
        ns.betaln(a2, b2)
        - ns.betaln(a1, b1)
        + (a1 - a2) * dg(a1)
        + (b1 - b2) * dg(b1)
        + (a2 - a1 + b2 - b1) * dg(a1 + b1)
    )


def kl_gamma(shape_p: Any, rate_p: Any, shape_q: Any, rate_q: Any) -> Any:
    """``KL(Gamma(shape_p, rate_p) || Gamma(shape_q, rate_q))`` (shape-rate parameterization).

    Examples
    --------
    >>> float(kl_gamma(2.0, 1.0, 2.0, 1.0))
    0.0

    """
    k1, r1 = _positive("shape_p", shape_p), _positive("rate_p", rate_p)
    k2, r2 = _positive("shape_q", shape_q), _positive("rate_q", rate_q)
    ns = namespace(k1, r1, k2, r2)
    log = ns.xp.log
    return (k1 - k2) * ns.digamma(k1) - ns.gammaln(k1) + ns.gammaln(k2) + k2 * (log(r1) - log(r2)) + k1 * (r2 - r1) / r1


def kl_dirichlet(alpha_p: Any, alpha_q: Any) -> Any:
    """``KL(Dir(alpha_p) || Dir(alpha_q))`` over the last axis.

    Examples
    --------
    >>> float(kl_dirichlet(np.ones(3), np.ones(3)))
    0.0

    """
    a, b = _positive("alpha_p", alpha_p), _positive("alpha_q", alpha_q)
    ns = namespace(a, b)
    xp = ns.xp
    total_a = xp.sum(a, axis=-1)
    return (
        ns.gammaln(total_a)
        - ns.gammaln(xp.sum(b, axis=-1))
        - xp.sum(ns.gammaln(a) - ns.gammaln(b), axis=-1)
        + xp.sum((a - b) * (ns.digamma(a) - ns.digamma(total_a)[..., None]), axis=-1)
    )


def kl_categorical(p: Any, q: Any) -> Any:
    """``KL(p || q) = sum p log(p / q)`` over the last axis (``inf`` where q = 0 < p).

    Examples
    --------
    >>> round(float(kl_categorical([0.5, 0.5], [0.9, 0.1])), 6)
    0.510826

    """
    p, q = _probabilities("p", p), _probabilities("q", q)
    ns = namespace(p, q)
    xp = ns.xp
    with np.errstate(divide="ignore"):
        return xp.sum(ns.xlogy(p, p) - ns.xlogy(p, q), axis=-1)


def entropy_normal(var: Any) -> Any:
    """Differential entropy ``0.5 log(2 pi e var)`` of a univariate Normal."""
    var = _positive("var", var)
    return 0.5 * namespace(var).xp.log(2.0 * np.pi * np.e * var)


def entropy_multivariate_normal(cov: Any) -> Any:
    """Differential entropy ``0.5 log det(2 pi e cov)`` of a multivariate Normal."""
    xp = namespace(cov).xp
    chol = xp.linalg.cholesky(cov)
    d = xp.shape(cov)[-1]
    return 0.5 * d * np.log(2.0 * np.pi * np.e) + xp.sum(xp.log(xp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)


def entropy_beta(alpha: Any, beta: Any) -> Any:
    """Differential entropy of Beta(alpha, beta)."""
    a, b = _positive("alpha", alpha), _positive("beta", beta)
    ns = namespace(a, b)
    return ns.betaln(a, b) - (a - 1) * ns.digamma(a) - (b - 1) * ns.digamma(b) + (a + b - 2) * ns.digamma(a + b)


def entropy_gamma(shape: Any, rate: Any) -> Any:
    """Differential entropy of Gamma(shape, rate)."""
    k, r = _positive("shape", shape), _positive("rate", rate)
    ns = namespace(k, r)
    return k - ns.xp.log(r) + ns.gammaln(k) + (1.0 - k) * ns.digamma(k)


def entropy_dirichlet(alpha: Any) -> Any:
    """Differential entropy of Dir(alpha) over the last axis."""
    a = _positive("alpha", alpha)
    ns = namespace(a)
    xp = ns.xp
    total = xp.sum(a, axis=-1)
    k = xp.shape(a)[-1]
    log_beta = xp.sum(ns.gammaln(a), axis=-1) - ns.gammaln(total)
    return log_beta + (total - k) * ns.digamma(total) - xp.sum((a - 1) * ns.digamma(a), axis=-1)


def entropy_categorical(p: Any) -> Any:
    """Shannon entropy ``-sum p log p`` over the last axis (0 log 0 = 0)."""
    p = _probabilities("p", p)
    ns = namespace(p)
    return -ns.xp.sum(ns.xlogy(p, p), axis=-1)
