"""Split predictive uncertainty into aleatoric (noise) and epistemic (model) parts, from any engine's draws."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from bayeskit.evaluate._inputs import positive, real
from bayeskit.posterior import Decomposition

__all__ = ["Decomposition", "decompose_classification", "decompose_regression"]


def decompose_regression(means: Any, variances: Any) -> Decomposition:
    """Law of total variance over ``S`` posterior draws (ensemble members, dropout passes, MCMC draws).

    Parameters
    ----------
    means, variances
        Shape ``(S, n)``: each draw's predicted mean and noise variance.

    Returns
    -------
    Decomposition
        ``aleatoric = mean_s variance``, ``epistemic = var_s mean`` (population
        variance), ``total`` their sum, each of shape ``(n,)``.
    """
    m = real(means, "means", 2)
    v = positive(variances, "variances")
    if v.shape != m.shape:
        raise ValueError(f"`variances` must have shape {m.shape} to match `means`; got {v.shape}.")
    aleatoric, epistemic = v.mean(axis=0), m.var(axis=0)
    return Decomposition(aleatoric + epistemic, aleatoric, epistemic)


def decompose_classification(probs: Any) -> Decomposition:
    """Entropy decomposition over ``S`` draws of class probabilities, shape ``(S, n, K)``.

    ``total = H(mean_s p_s)``, ``aleatoric = mean_s H(p_s)`` (expected entropy) and
    ``epistemic = total - aleatoric``: the mutual information between the label and
    the parameters (BALD), always >= 0. In nats.

    References
    ----------
    Houlsby, Huszar, Ghahramani & Lengyel (2011). Bayesian active learning for classification and preference learning.
    Depeweg et al. (2018). Decomposition of uncertainty in Bayesian deep learning. ICML.
    """
    p = real(probs, "probs", 3)
    if np.any((p < 0) | (p > 1)) or np.any(np.abs(p.sum(axis=-1) - 1.0) > 1e-6):
        raise ValueError("`probs` must be probabilities of shape (S, n, K) whose last axis sums to 1.")
    total = -special.xlogy(p.mean(axis=0), p.mean(axis=0)).sum(axis=-1)
    aleatoric = -special.xlogy(p, p).sum(axis=-1).mean(axis=0)
    return Decomposition(total, aleatoric, np.maximum(total - aleatoric, 0.0))
