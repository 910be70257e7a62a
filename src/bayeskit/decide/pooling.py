"""Partial pooling of a treatment's effect across segments (empirical Bayes on the log rate ratio).

Twenty small segments tested one by one produce false alarms: the noisiest segments show
the most extreme lifts. Partial pooling treats the segments' effects as draws from one
population and shrinks each towards it in proportion to how little data it has.

The effect of a segment is ``D = log(rate_B / rate_A)``. Its exact posterior moments come
from the arms' conjugate posteriors in closed form (for a Beta, ``E[log p] = psi(a) -
psi(a + b)`` and ``Var[log p] = psi1(a) - psi1(a + b)``; for a Gamma, ``psi(a) + log
scale`` and ``psi1(a)``). The segments' effects are modelled as ``D_s ~ N(mu, tau^2)``
with each observed through ``N(d_s, se_s^2)`` (the normal-normal hierarchical model of
the eight-schools example); ``mu`` and ``tau`` are fitted by marginal likelihood and
each segment's pooled effect is the conjugate normal update. Every pooled number (the
probability that B beats A, the expected losses, the lift interval, the ROPE
probability) then has a closed form under the normal effect. Empirical Bayes: ``mu``
and ``tau`` are point estimates, so with few segments the pooled intervals are a little
too narrow.

Examples
--------
>>> import numpy as np
>>> from bayeskit.decide.pooling import pool_effects
>>> mean, var, mu, tau = pool_effects(np.array([0.4, -0.3, 0.1, 0.0]), np.array([0.09, 0.09, 0.09, 0.09]))
>>> round(float(tau), 3), mean.round(3).tolist()  # spread no larger than the noise: pooled completely
(0.0, [0.05, 0.05, 0.05, 0.05])

"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

__all__ = ["log_effect_moments", "pool_effects", "pooled_summaries"]


def log_effect_moments(control, arm) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and variance of ``log(arm / control)`` for independent Beta or Gamma marginals."""
    if control.family != arm.family or control.family not in ("beta", "gamma"):
        raise ValueError(f"pooling effects needs two Beta or two Gamma marginals; got {control.family}, {arm.family}.")

    def moments(m):
        if m.family == "beta":
            a, b = m.params
            return special.digamma(a) - special.digamma(a + b), special.polygamma(1, a) - special.polygamma(1, a + b)
        shape, scale = m.params
        return special.digamma(shape) + np.log(scale), special.polygamma(1, shape)

    (mean_a, var_a), (mean_b, var_b) = moments(control), moments(arm)
    return mean_b - mean_a, var_a + var_b


def pool_effects(effect: np.ndarray, variance: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The normal-normal hierarchical model fitted by marginal likelihood: pooled means, variances, ``mu``, ``tau``."""
    effect, variance = np.asarray(effect, dtype=float), np.asarray(variance, dtype=float)

    def profile(log_tau: float) -> tuple[float, float]:
        total = variance + np.exp(2.0 * log_tau)
        mu = float(np.sum(effect / total) / np.sum(1.0 / total))
        return mu, 0.5 * float(np.sum(np.log(total) + (effect - mu) ** 2 / total))

    spread = max(float(np.std(effect)), 1e-6)
    found = optimize.minimize_scalar(
        lambda t: profile(t)[1], bounds=(np.log(spread) - 12.0, np.log(spread) + 3.0), method="bounded"
    )
    tau = float(np.exp(found.x))
    if profile(-np.inf)[1] <= found.fun:  # the likelihood peaks at tau = 0: no heterogeneity, complete pooling
        tau = 0.0
    mu = profile(np.log(tau) if tau > 0 else -np.inf)[0]
    if tau == 0.0:
        return np.full_like(effect, mu), np.full_like(effect, 1.0 / np.sum(1.0 / variance)), mu, tau
    precision = 1.0 / variance + 1.0 / tau**2
    return (effect / variance + mu / tau**2) / precision, 1.0 / precision, mu, tau


def pooled_summaries(mean: np.ndarray, variance: np.ndarray, prob: float, rope: float) -> dict[str, np.ndarray]:
    """Closed forms under a normal log effect ``D ~ N(mean, variance)`` (lift ``= exp(D) - 1``).

    ``prob_beats``: P(D > 0); ``loss_control``: E[(e^D - 1)^+] (choosing the control, in units of its
    mean); ``loss_arm``: E[(1 - e^D)^+]; the lift's median and central interval; P(|lift| < rope).
    """
    sd = np.sqrt(variance)
    z = special.ndtri((1 + prob) / 2)
    upper = np.exp(mean + 0.5 * variance) * special.ndtr((mean + variance) / sd) - special.ndtr(mean / sd)
    lower = special.ndtr(-mean / sd) - np.exp(mean + 0.5 * variance) * special.ndtr(-(mean + variance) / sd)
    inside = special.ndtr((np.log1p(rope) - mean) / sd) - (
        special.ndtr((np.log(1.0 - rope) - mean) / sd) if rope < 1 else 0.0
    )
    return {
        "prob_beats": special.ndtr(mean / sd),
        "loss_control": np.maximum(upper, 0.0),
        "loss_arm": np.maximum(lower, 0.0),
        "lift_median": np.expm1(mean),
        "lift_low": np.expm1(mean - z * sd),
        "lift_high": np.expm1(mean + z * sd),
        "prob_in_rope": inside,
    }
