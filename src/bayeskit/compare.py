"""Model comparison: AIC, BIC, WAIC and PSIS-LOO (ArviZ) in one table, and Bayes factors from evidences.

WAIC and PSIS-LOO estimate out-of-sample predictive accuracy from posterior draws
(Vehtari, Gelman & Gabry, 2017); a Pareto k above 0.7 means LOO's importance
weights for that observation are unreliable and the table says so. AIC and BIC
are computed at the highest-likelihood posterior draw (exactly the maximum for a
MAP-like posterior, a slight under-estimate of it otherwise) with k the number of
scalar parameters; for hierarchical models k over-counts the effective number of
parameters, which is why LOO is the table's ranking.

Bayes factors need marginal likelihoods: exact ones from the conjugate families'
``log_evidence()`` (the data they were conditioned on), Laplace estimates, GPs and the ready
regressions: anything with ``log_evidence()``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, NamedTuple

import numpy as np

from bayeskit.posterior import has_evidence

__all__ = ["PARETO_K_THRESHOLD", "BayesFactor", "bayes_factor", "compare", "information_criteria"]

PARETO_K_THRESHOLD = 0.7
_KASS_RAFTERY = ((0.0, "not worth more than a bare mention"), (1.0, "positive"), (3.0, "strong"), (5.0, "very strong"))


def _posterior(model: Any) -> Any:
    from bayeskit.infer.draws import DrawsPosterior

    posterior = getattr(model, "posterior_", model)
    if not isinstance(posterior, DrawsPosterior):
        raise ValueError(
            f"comparison needs posterior draws with a model (a DrawsPosterior or an estimator fitted by nuts, laplace "
            f"or advi); got {type(posterior).__name__}. For exact conjugate models compare log marginal likelihoods "
            "with bayes_factor()."
        )
    if posterior.model is None:
        raise ValueError("this posterior has no model attached, so its pointwise log-likelihood is unknown.")
    return posterior


def _pointwise(posterior: Any, site: str | None) -> tuple[str, np.ndarray]:
    from bayeskit.infer.draws import pick_observed_site

    log_lik = posterior.log_likelihood()
    site = pick_observed_site(log_lik, site)
    values = log_lik[site]
    return site, values.reshape(*values.shape[:2], -1)


def _num_parameters(posterior: Any) -> int:
    from numpyro import handlers

    trace = handlers.trace(handlers.seed(posterior.model, 0)).get_trace(*posterior.model_args, **posterior.model_kwargs)
    return int(
        sum(np.size(site["value"]) for site in trace.values() if site["type"] == "sample" and not site["is_observed"])
    )


MIN_PSIS_DRAWS = 25


def information_criteria(model: Any, site: str | None = None) -> dict[str, Any]:
    """AIC, BIC, WAIC and PSIS-LOO of one fitted model (a DrawsPosterior or a fitted estimator).

    Returns
    -------
    dict
        ``elpd_loo``, ``se_loo``, ``p_loo``, ``looic`` (-2 elpd_loo), ``elpd_waic``,
        ``se_waic``, ``p_waic``, ``waic`` (-2 elpd_waic), ``aic``, ``bic``,
        ``max_log_likelihood``, ``num_parameters``, ``num_observations``,
        ``pareto_k`` (per observation), ``pareto_k_bad`` (how many above 0.7) and
        ``warnings`` (text).
    """
    from bayeskit._arviz import loo as psis_loo

    posterior = _posterior(model)
    site, log_lik = _pointwise(posterior, site)
    draws = log_lik.shape[0] * log_lik.shape[1]
    notes = []
    if draws < MIN_PSIS_DRAWS:  # Pareto smoothing fits a tail of min(0.2 S, 3 sqrt S) draws; it needs 5
        nan = float("nan")
        loo = SimpleNamespace(elpd=nan, se=nan, p=nan, pareto_k=np.full(log_lik.shape[-1], nan))
        notes.append(f"PSIS-LOO needs at least {MIN_PSIS_DRAWS} draws; this fit has {draws}: draw more.")
    else:
        loo = psis_loo(log_lik)  # ArviZ's own warnings become the table's 'warnings' column
    waic = _waic(log_lik)
    pareto_k = np.asarray(loo.pareto_k).reshape(-1)
    total = log_lik.sum(axis=-1)
    max_log_lik = float(total.max())
    k, n = _num_parameters(posterior), log_lik.shape[-1]
    bad = int(np.sum(pareto_k > PARETO_K_THRESHOLD))
    if bad:
        notes.append(
            f"{bad} observation(s) with Pareto k > {PARETO_K_THRESHOLD}: PSIS-LOO is unreliable for them "
            "(influential points; refit without them (exact LOO) or use K-fold cross-validation)."
        )
    if not np.isfinite(waic["elpd_waic"]) or waic["p_waic"] > 0.4 * n:
        notes.append("WAIC's effective number of parameters is large relative to n: prefer LOO.")
    return {
        "elpd_loo": float(loo.elpd),
        "se_loo": float(loo.se),
        "p_loo": float(loo.p),
        "looic": -2.0 * float(loo.elpd),
        **waic,
        "waic": -2.0 * waic["elpd_waic"],
        "aic": -2.0 * max_log_lik + 2.0 * k,
        "bic": -2.0 * max_log_lik + k * math.log(n),
        "max_log_likelihood": max_log_lik,
        "num_parameters": k,
        "num_observations": n,
        "pareto_k": pareto_k,
        "pareto_k_bad": bad,
        "warnings": " ".join(notes),
        "_log_likelihood": log_lik,
    }


def _waic(log_lik: np.ndarray) -> dict[str, float]:
    """WAIC from a pointwise log-likelihood ``(chain, draw, n_obs)`` (Watanabe 2010; Vehtari et al. 2017, eq. 11-13).

    ArviZ 1.x dropped WAIC in favour of PSIS-LOO; the table keeps it next to LOO for users
    who report it, computed from its definition.
    """
    from scipy.special import logsumexp

    values = log_lik.reshape(-1, log_lik.shape[-1])
    lppd = logsumexp(values, axis=0) - np.log(values.shape[0])
    penalty = values.var(axis=0, ddof=1)
    pointwise = lppd - penalty
    return {
        "elpd_waic": float(pointwise.sum()),
        "se_waic": float(np.sqrt(pointwise.size * pointwise.var())),
        "p_waic": float(penalty.sum()),
    }


def compare(models: dict[str, Any], site: str | None = None):
    """One table ranking models by PSIS-LOO, with WAIC, AIC, BIC, stacking weights and warnings.

    Parameters
    ----------
    models
        Name -> DrawsPosterior or fitted estimator; all fitted to the same observations.
    site
        The observed site to compare on, when the models have several.

    Returns
    -------
    pandas.DataFrame
        Sorted best first: ``elpd_loo``, ``se_loo``, ``elpd_diff`` and ``se_diff``
        (to the best, with the standard error of the paired difference), ``p_loo``,
        ``weight`` (stacking), ``waic``, ``aic``, ``bic``, ``pareto_k_bad``, ``warnings``.
    """
    import pandas as pd

    from bayeskit._arviz import compare as loo_compare

    if not isinstance(models, dict) or len(models) < 2:
        raise ValueError("`models` must be a dict of at least two named fitted models, e.g. {'linear': a, 'quad': b}.")
    criteria = {name: information_criteria(model, site) for name, model in models.items()}
    sizes = {name: c["num_observations"] for name, c in criteria.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(
            f"the models were fitted to different numbers of observations ({sizes}); compare like with like."
        )
    table = loo_compare({name: c["_log_likelihood"] for name, c in criteria.items()})
    out = pd.DataFrame(
        {
            "elpd_loo": table["elpd"],
            "se_loo": table["se"],
            "elpd_diff": -np.abs(table["elpd_diff"]),
            "se_diff": table["dse"],
            "p_loo": table["p"],
            "weight": table["weight"],
        }
    )
    for column in ("waic", "aic", "bic", "pareto_k_bad", "warnings"):
        out[column] = [criteria[name][column] for name in out.index]
    out.index.name = "model"
    return out


class BayesFactor(NamedTuple):
    """log BF of model 1 over model 2, the factor itself, and Kass & Raftery's (1995) verbal scale."""

    log_bayes_factor: float
    bayes_factor: float
    evidence: str
    favours: str


