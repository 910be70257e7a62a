"""The JSON API: one entry per endpoint, its fields (validated by ``_params``) and the function that answers it.

``ENDPOINTS`` is the single source of the API: the app routes it, ``GET /api`` lists it,
and the README documents it. Every function is pure and deterministic, so the app may
cache answers and a retried request gets the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bayeskit.serve import explore
from bayeskit.serve._params import Field, Number
from bayeskit.serve.abtest import FIELDS as AB_FIELDS
from bayeskit.serve.abtest import ab_payload

__all__ = ["ENDPOINTS", "Endpoint"]

_COUNT = 1e9  # counts above this are refused: beyond it nothing on these pages changes visibly
_BETA_PRIOR = {"alpha": Number(0.0, 1e6, 2.0, low_open=True), "beta": Number(0.0, 1e6, 2.0, low_open=True)}


@dataclass(frozen=True)
class Endpoint:
    """``GET /api/<path>``: what it returns, its fields, and ``run(**fields) -> dict``."""

    path: str
    summary: str
    fields: dict[str, Field]
    run: Callable[..., dict[str, Any]]


ENDPOINTS = (
    Endpoint(
        "beta-binomial",
        "Beta prior, binomial data: posterior mean, MAP, MLE, ETI, HDI and the three curves.",
        {
            **_BETA_PRIOR,
            "successes": Number(0, _COUNT, 3, integer=True),
            "trials": Number(0, _COUNT, 10, integer=True),
            "prob": Number(0.5, 0.999, 0.95),
        },
        explore.beta_binomial,
    ),
    Endpoint(
        "beta-binomial/flip",
        "One sequential step: the posterior becomes the prior, then one more flip (heads with p_true).",
        {
            **_BETA_PRIOR,
            "successes": Number(0, _COUNT, 0, integer=True),
            "trials": Number(0, _COUNT, 0, integer=True),
            "p_true": Number(0.0, 1.0, 0.7),
            "seed": Number(0, 2**31 - 1, 0, integer=True),
            "step": Number(0, 1e6, 0, integer=True),
        },
        explore.beta_binomial_flip,
    ),
    Endpoint(
        "normal-mean",
        "Normal mean with known noise variance: prior, likelihood and posterior in closed form.",
        {
            "prior_mean": Number(-1e3, 1e3, 0.0),
            "prior_variance": Number(0.0, 1e4, 1.0, low_open=True),
            "data_mean": Number(-1e3, 1e3, 2.0),
            "noise_variance": Number(0.0, 1e4, 1.0, low_open=True),
            "num_obs": Number(0, 10_000, 5, integer=True),
        },
        explore.normal_mean,
    ),
    Endpoint(
        "aleatoric-epistemic",
        "A GP fitted to N noisy draws of a fixed function: the predictive sd split into aleatoric and epistemic.",
        {
            "num_obs": Number(5, 500, 30, integer=True),
            "noise_sd": Number(0.0, 2.0, 0.3),
            "seed": Number(0, 2**31 - 1, 0, integer=True),
        },
        explore.aleatoric_epistemic,
    ),
    Endpoint(
        "gaussian",
        "A 1-D Gaussian and the exact mass within 1, 2 and 3 sds.",
        {"mu": Number(-1e3, 1e3, 0.0), "sigma": Number(0.0, 1e3, 1.0, low_open=True)},
        explore.gaussian,
    ),
    Endpoint(
        "covariance",
        "A 2-D Gaussian: covariance, principal axes, density contours and samples.",
        {
            "sigma_x": Number(0.0, 100.0, 1.0, low_open=True),
            "sigma_y": Number(0.0, 100.0, 1.0, low_open=True),
            "rho": Number(-0.99, 0.99, 0.6),
            "num_samples": Number(1, 2_000, 300, integer=True),
            "seed": Number(0, 2**31 - 1, 0, integer=True),
        },
        explore.covariance,
    ),
    Endpoint(
        "mle-map",
        "Coin flips: MLE, MAP and posterior mean after each flip, under a Beta prior.",
        {
            "prior_strength": Number(0.0, 1_000.0, 10.0, low_open=True),
            "prior_mean": Number(0.01, 0.99, 0.5),
            "num_flips": Number(0, 500, 20, integer=True),
            "p_true": Number(0.0, 1.0, 0.7),
            "seed": Number(0, 2**31 - 1, 0, integer=True),
        },
        explore.mle_map,
    ),
    Endpoint(
        "regularization",
        "MAP as regularization: ridge (Gaussian prior) and lasso (Laplace prior) weights and their paths.",
        {"log10_penalty": Number(-3.0, 3.0, 0.0)},
        explore.regularization,
    ),
    Endpoint(
        "topics",
        "LDA on 600 standard-library docstrings: topics, their sizes and how many topics a document mixes.",
        {
            "num_topics": Number(2, 20, 6, integer=True),
            "alpha": Number(0.0, 10.0, 0.1, low_open=True),
            "seed": Number(0, 2**31 - 1, 0, integer=True),
        },
        explore.topics,
    ),
    Endpoint(
        "continual",
        "Online Laplace on permuted digits: accuracy on every task after each, beside fine-tuning and joint training.",
        {"log10_strength": Number(-3.0, 3.0, 0.0), "num_tasks": Number(2, 5, 3, integer=True)},
        explore.continual,
    ),
    Endpoint(
        "ab",
        "A Bayesian A/B/n test of typed per-arm totals: P(best), expected loss, lift, decision, prior sensitivity.",
        AB_FIELDS,
        lambda **options: ab_payload(options),
    ),
)
