"""One NumPyro model for every ready regression (family x pooling), its predictive in NumPy, and its exact MAP.

Priors (shown in every fitted estimator's ``priors_``):

- coefficients ``beta_j ~ Normal(0, s_j)`` or ``Laplace(0, s_j)``;
- intercept ``~ Normal(m, s_0)`` for centered features (sites ending ``_c``: the
  mean outcome at the mean features, nearly uncorrelated with the slopes, which
  keeps NUTS fast); deterministic sites ``intercept``, ``alpha``, ``mu_alpha``
  report it for the raw features. With groups and partial pooling
  ``alpha_g = mu_alpha + tau * z_g``, ``z_g ~ Normal(0, 1)`` (non-centered) or
  ``alpha_g ~ Normal(mu_alpha, tau)`` (centered), ``tau ~ HalfNormal(s_tau)``;
- noise ``sigma ~ HalfNormal(s_sigma)``; Student-t degrees of freedom
  ``nu ~ Gamma(2, 0.1)`` (Juarez & Steel, 2010).

With ``autoscale`` the scales follow the data as rstanarm's defaults do
(s_j = prior_scale * sd(y) / sd(x_j) for Gaussian and Student-t targets,
prior_scale / sd(x_j) on the logit or log scale), which keeps them weakly
informative whatever the units.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FAMILIES",
    "POOLINGS",
    "PRIORS",
    "family_mean",
    "glm",
    "linear_predictor",
    "map_estimate",
    "sample_outcome",
    "sampling_scale",
]

FAMILIES = ("gaussian", "bernoulli", "poisson", "student")
POOLINGS = ("partial", "complete", "none")
PRIORS = ("normal", "laplace")


def glm(
    x,
    codes,
    offset,
    priors,
    family: str,
    pooling: str,
    num_groups: int,
    centered: bool,
    prior: str,
    fit_intercept: bool,
    y=None,
):
    """The regression as a NumPyro model; ``priors`` is a dict of arrays (traced, so refits reuse the program)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    num_features = x.shape[1]
    coefficient = dist.Normal if prior == "normal" else dist.Laplace
    beta = numpyro.sample("beta", coefficient(jnp.zeros(num_features), priors["beta_scale"]).to_event(1))
    shift = priors["x_mean"] @ beta  # intercepts are sampled for centered features, reported for the raw ones
    eta = (x - priors["x_mean"]) @ beta + offset
    if fit_intercept and pooling == "complete":
        centered_intercept = numpyro.sample(
            "intercept_c", dist.Normal(priors["intercept_loc"], priors["intercept_scale"])
        )
        numpyro.deterministic("intercept", centered_intercept - shift)
        eta = eta + centered_intercept
    elif pooling == "none":
        alpha = numpyro.sample(
            "alpha_c", dist.Normal(priors["intercept_loc"], priors["intercept_scale"]).expand([num_groups]).to_event(1)
        )
        numpyro.deterministic("alpha", alpha - shift)
        eta = eta + alpha[codes]
    elif pooling == "partial":
        mu = numpyro.sample("mu_alpha_c", dist.Normal(priors["intercept_loc"], priors["intercept_scale"]))
        tau = numpyro.sample("tau", dist.HalfNormal(priors["tau_scale"]))
        if centered:
            alpha = numpyro.sample("alpha_c", dist.Normal(mu, tau).expand([num_groups]).to_event(1))
        else:
            z = numpyro.sample("z", dist.Normal(0.0, 1.0).expand([num_groups]).to_event(1))
            alpha = mu + tau * z
        numpyro.deterministic("mu_alpha", mu - shift)
        numpyro.deterministic("alpha", alpha - shift)
        eta = eta + alpha[codes]
    if family in ("gaussian", "student"):
        sigma = numpyro.sample("sigma", dist.HalfNormal(priors["sigma_scale"]))
    if family == "gaussian":
        likelihood = dist.Normal(eta, sigma)
    elif family == "student":
        likelihood = dist.StudentT(numpyro.sample("nu", dist.Gamma(2.0, 0.1)), eta, sigma)
    elif family == "bernoulli":
        likelihood = dist.Bernoulli(logits=eta)
    else:
        likelihood = dist.Poisson(jnp.exp(eta))
    with numpyro.plate("rows", x.shape[0]):
        numpyro.sample("y", likelihood, obs=y)


def sampling_scale(name: str) -> bool:
    """Parameters sampled for speed (centered intercepts ``*_c``, offsets ``z``), not for reading."""
    site = name.split("[", 1)[0]
    return site.endswith("_c") or site == "z"


