"""How settled is the decision? The probability that it changes if the test runs to its planned size.

"Keep testing" gets a number. From the posterior predictive of the remaining traffic:
draw each arm's rate from its posterior, its remaining conversions from the binomial
of the visitors still to come, and rerun the whole exact analysis on the completed data
(one vectorized :func:`~bayeskit.decide.table.analyze_statistics` call over all the
simulations). The share of simulated completions whose decision (and chosen arm) differs
from today's is the probability that the decision changes; its Monte Carlo error is
reported beside it. The number is calibrated by construction when the data come from the
prior the analysis uses, which ``tests/statistical/test_settle_calibration.py`` checks.

Examples
--------
>>> from bayeskit.decide.settle import decision_stability
>>> settled = decision_stability(["A", "B"], [2_000, 2_000], [100, 112], planned_visitors=10_000, rng=0)
>>> settled.decision, round(settled.prob_change, 1)
('keep testing', 0.7)

"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bayeskit._rng import as_generator
from bayeskit._validate import as_float_array

__all__ = ["Settledness", "decision_stability", "simulate_completions"]


@dataclass(frozen=True)
class Settledness:
    """Today's decision and what the completed test would decide, by posterior-predictive simulation."""

    decision: str
    decision_arm: str | None
    planned_visitors: tuple[float, ...]
    prob_change: float
    mcse: float
    num_simulations: int
    final_decisions: dict[str, float]  # share of simulated completions per final decision (with its arm)

    @property
    def message(self) -> str:
        """One sentence for the terminal and the report."""
        planned = f"{max(self.planned_visitors):,.0f}" if len(set(self.planned_visitors)) == 1 else "the plan"
        return (
            f"if the test runs to {planned} visitors per arm, the decision changes with probability "
            f"{self.prob_change:.2f} (+/- {self.mcse:.2f}, {self.num_simulations:,} posterior-predictive completions)."
        )


def _label(decision: Any, arm: Any) -> str:
    return f"{decision} {arm}" if isinstance(arm, str) else str(decision)


def simulate_completions(visitors, conversions, planned, rng, num_simulations: int, prior=(1.0, 1.0), **options):
    """Final decisions of ``num_simulations`` posterior-predictive completions of tests ``(E, K)``.

    Returns ``(decisions, arms)`` of shape ``(E, num_simulations)`` (the arm is None unless shipping) and the
    arm names used (``arm0, arm1, ...`` with arm 0 the control). ``prior`` is the Beta prior of every arm.
    """
    import pandas as pd

    from bayeskit.decide.table import analyze_statistics

    visitors, conversions, planned = (
        np.atleast_2d(np.asarray(a, dtype=float)) for a in (visitors, conversions, planned)
    )
    num_tests, num_arms = visitors.shape
    remaining = np.maximum(planned - visitors, 0.0).astype(np.int64)
    rates = rng.beta(prior[0] + conversions, prior[1] + visitors - conversions, (num_simulations, num_tests, num_arms))
    future = rng.binomial(remaining, rates)  # (S, E, K)
    final_n = np.broadcast_to(np.maximum(planned, visitors), future.shape)
    final_total = conversions + future
    names = np.array([f"arm{k}" for k in range(num_arms)])
    stats = pd.DataFrame(
        {
            "test": np.repeat(np.arange(num_simulations * num_tests), num_arms),
            "variant": np.tile(names, num_simulations * num_tests),
            "n": final_n.reshape(-1),
            "total": final_total.reshape(-1),
        }
    )
    table = analyze_statistics(stats, by=["test"], control="arm0", **options)
    first = table[table["is_control"]]
    decisions = first["decision"].to_numpy().reshape(num_simulations, num_tests).T
    arms = first["decision_arm"].to_numpy().reshape(num_simulations, num_tests).T
    return decisions, arms, names


def decision_stability(
    names: Any,
    visitors: Any,
    conversions: Any,
    *,
    planned_visitors: Any,
    rng: Any,
    num_simulations: int = 2_000,
    control: str | None = None,
    prob: float = 0.95,
    threshold: float = 0.005,
    rope: float = 0.01,
) -> Settledness:
    """The probability that a binary test's decision changes by its planned size (uniform Beta(1, 1) priors).

    Parameters
    ----------
    names, visitors, conversions
        As in :func:`~bayeskit.decide.ab_test_binary`.
    planned_visitors
        The planned visitors per arm at the end of the test: one number for every arm, or one per arm.
    rng
        A ``numpy.random.Generator``, an int or a JAX key.
    num_simulations
        Posterior-predictive completions; the Monte Carlo error is ``sqrt(p (1 - p) / num_simulations)``.
    control, prob, threshold, rope
        As in :func:`~bayeskit.decide.ab_test_binary`; the sample-ratio check is not part of the simulation.

    Returns
    -------
    Settledness

    """
    from bayeskit.decide.ab import ab_test_binary

    today = ab_test_binary(
        names,
        visitors,
        conversions,
        control=control,
        prob=prob,
        threshold=threshold,
        rope=rope,
        sensitivity=False,
        lift=False,
        split=None,
    )
    names = [arm.name for arm in today.arms]
    visitors = np.array([arm.size for arm in today.arms])
    conversions = np.asarray(as_float_array(conversions, "conversions"), dtype=float)
    planned = np.broadcast_to(as_float_array(planned_visitors, "planned_visitors"), visitors.shape).astype(float)
    if np.any(~np.isfinite(planned)) or np.any(planned < visitors):
        arm = names[int(np.argmax(~np.isfinite(planned) | (planned < visitors)))]
        raise ValueError(
            f"`planned_visitors` must be at least the visitors so far in every arm; arm {arm!r} has "
            f"{visitors[names.index(arm)]:,.0f} visitors against a plan of {planned[names.index(arm)]:,.0f}."
        )
    if int(num_simulations) != num_simulations or num_simulations < 100:
        raise ValueError(f"`num_simulations` must be a whole number >= 100; got {num_simulations!r}.")
    order = [names.index(today.control)] + [i for i in range(len(names)) if names[i] != today.control]
    decisions, arms, labels = simulate_completions(
        visitors[order],
        conversions[order],
        planned[order],
        as_generator(rng),
        int(num_simulations),
        prob=prob,
        threshold=threshold,
        rope=rope,
    )
    real = {label: names[i] for label, i in zip(labels, order, strict=True)}
    finals = [_label(d, real.get(a)) for d, a in zip(decisions[0], arms[0], strict=True)]
    current = _label(today.decision, today.decision_arm)
    changed = np.array([final != current for final in finals])
    share = {label: float(np.mean([f == label for f in finals])) for label in sorted(set(finals))}
    p = float(changed.mean())
    return Settledness(
        decision=today.decision,
        decision_arm=today.decision_arm,
        planned_visitors=tuple(float(v) for v in planned),
        prob_change=p,
        mcse=float(np.sqrt(max(p * (1 - p), 1.0 / num_simulations) / num_simulations)),
        num_simulations=int(num_simulations),
        final_decisions=share,
    )