def _log_evidence(model: Any, name: str) -> float:
    if isinstance(model, int | float | np.floating | np.integer) and not isinstance(model, bool):
        value = float(model)
    elif isinstance(model, np.ndarray) and model.size == 1:
        value = float(model)
    elif has_evidence(model):
        value = np.asarray(model.log_evidence(), dtype=float)
        if value.size != 1:
            raise ValueError(
                f"`{name}` holds a batch of {value.size} posteriors; compare one at a time (index the batch first)."
            )
        value = float(value)
    else:
        raise ValueError(
            f"`{name}` must have a log evidence: an exact conjugate posterior, a laplace() posterior, a fitted GP or "
            f"ready regression (anything with log_evidence()), or a number; got {type(model).__name__}. "
            "NUTS and ADVI draws do not give the evidence."
        )
    if not math.isfinite(value):
        raise ValueError(f"`{name}` has a non-finite log evidence ({value}); it cannot be compared.")
    return value


def bayes_factor(model_1: Any, model_2: Any) -> BayesFactor:
    """The Bayes factor p(y | model 1) / p(y | model 2) from exact or Laplace log evidences.

    Parameters
    ----------
    model_1, model_2
        Anything with ``log_evidence()`` (exact conjugate posteriors, ``laplace()``
        posteriors, fitted ``GPRegressor`` and ready regressions), or log evidences
        as numbers. Both must have seen the same data.

    Examples
    --------
    >>> from bayeskit.conjugate import BetaBinomial
    >>> fair = BetaBinomial(500, 500).update(70, 100)   # nearly a fair coin
    >>> vague = BetaBinomial(1, 1).update(70, 100)       # any bias
    >>> result = bayes_factor(vague, fair)
    >>> result.favours, result.evidence
    ('model 1', 'very strong')
    """
    first, second = _log_evidence(model_1, "model_1"), _log_evidence(model_2, "model_2")
    log_bf = first - second
    strength = abs(2.0 * log_bf)
    label = _KASS_RAFTERY[0][1]
    for threshold, text in _KASS_RAFTERY:
        if strength >= 2 * threshold:
            label = text
    favours = "model 1" if log_bf > 0 else "model 2" if log_bf < 0 else "neither"
    return BayesFactor(log_bf, math.exp(log_bf) if log_bf < 700 else math.inf, label, favours)