def linear_predictor(
    draws: dict[str, np.ndarray], x: np.ndarray, codes: np.ndarray, offset: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """``(num_draws, n)`` linear predictor for raw features.

    A group unseen in training (code -1) gets a fresh intercept drawn from the
    population (partial pooling), so its uncertainty is the between-group spread.
    """
    eta = draws["beta"] @ x.T + offset
    if "intercept" in draws:
        eta = eta + draws["intercept"][:, None]
    elif "alpha" in draws:
        seen = codes >= 0
        alpha = np.take(draws["alpha"], np.where(seen, codes, 0), axis=1)
        if not seen.all():
            if "tau" not in draws:
                raise ValueError(
                    "a group unseen in training has no intercept under pooling='none'; "
                    "use pooling='partial' to predict for new groups."
                )
            fresh = draws["mu_alpha"][:, None] + draws["tau"][:, None] * rng.standard_normal(alpha.shape)
            alpha = np.where(seen, alpha, fresh)
        eta = eta + alpha
    return eta


def family_mean(family: str, eta: np.ndarray) -> np.ndarray:
    """E[y | parameters] for each draw."""
    from scipy.special import expit

    if family == "bernoulli":
        return expit(eta)
    if family == "poisson":
        return np.exp(eta)
    return eta


def sample_outcome(family: str, eta: np.ndarray, draws: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """One outcome per draw and row: the posterior predictive."""
    if family == "gaussian":
        return eta + draws["sigma"][:, None] * rng.standard_normal(eta.shape)
    if family == "student":
        return eta + draws["sigma"][:, None] * rng.standard_t(draws["nu"][:, None], size=eta.shape)
    if family == "bernoulli":
        return (rng.random(eta.shape) < family_mean(family, eta)).astype(float)
    return rng.poisson(np.exp(eta)).astype(float)


def map_estimate(
    x: np.ndarray,
    y: np.ndarray,
    offset: np.ndarray,
    priors: dict[str, np.ndarray],
    family: str,
    prior: str,
    fit_intercept: bool = True,
) -> tuple[float, np.ndarray]:
    """The exact MAP (intercept, beta) of a complete-pooling Bernoulli or Poisson regression, in float64.

    A Laplace prior makes the objective non-smooth at zero; it is solved exactly by
    splitting beta = u - v with u, v >= 0 (L-BFGS-B), so coefficients the L1 penalty
    removes come out as zeros, as in scikit-learn's L1 logistic regression.
    """
    from scipy.optimize import minimize
    from scipy.special import expit

    num_features = x.shape[1]
    scale = np.asarray(priors["beta_scale"], dtype=float)
    loc0, scale0 = float(priors["intercept_loc"]), float(priors["intercept_scale"])
    x = x - np.asarray(priors["x_mean"], dtype=float)  # as in the model: the prior is on the centered intercept

    def negative_log_posterior(intercept, beta):
        eta = intercept + x @ beta + offset
        if family == "bernoulli":
            nll = np.sum(np.logaddexp(0.0, eta) - y * eta)
            residual = expit(eta) - y
        else:
            nll = np.sum(np.exp(eta) - y * eta)
            residual = np.exp(eta) - y
        nll += 0.5 * ((intercept - loc0) / scale0) ** 2
        return nll, residual

    if prior == "normal":

        def objective(theta):
            nll, residual = negative_log_posterior(theta[0], theta[1:])
            beta = theta[1:]
            value = nll + 0.5 * np.sum((beta / scale) ** 2)
            gradient = np.concatenate(
                [[residual.sum() + (theta[0] - loc0) / scale0**2], x.T @ residual + beta / scale**2]
            )
            return value, gradient

        start = np.zeros(1 + num_features)
        bounds = [(None, None) if fit_intercept else (0.0, 0.0)] + [(None, None)] * num_features
    else:

        def objective(theta):
            u, v = theta[1 : 1 + num_features], theta[1 + num_features :]
            nll, residual = negative_log_posterior(theta[0], u - v)
            value = nll + np.sum((u + v) / scale)
            grad_beta = x.T @ residual
            gradient = np.concatenate(
                [[residual.sum() + (theta[0] - loc0) / scale0**2], grad_beta + 1 / scale, -grad_beta + 1 / scale]
            )
            return value, gradient

        start = np.zeros(1 + 2 * num_features)
        bounds = [(None, None) if fit_intercept else (0.0, 0.0)] + [(0.0, None)] * (2 * num_features)
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 20_000, "ftol": 1e-15, "gtol": 1e-10},
    )
    theta = result.x
    beta = theta[1:] if prior == "normal" else theta[1 : 1 + num_features] - theta[1 + num_features :]
    return float(theta[0] - np.asarray(priors["x_mean"], dtype=float) @ beta), beta
