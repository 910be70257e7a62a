"""Sample-ratio mismatch: is the observed split of units between arms the planned one.

A broken assignment (a redirect that loses users of one arm, a bot filter applied to
one arm only) biases every comparison, and no posterior can repair it, so an A/B
result checks the split first. Two numbers, vectorized over tests:

- the chi-square goodness-of-fit p-value of the arm sizes against the planned split;
- the posterior probability that some arm's share of traffic is off the plan by more
  than ``tolerance`` (1 percentage point by default), from the Dirichlet(1 + n) posterior
  of the shares: exact for two arms; for more arms, the largest of the arms' marginal
  (Beta) probabilities, a lower bound on the probability that any arm is off.

Below ``P_BROKEN`` (0.001) the experiment is called broken and the decision is withheld.

Examples
--------
>>> from bayeskit.decide.srm import sample_ratio
>>> p_value, prob_off = sample_ratio([[10_000, 10_400]])
>>> round(float(p_value[0]), 4), round(float(prob_off[0]), 3)
(0.0051, 0.478)

"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from bayeskit._parallel import elementwise
from bayeskit._validate import as_float_array

__all__ = ["P_BROKEN", "SampleRatio", "check_one", "check_split", "parse_split", "sample_ratio"]

P_BROKEN = 0.001


@dataclass(frozen=True)
class SampleRatio:
    """The sample-ratio check of one test."""

    planned: tuple[float, ...]
    observed: tuple[float, ...]
    p_value: float
    prob_off: float
    tolerance: float
    broken: bool

    @property
    def message(self) -> str:
        """The banner line: what was planned, what was seen, and what to do."""
        planned = "/".join(f"{share:.1%}" for share in self.planned)
        total = sum(self.observed)
        observed = "/".join(f"{size / total:.2%}" for size in self.observed) if total > 0 else "none"
        if not self.broken:
            return f"split {observed} against the planned {planned}: consistent (chi-square p = {self.p_value:.3g})."
        return (
            f"SAMPLE-RATIO MISMATCH: the arms got {observed} of the traffic against the planned {planned} "
            f"(chi-square p = {self.p_value:.2g} < {P_BROKEN}; P(some arm off by > {self.tolerance:.0%} of traffic) = "
            f"{self.prob_off:.3f}). The experiment is broken: the assignment or the logging loses units in some arm, "
            "so the decision is withheld. Find the cause (redirects, bot filters, late starts) before reading results."
        )


def parse_split(text: str, num_arms: int) -> np.ndarray:
    """``"50,50"`` (percentages or weights, any positive numbers) -> shares summing to 1."""
    try:
        weights = np.array([float(part) for part in str(text).split(",")])
    except ValueError:
        raise ValueError(f"`--split` must be comma-separated numbers such as 50,50; got {text!r}.") from None
    return check_split(weights, num_arms)


def check_split(split: Any, num_arms: int) -> np.ndarray:
    """Validated planned shares: ``num_arms`` positive finite weights, normalized to sum to 1."""
    weights = as_float_array(split, "split")
    if weights.shape != (num_arms,):
        raise ValueError(
            f"`split` must have one weight per arm ({num_arms}, in the arms' order); got {weights.size} "
            f"({', '.join(f'{w:g}' for w in weights.ravel())})."
        )
    if not np.all(np.isfinite(weights) & (weights > 0)):
        raise ValueError(f"`split` weights must be finite and > 0; got {', '.join(f'{w:g}' for w in weights)}.")
    return weights / weights.sum()


def sample_ratio(sizes: Any, planned: Any = None, tolerance: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Chi-square p-values and posterior probabilities of a split off by more than ``tolerance``.

    Parameters
    ----------
    sizes
        Units per arm, shape ``(num_tests, num_arms)``.
    planned
        Planned shares per arm, ``(num_arms,)`` or ``(num_tests, num_arms)``; equal when omitted.
    tolerance
        How far off the plan (in shares of the traffic) counts as off.

    Returns
    -------
    p_value, prob_off
        Arrays of shape ``(num_tests,)``.

    """
    sizes = np.atleast_2d(np.asarray(sizes, dtype=float))
    num_arms = sizes.shape[-1]
    planned = np.full(num_arms, 1.0 / num_arms) if planned is None else np.asarray(planned, dtype=float)
    total = sizes.sum(axis=-1, keepdims=True)
    expected = total * planned
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = np.where(expected > 0, (sizes - expected) ** 2 / expected, 0.0).sum(axis=-1)
    p_value = special.chdtrc(num_arms - 1, statistic)
    # the share of arm k is Beta(1 + n_k, (K - 1) + N - n_k) under the Dirichlet(1 + n) posterior
    if num_arms == 2:  # one share decides both
        sizes, planned = sizes[..., :1], planned[..., :1]
    alpha, beta = 1.0 + sizes, (num_arms - 1.0) + total - sizes
    low, high = np.maximum(planned - tolerance, 0.0), np.minimum(planned + tolerance, 1.0)
    off = elementwise(_mass_outside, alpha, beta, low, high)  # on every core for a large table
    return p_value, np.minimum(np.maximum(off.max(axis=-1), 0.0), 1.0)


def _mass_outside(alpha: np.ndarray, beta: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``P(share < low) + P(share > high)`` for a Beta share: cdf + sf (SciPy's ``betaincc`` is slow)."""
    return special.betainc(alpha, beta, low) + special.betainc(beta, alpha, 1.0 - high)


def check_one(sizes: np.ndarray, planned: np.ndarray | None, tolerance: float = 0.01) -> SampleRatio:
    """The check of one test's arm sizes, as a :class:`SampleRatio`."""
    sizes = np.asarray(sizes, dtype=float)
    shares = np.full(sizes.size, 1.0 / sizes.size) if planned is None else np.asarray(planned, dtype=float)
    p_value, prob_off = sample_ratio(sizes[None, :], shares, tolerance)
    return SampleRatio(
        planned=tuple(float(s) for s in shares),
        observed=tuple(float(s) for s in sizes),
        p_value=float(p_value[0]),
        prob_off=float(prob_off[0]),
        tolerance=tolerance,
        broken=bool(p_value[0] < P_BROKEN),
    )
