"""Bayesian A/B/n testing: exact P(best), expected loss, lift, ROPE and a decision, with prior sensitivity.

Each arm gets an exact conjugate posterior (Beta for conversion, Gamma for rates
with exposure, Normal-Inverse-Gamma for continuous means). Every headline number
is a 1-D integral computed by quadrature (no Monte Carlo noise). The log-normal
option compares arm means ``exp(mu + sigma^2 / 2)``, which have no closed-form
marginal; it uses exact posterior draws and reports their Monte Carlo error.

Examples
--------
>>> from bayeskit.decide import ab_test_binary
>>> result = ab_test_binary(["A", "B"], visitors=[10_000, 10_000], conversions=[500, 560])
>>> round(result.arm("B").prob_best, 4)
0.9708
>>> result.decision, result.decision_arm
('ship', 'B')

"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bayeskit._validate import as_float_array, check_choice, check_finite, check_prob
from bayeskit.conjugate import BetaBinomial, GammaPoisson, NormalInverseGamma
from bayeskit.conjugate.beta_binomial import binomial_counts
from bayeskit.conjugate.gamma_poisson import counts_and_exposure
from bayeskit.decide._marginal import Marginal, as_marginal, of_posterior
from bayeskit.decide._quadrature import (
    difference_cdf_of,
    prob_best,
    prob_greater,
    ratio_cdf_of,
    two_arm,
)
from bayeskit.decide.srm import SampleRatio, check_one, check_split

__all__ = [
    "DECISIONS",
    "PRIORS",
    "ABTestResult",
    "ArmResult",
    "SensitivityRow",
    "ab_test_binary",
    "ab_test_continuous",
    "ab_test_count",
    "continuous_statistics",
    "cuped",
]

MAX_ARMS = 20
DECISIONS = ("ship", "keep testing", "no meaningful difference", "withheld")  # withheld: sample-ratio mismatch
PRIORS = {
    "binary": ("uniform", "jeffreys", "skeptical"),
    "count": ("jeffreys", "uniform", "skeptical"),
    "continuous": ("vague", "weak", "skeptical"),
}
PRIOR_DESCRIPTIONS = {
    ("binary", "uniform"): "Beta(1, 1) for every arm",
    ("binary", "jeffreys"): "Beta(1/2, 1/2) for every arm",
    ("binary", "skeptical"): "Beta centred on the pooled rate, worth 100 visitors per arm",
    ("count", "jeffreys"): "Gamma(1/2, ~0): nearly flat in sqrt(rate)",
    ("count", "uniform"): "Gamma(1, ~0): nearly flat in the rate",
    ("count", "skeptical"): "Gamma centred on the pooled rate, worth 10% of the mean exposure per arm",
    ("continuous", "vague"): "NIG centred on the pooled mean, kappa=1e-3, alpha=1, beta=pooled variance",
    ("continuous", "weak"): "NIG centred on the pooled mean, kappa=1, alpha=2, beta=pooled variance",
    ("continuous", "skeptical"): "NIG centred on the pooled mean, kappa = 10% of the mean arm size",
}


@dataclass(frozen=True)
class ArmResult:
    """One arm's posterior summary and its comparison with the control."""

    name: str
    size: float
    mean: float
    interval: tuple[float, float]
    prob_best: float
    expected_loss: float
    prob_beats_control: float | None = None
    lift_median: float | None = None
    lift_interval: tuple[float, float] | None = None
    prob_in_rope: float | None = None


@dataclass(frozen=True)
class SensitivityRow:
    """The conclusion under another prior."""

    prior: str
    description: str
    decision: str
    decision_arm: str | None
    best_arm: str
    best_prob: float
    changes_conclusion: bool


@dataclass(frozen=True)
class ABTestResult:
    """Everything a Bayesian A/B/n test concludes; ``to_dict()`` is the CLI's JSON."""

    metric: str
    prior: str
    prior_description: str
    control: str
    prob: float
    threshold: float
    rope: float
    arms: tuple[ArmResult, ...]
    decision: str
    decision_arm: str | None
    reason: str
    method: str
    numerical_error: float  # quadrature error estimate, or the Monte Carlo error on the draws path
    sensitivity: tuple[SensitivityRow, ...] = field(default_factory=tuple)
    srm: SampleRatio | None = None  # the sample-ratio check (None for the count metric: exposure is not units)
    adjustment: dict[str, float] | None = None  # CUPED: slope, variance_reduction, correlation
    marginals: Any = field(default=None, repr=False, compare=False)
    draws: Any = field(default=None, repr=False, compare=False)

    @property
    def conclusion_depends_on_prior(self) -> bool:
        """True when any alternative prior leads to a different decision."""
        return any(row.changes_conclusion for row in self.sensitivity)

    def arm(self, name: str) -> ArmResult:
        """The result of the arm called ``name``."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(f"no arm named {name!r}; arms are {', '.join(a.name for a in self.arms)}.")

    def table(self):
        """A pandas table with one row per arm."""
        import pandas as pd

        rows = []
        for arm in self.arms:
            row = asdict(arm)
            row["low"], row["high"] = row.pop("interval")
            lift = row.pop("lift_interval")
            row["lift_low"], row["lift_high"] = lift if lift else (None, None)
            rows.append(row)
        return pd.DataFrame(rows).set_index("name")

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready results."""
        out = {k: v for k, v in asdict(self).items() if k not in ("marginals", "draws")}
        out["arms"] = [{**asdict(a), "interval": list(a.interval)} for a in self.arms]
        control_mean = self.arm(self.control).mean
        for arm in out["arms"]:
            if arm["lift_interval"] is not None:
                arm["lift_interval"] = list(arm["lift_interval"])
            # the unit of the threshold and of the decision's sentence
            arm["expected_loss_relative"] = arm["expected_loss"] / control_mean if control_mean > 0 else None
        out["conclusion_depends_on_prior"] = self.conclusion_depends_on_prior
        if self.srm is not None:
            out["srm"] = {**asdict(self.srm), "message": self.srm.message}
        return out

    @property
    def broken(self) -> bool:
        """True when the sample-ratio check failed (p < 0.001): the decision is withheld."""
        return self.srm is not None and self.srm.broken


# ----------------------------------------------------------------------------------------------
# Validation at the boundary
# ----------------------------------------------------------------------------------------------
def _names(names: Any, num: int | None = None) -> tuple[str, ...]:
    names = tuple(str(n) for n in names)
    if len(names) < 2:
        raise ValueError(f"an A/B test needs at least 2 arms; got {len(names)} ({', '.join(names) or 'none'}).")
    if len(names) > MAX_ARMS:
        raise ValueError(f"at most {MAX_ARMS} arms are supported; got {len(names)}.")
    if len(set(names)) != len(names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"arm names must be unique; {', '.join(map(repr, duplicated))} appear more than once.")
    if num is not None and num != len(names):
        raise ValueError(f"got {len(names)} arm names but {num} rows of data.")
    return names


def _arm_vector(value: Any, name: str, num: int) -> np.ndarray:
    array = check_finite(as_float_array(value, name), name)
    if array.shape != (num,):
        raise ValueError(f"`{name}` must have one entry per arm, shape ({num},); got {array.shape}.")
    return array


def _arm_inputs(names: Any, **vectors: Any) -> tuple[tuple[str, ...], list[np.ndarray]]:
    """Validated arm names and one finite per-arm vector for each keyword (the names set the arm count)."""
    first_name, first = next(iter(vectors.items()))
    raw = as_float_array(first, first_name)
    names = _names(names, raw.shape[0] if raw.ndim == 1 else None)
    return names, [_arm_vector(value, name, len(names)) for name, value in vectors.items()]


def _control(control: str | None, names: tuple[str, ...]) -> int:
    if control is None:
        return 0
    if str(control) not in names:
        raise ValueError(f"unknown control {control!r}; choose one of {', '.join(map(repr, names))}.")
    return names.index(str(control))


def _settings(prob: float, threshold: float, rope: float) -> tuple[float, float, float]:
    prob = check_prob(prob)
    for name, value in (("threshold", threshold), ("rope", rope)):
        if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value) or value < 0:
            raise ValueError(
                f"`{name}` must be a finite number >= 0 (a fraction of the control's mean); got {value!r}."
            )
    return prob, float(threshold), float(rope)


# ----------------------------------------------------------------------------------------------
# The analysis over exact marginals
# ----------------------------------------------------------------------------------------------
def _solve_cdf(cdf, targets: np.ndarray, low: np.ndarray, high: np.ndarray, guess: np.ndarray, spread: np.ndarray):
    """Solve ``cdf(x) = target`` elementwise on the bracket ``[low, high]`` (Illinois regula falsi).

    ``guess`` and ``spread`` (a normal approximation's quantile and sd) first tighten the
    bracket where the CDF there allows; then regula falsi with the Illinois correction,
    a bisection every fourth step, stops when the bracket is 1e-12 wide (relative) or the
    residual is at rounding level (1e-14). The bracket always holds the root, so this is as
    safe as bisection, in ~10 evaluations instead of 70.
    """
    shape = np.broadcast_shapes(np.shape(targets), np.shape(low), np.shape(high), np.shape(guess))
    low, high = (np.array(np.broadcast_to(v, shape), dtype=float) for v in (low, high))
    f_low, f_high = -np.broadcast_to(targets, shape).astype(float), 1.0 - np.broadcast_to(targets, shape)
    for step in (-0.25, 0.25):  # tighten the bracket around the normal approximation
        point = np.clip(guess + step * spread, low, high)
        value = cdf(point) - targets
        below, above = value < 0, value > 0
        low, f_low = np.where(below & (point > low), point, low), np.where(below & (point > low), value, f_low)
        high, f_high = np.where(above & (point < high), point, high), np.where(above & (point < high), value, f_high)
    kept = np.zeros(shape, dtype=int)  # which end stayed last step: -1 low, +1 high
    root = np.full(shape, np.nan)  # a point whose residual is at rounding level, once one is found
    for iteration in range(200):
        done = ~np.isnan(root) | ((high - low) <= 1e-12 * np.maximum(1.0, np.abs(low) + np.abs(high)))
        if done.all():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            point = (low * f_high - high * f_low) / (f_high - f_low)
        bisect = ~np.isfinite(point) | (point <= low) | (point >= high) | (iteration % 4 == 3)
        point = np.where(bisect, 0.5 * (low + high), point)
        value = cdf(point) - targets
        root = np.where(~done & (np.abs(value) <= 1e-14), point, root)
        move_low = (value < 0) & ~done
        move_high = (value >= 0) & ~done
        # Illinois: when the same end stays twice, halve its value so that the next point moves past it.
        f_high = np.where(move_low & (kept == 1), 0.5 * f_high, f_high)
        f_low = np.where(move_high & (kept == -1), 0.5 * f_low, f_low)
        low, f_low = np.where(move_low, point, low), np.where(move_low, value, f_low)
        high, f_high = np.where(move_high, point, high), np.where(move_high, value, f_high)
        kept = np.where(move_low, 1, np.where(move_high, -1, kept))
    return np.where(np.isnan(root), 0.5 * (low + high), root)


def _normal_approximation(arm: Marginal, base: Marginal, targets: np.ndarray, log_scale: bool):
    """Quantiles and sd of ``arm - base`` (of ``log arm - log base`` when ``log_scale``) by the delta method."""
    from scipy import special

    mean_arm, mean_base = arm.mean(), base.mean()
    var_arm, var_base = (m.width() ** 2 / 1.82 for m in (arm, base))  # IQR^2 / 1.82 = variance of a normal
    if log_scale:
        centre = np.log(mean_arm / mean_base)
        spread = np.sqrt(var_arm / mean_arm**2 + var_base / mean_base**2)
    else:
        centre, spread = mean_arm - mean_base, np.sqrt(var_arm + var_base)
    centre = np.where(np.isfinite(centre), centre, 0.0)
    spread = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
    return centre + spread * special.ndtri(targets), spread


def _lift_and_rope(
    arms: Marginal,
    control: int,
    others: np.ndarray,
    prob: float,
    rope: float,
    lift_quantiles: bool = True,
    rope_prob: bool = True,
):
    """Quantiles of the relative lift over the control, and P(|lift| < rope).

    The quantiles are NaN unless ``lift_quantiles``, the probability None unless ``rope_prob``.

    The quantiles cost most of an analysis (a root search on a 1-D integral); the prior-sensitivity
    reruns need only the decision, so they skip them.
    """
    arm = Marginal(arms.family, tuple(p[others] for p in arms.params))
    base = Marginal(arms.family, tuple(np.full(others.size, p[control]) for p in arms.params))
    targets = np.array([(1 - prob) / 2, 0.5, (1 + prob) / 2])[:, None]
    tiny = 1e-12
    if arms.family == "t":  # support on the whole line: lift = (arm - control) / |control mean|
        scale = abs(float(base.mean()[0]))
        difference = difference_cdf_of(arm, base)
        inside = difference(rope * scale) - difference(-rope * scale) if rope_prob else None
        if not lift_quantiles:
            return np.full((3, others.size), np.nan), inside
        low = arm.ppf(tiny) - base.ppf(1 - tiny)
        high = arm.ppf(1 - tiny) - base.ppf(tiny)
        guess, spread = _normal_approximation(arm, base, targets, log_scale=False)
        quantiles = _solve_cdf(difference, targets, low, high, guess, spread) / scale
    else:  # positive support: lift = arm / control - 1
        ratio = ratio_cdf_of(arm, base)
        inside = ratio(1.0 + rope) - ratio(max(1.0 - rope, 0.0)) if rope_prob else None
        if not lift_quantiles:
            return np.full((3, others.size), np.nan), inside
        low = np.log(np.maximum(arm.ppf(tiny), 1e-300) / base.ppf(1 - tiny))
        high = np.log(arm.ppf(1 - tiny) / np.maximum(base.ppf(tiny), 1e-300))
        guess, spread = _normal_approximation(arm, base, targets, log_scale=True)
        quantiles = np.exp(_solve_cdf(lambda x: ratio(np.exp(x)), targets, low, high, guess, spread)) - 1.0
    return quantiles, inside


def _decide(names, control, means, losses, rope_probs, threshold):
    """The decision rule: no meaningful difference, ship the least-loss arm, or keep testing."""
    scale = abs(means[control]) if means[control] != 0 else 1.0
    relative_loss = losses / scale
    best = int(np.argmin(relative_loss))
    if rope_probs.size and np.all(rope_probs >= 0.95):
        return (
            "no meaningful difference",
            None,
            (f"every arm is within the region of practical equivalence of {names[control]!r} with probability >= 95%."),
        )
    if relative_loss[best] < threshold:
        what = "keep the control" if best == control else "ship it"
        return (
            "ship",
            names[best],
            (
                f"choosing {names[best]!r} costs an expected {relative_loss[best]:.3%} of the control's mean "
                f"if it is not the best arm, below the threshold of {threshold:.3%}: {what}."
            ),
        )
    return (
        "keep testing",
        None,
        (
            f"the least risky arm, {names[best]!r}, still has an expected loss of {relative_loss[best]:.3%} of the "
            f"control's mean, above the threshold of {threshold:.3%}."
        ),
    )


@dataclass(frozen=True)
class _Summaries:
    """Per-arm arrays every analysis produces; ``others`` indexes the non-control arms."""

    means: np.ndarray
    low: np.ndarray
    high: np.ndarray
    best_probs: np.ndarray
    losses: np.ndarray
    others: np.ndarray
    beats_control: np.ndarray  # (K - 1,)
    lift: np.ndarray  # (3, K - 1): low, median, high
    rope_probs: np.ndarray  # (K - 1,)


def _assemble(names, sizes, control, summary: _Summaries, settings: dict[str, Any], **extra: Any) -> ABTestResult:
    """Turn per-arm arrays into the result object, with the decision."""
    decision, decision_arm, reason = _decide(
        names, control, summary.means, summary.losses, summary.rope_probs, settings["threshold"]
    )
    arms = []
    for i, name in enumerate(names):
        k = None if i == control else int(np.flatnonzero(summary.others == i)[0])
        arms.append(
            ArmResult(
                name=name,
                size=float(sizes[i]),
                mean=float(summary.means[i]),
                interval=(float(summary.low[i]), float(summary.high[i])),
                prob_best=float(summary.best_probs[i]),
                expected_loss=float(max(summary.losses[i], 0.0)),
                prob_beats_control=None if k is None else float(summary.beats_control[k]),
                lift_median=None if k is None or np.isnan(summary.lift[1, k]) else float(summary.lift[1, k]),
                lift_interval=None
                if k is None or np.isnan(summary.lift[1, k])
                else (float(summary.lift[0, k]), float(summary.lift[2, k])),
                prob_in_rope=None if k is None else float(summary.rope_probs[k]),
            )
        )
    return ABTestResult(
        prior_description=PRIOR_DESCRIPTIONS.get((settings["metric"], settings["prior"]), settings["prior"]),
        control=names[control],
        arms=tuple(arms),
        decision=decision,
        decision_arm=decision_arm,
        reason=reason,
        **settings,
        **extra,
    )


def _run_settings(metric: str, prior: str, prob: float, threshold: float, rope: float) -> dict[str, Any]:
    return {"metric": metric, "prior": prior, "prob": prob, "threshold": threshold, "rope": rope}


def _others(num: int, control: int) -> np.ndarray:
    return np.array([i for i in range(num) if i != control])


def _analyze_exact(names, sizes, marginals, control, settings, lift_quantiles: bool = True):
    """Exact summaries of arms whose posteriors are univariate marginals, by quadrature."""
    arms = as_marginal(marginals)
    num, prob = len(names), settings["prob"]
    means = arms.mean()

    def arm(i: int) -> Marginal:
        return Marginal(arms.family, tuple(p[[i]] for p in arms.params))

    if num == 2:  # the exact two-arm path: integrate over the narrower arm, each loss directly
        other = 1 - control
        beats, loss_control, loss_other, error, in_rope = two_arm(arm(control), arm(other), rope=settings["rope"])
        best_probs, losses = np.empty(2), np.empty(2)
        best_probs[other], best_probs[control] = beats[0], 1.0 - beats[0]
        losses[control], losses[other] = loss_control[0], loss_other[0]
        errors = [float(error[0])]
    else:
        best_probs, expected_maximum, error = prob_best(arms)
        losses, errors = float(expected_maximum) - means, [float(np.max(error))]
    others = _others(num, control)
    if num == 2:  # the ROPE probability came with the two-arm integral; a search only for the lift quantiles
        rope_probs = in_rope
        lift = (
            _lift_and_rope(arms, control, others, prob, settings["rope"], True, rope_prob=False)[0]
            if lift_quantiles
            else np.full((3, 1), np.nan)
        )
    else:
        lift, rope_probs = _lift_and_rope(arms, control, others, prob, settings["rope"], lift_quantiles)
    if num == 2:  # P(other > control) is already known from the two-arm integral
        beats_control = [float(best_probs[others[0]])]
    else:
        beats_control = []
        for i in others:
            value, error = prob_greater(arm(i), arm(control))
            beats_control.append(float(value[0]))
            errors.append(float(error[0]))
    summary = _Summaries(
        means=means,
        low=arms.ppf((1 - prob) / 2),
        high=arms.ppf((1 + prob) / 2),
        best_probs=best_probs,
        losses=losses,
        others=others,
        beats_control=np.array(beats_control),
        lift=lift,
        rope_probs=rope_probs,
    )
    return _assemble(
        names,
        sizes,
        control,
        summary,
        settings,
        method="exact (1-D quadrature)",
        numerical_error=float(max(errors)),
        marginals=marginals,
    )


def _analyze_draws(names, sizes, draws, control, settings):
    """The same summaries from exact posterior draws ``(num_draws, num_arms)``, with Monte Carlo error."""
    num, prob = len(names), settings["prob"]
    best_probs = np.bincount(np.argmax(draws, axis=1), minlength=num) / draws.shape[0]
    others = _others(num, control)
    lift = draws[:, others] / draws[:, [control]] - 1.0
    tails = [(1 - prob) / 2, 0.5, (1 + prob) / 2]
    summary = _Summaries(
        means=draws.mean(axis=0),
        low=np.quantile(draws, tails[0], axis=0),
        high=np.quantile(draws, tails[2], axis=0),
        best_probs=best_probs,
        losses=(draws.max(axis=1, keepdims=True) - draws).mean(axis=0),
        others=others,
        beats_control=np.mean(draws[:, others] > draws[:, [control]], axis=0),
        lift=np.quantile(lift, tails, axis=0),
        rope_probs=np.mean(np.abs(lift) < settings["rope"], axis=0),
    )
    mcse = float(np.max(np.sqrt(best_probs * (1 - best_probs) / draws.shape[0])))
    return _assemble(
        names,
        sizes,
        control,
        summary,
        settings,
        method=f"exact posterior draws ({draws.shape[0]:,}); Monte Carlo error of P(best) <= {mcse:.1e}",
        numerical_error=mcse,
        draws=draws,
    )


def _with_sensitivity(run, metric: str, prior: str, sensitivity: bool, lift: bool = True) -> ABTestResult:
    main = run(prior, lift)
    if not sensitivity:
        return main
    rows = []
    for other in PRIORS[metric]:
        if other == prior:
            continue
        alternative = run(other, False)  # only the decision is kept: skip the lift quantiles
        best = max(alternative.arms, key=lambda a: a.prob_best)
        rows.append(
            SensitivityRow(
                prior=other,
                description=PRIOR_DESCRIPTIONS.get((metric, other), other),
                decision=alternative.decision,
                decision_arm=alternative.decision_arm,
                best_arm=best.name,
                best_prob=best.prob_best,
                changes_conclusion=(alternative.decision, alternative.decision_arm)
                != (main.decision, main.decision_arm),
            )
        )
    return dataclasses.replace(main, sensitivity=tuple(rows))


def _with_srm(result: ABTestResult, sizes: np.ndarray, split: Any) -> ABTestResult:
    """Attach the sample-ratio check; a failed one withholds the decision (the estimates stay, flagged)."""
    planned = None if split is None else check_split(split, sizes.size)
    srm = check_one(sizes, planned)
    if not srm.broken:
        return dataclasses.replace(result, srm=srm)
    withheld = tuple(
        dataclasses.replace(row, decision="withheld", decision_arm=None, changes_conclusion=False)
        for row in result.sensitivity
    )
    return dataclasses.replace(
        result, srm=srm, decision="withheld", decision_arm=None, reason=srm.message, sensitivity=withheld
    )


def _prior_name(prior: str | None, metric: str) -> str:
    if prior is None:
        return PRIORS[metric][0]
    return check_choice(prior, f"{metric} prior", PRIORS[metric])


# ----------------------------------------------------------------------------------------------
# Public entry points, one per metric
# ----------------------------------------------------------------------------------------------
def ab_test_binary(
    names: Any,
    visitors: Any,
    conversions: Any,
    *,
    control: str | None = None,
    prior: str | None = None,
    prob: float = 0.95,
    threshold: float = 0.005,
    rope: float = 0.01,
    sensitivity: bool = True,
    lift: bool = True,
    split: Any = None,
) -> ABTestResult:
    """Bayesian A/B/n test of conversion rates (Beta-Binomial per arm).

    Parameters
    ----------
    names
        Arm names, 2 to 20; the first is the control unless ``control`` says otherwise.
    visitors, conversions
        Per-arm totals: whole numbers, ``conversions <= visitors``.
    control
        Name of the control arm (lift and ROPE are relative to it).
    prior
        ``"uniform"`` (default), ``"jeffreys"`` or ``"skeptical"``; the others are
        reported as a prior-sensitivity check.
    prob
        Credible mass of the intervals.
    threshold
        Ship an arm when its expected loss is below this fraction of the control's mean.
    rope
        Half-width of the region of practical equivalence, as a relative lift.
    sensitivity
        Also run the other priors and flag a conclusion that changes.
    lift
        Compute the quantiles of the relative lift (median and interval; a root search, most of
        the cost of one test). Without them one test takes ~0.5 ms.
    split
        The planned share of visitors per arm (weights in the arms' order, e.g. ``[50, 50]``);
        equal when omitted. The observed split is checked against it (``result.srm``); below
        p = 0.001 the decision is ``"withheld"``.

    Returns
    -------
    ABTestResult

    References
    ----------
    Stucchio, C. (2015). Bayesian A/B testing at VWO (expected-loss decision rule).
    Kruschke, J. K. (2018). Rejecting or accepting parameter values in Bayesian estimation (ROPE).

    """
    names, (trials, successes) = _arm_inputs(names, visitors=visitors, conversions=conversions)
    over = successes > trials
    if over.any():
        arm = int(np.argmax(over))
        raise ValueError(
            f"`conversions` must be <= `visitors` in every arm; arm {names[arm]!r} has {successes[arm]:g} > "
            f"{trials[arm]:g}."
        )
    successes, trials = binomial_counts(successes, trials, names=("conversions", "visitors"))
    prob, threshold, rope = _settings(prob, threshold, rope)
    control_index = _control(control, names)
    pooled = (successes.sum() + 1.0) / (trials.sum() + 2.0)
    priors = {
        "uniform": (1.0, 1.0),
        "jeffreys": (0.5, 0.5),
        "skeptical": (100.0 * pooled, 100.0 * (1.0 - pooled)),
    }

    def run(name: str, lift_quantiles: bool) -> ABTestResult:
        posterior = BetaBinomial(*priors[name]).update(successes=successes, trials=trials)
        return _analyze_exact(
            names,
            trials,
            of_posterior(posterior, "probability"),
            control_index,
            _run_settings("binary", name, prob, threshold, rope),
            lift_quantiles,
        )

    return _with_srm(_with_sensitivity(run, "binary", _prior_name(prior, "binary"), sensitivity, lift), trials, split)


def ab_test_count(
    names: Any,
    counts: Any,
    exposure: Any,
    *,
    control: str | None = None,
    prior: str | None = None,
    prob: float = 0.95,
    threshold: float = 0.005,
    rope: float = 0.01,
    sensitivity: bool = True,
    lift: bool = True,
) -> ABTestResult:
    """Bayesian A/B/n test of event rates per unit exposure (Gamma-Poisson per arm).

    ``counts`` are total events per arm over ``exposure`` units (users, days, page
    views). Other parameters as in :func:`ab_test_binary` (no ``split``: exposure is not a count of
    units, so there is no sample-ratio check); priors ``"jeffreys"``
    (default), ``"uniform"``, ``"skeptical"``.
    """
    names, (events, exposure) = _arm_inputs(names, counts=counts, exposure=exposure)
    events, exposure = counts_and_exposure(events, exposure)
    prob, threshold, rope = _settings(prob, threshold, rope)
    control_index = _control(control, names)
    tiny = 1e-9 * exposure.mean()
    pooled = (events.sum() + 0.5) / exposure.sum()
    strength = 0.1 * exposure.mean()
    priors = {"jeffreys": (0.5, tiny), "uniform": (1.0, tiny), "skeptical": (pooled * strength, strength)}

    def run(name: str, lift_quantiles: bool) -> ABTestResult:
        posterior = GammaPoisson(*priors[name]).update(events, exposure)
        return _analyze_exact(
            names,
            exposure,
            of_posterior(posterior, "rate"),
            control_index,
            _run_settings("count", name, prob, threshold, rope),
            lift_quantiles,
        )

    return _with_sensitivity(run, "count", _prior_name(prior, "count"), sensitivity, lift)


def _arm_arrays(names, values, what: str, positive: bool = False) -> list[np.ndarray]:
    if len(values) != len(names):
        raise ValueError(f"got {len(names)} arm names but {len(values)} arrays of {what}.")
    arrays = []
    for name, arm_values in zip(names, values, strict=True):
        label = f"{what} of arm {name!r}"
        array = check_finite(as_float_array(arm_values, label), label)
        if array.ndim != 1 or array.size < 2:
            raise ValueError(
                f"arm {name!r} needs at least 2 observations ({what}) in a 1-D array; got shape {array.shape}."
            )
        if positive and np.any(array <= 0):
            raise ValueError(
                f"lognormal=True needs values > 0; arm {name!r} has {array[array <= 0][0]:g}. For revenue with many "
                "zeros, compare the mean (lognormal=False), or test conversion and spend per buyer separately."
            )
        arrays.append(array)
    return arrays


def continuous_statistics(values: Any, covariate: Any = None) -> dict[str, np.ndarray]:
    """Per-arm sufficient statistics of a continuous metric: ``n``, ``mean``, ``variance`` (population).

    With ``covariate`` (one array per arm, aligned with ``values``) also ``mean_x``, ``variance_x`` and
    ``covariance`` (population), what CUPED needs. A warehouse computes the same numbers with GROUP BY.
    """
    out = {
        "n": np.array([v.size for v in values], dtype=float),
        "mean": np.array([v.mean() for v in values]),
        "variance": np.array([v.var() for v in values]),
    }
    if covariate is not None:
        out["mean_x"] = np.array([x.mean() for x in covariate])
        out["variance_x"] = np.array([x.var() for x in covariate])
        out["covariance"] = np.array(
            [((x - x.mean()) * (v - v.mean())).mean() for v, x in zip(values, covariate, strict=True)]
        )
    return out


def cuped(statistics: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Regression adjustment (CUPED) of per-arm statistics with the pooled within-arm slope.

    Arms are on the last axis (a batch of tests on the others, one slope per test).

    ``y - theta (x - mean_x_all)`` per unit, with ``theta = sum n cov / sum n var_x``: each arm's adjusted
    mean is ``mean - theta (mean_x - mean_x_all)`` and its variance ``var - 2 theta cov + theta^2 var_x``,
    so the conjugate posterior of the adjusted mean is exact given the slope. Returns the adjusted
    statistics and ``{"slope", "variance_reduction", "correlation"}`` (the reduction is ``1 - pooled
    adjusted variance / pooled variance``, about ``rho^2``).
    """
    n, mean, variance = statistics["n"], statistics["mean"], statistics["variance"]
    mean_x, variance_x, covariance = statistics["mean_x"], statistics["variance_x"], statistics["covariance"]

    def total(a: np.ndarray) -> np.ndarray:  # over the arms (the last axis), kept for broadcasting
        return np.sum(a, axis=-1, keepdims=True)

    pooled_var_x, within = total(n * variance_x), total(n * variance)
    if not np.all(pooled_var_x > 0):
        raise ValueError("the covariate is constant within every arm; CUPED needs a covariate that varies.")
    slope = total(n * covariance) / pooled_var_x
    centre_x = total(n * mean_x) / total(n)
    adjusted_variance = np.maximum(variance - 2.0 * slope * covariance + slope**2 * variance_x, 0.0)
    adjusted = {"n": n, "mean": mean - slope * (mean_x - centre_x), "variance": adjusted_variance}
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = np.where(within > 0, 1.0 - total(n * adjusted_variance) / within, 0.0)
        correlation = np.where(within > 0, total(n * covariance) / np.sqrt(pooled_var_x * within), 0.0)
    report = {"slope": slope[..., 0], "variance_reduction": reduction[..., 0], "correlation": correlation[..., 0]}
    if np.ndim(n) == 1:
        report = {k: float(v) for k, v in report.items()}
    return adjusted, report


def ab_test_continuous(
    names: Any,
    values: Any = None,
    *,
    covariate: Any = None,
    statistics: dict[str, Any] | None = None,
    control: str | None = None,
    prior: str | None = None,
    lognormal: bool = False,
    prob: float = 0.95,
    threshold: float = 0.005,
    rope: float = 0.01,
    sensitivity: bool = True,
    num_draws: int = 200_000,
    rng: Any = 0,
    lift: bool = True,
    split: Any = None,
) -> ABTestResult:
    """Bayesian A/B/n test of a continuous metric's mean (Normal-Inverse-Gamma per arm).

    Parameters
    ----------
    names
        Arm names.
    values
        One array of observations per arm (e.g. revenue per user), at least 2 each.
    covariate
        One array per arm aligned with ``values`` (e.g. each user's revenue before the experiment):
        CUPED. The metric is regression-adjusted with the pooled within-arm slope (see :func:`cuped`)
        and the posterior is that of the adjusted mean; ``result.adjustment`` reports the slope and the
        variance reduction (about ``rho^2``), and the intervals narrow by ``sqrt(1 - rho^2)``.
    statistics
        Instead of ``values`` (and ``covariate``): per-arm sufficient statistics as
        :func:`continuous_statistics` returns them (``n``, ``mean``, ``variance`` and, for CUPED,
        ``mean_x``, ``variance_x``, ``covariance``), e.g. from a warehouse's GROUP BY.
    control
        Name of the control arm.
    prior
        ``"vague"`` (default), ``"weak"`` or ``"skeptical"`` Normal-Inverse-Gamma priors
        centred on the pooled mean; the others are the sensitivity check.
    lognormal
        Model positive, skewed values as log-normal and compare the arms' means
        ``exp(mu + sigma^2/2)``; computed from exact posterior draws with the Monte
        Carlo error reported (raw ``values`` only, no covariate).
    prob, threshold, rope, sensitivity, lift
        As in :func:`ab_test_binary`.
    num_draws, rng
        Number of posterior draws and their seed, used only with ``lognormal=True``.
    split
        The planned share of units per arm, checked as in :func:`ab_test_binary`.

    Returns
    -------
    ABTestResult

    """
    names = _names(names)
    if (values is None) == (statistics is None):
        raise ValueError("pass exactly one of `values` (arrays per arm) and `statistics` (per-arm summaries).")
    if lognormal and (covariate is not None or statistics is not None):
        raise ValueError("lognormal=True needs the raw `values`, without a covariate; CUPED adjusts the mean itself.")
    if values is not None:
        arrays = _arm_arrays(names, values, "values", positive=lognormal)
        arrays = [np.log(a) for a in arrays] if lognormal else arrays
        covariates = None
        if covariate is not None:
            covariates = _arm_arrays(names, covariate, "covariate values")
            for name, y, x in zip(names, arrays, covariates, strict=True):
                if x.shape != y.shape:
                    raise ValueError(
                        f"the covariate of arm {name!r} has {x.size} values for {y.size} observations; pass one "
                        "covariate value per observation, in the same order."
                    )
        summaries = continuous_statistics(arrays, covariates)
    else:
        summaries = {k: _arm_vector(v, f"statistics[{k!r}]", len(names)) for k, v in statistics.items()}
        missing = {"n", "mean", "variance"} - set(summaries)
        if missing:
            raise ValueError(f"`statistics` needs n, mean and variance per arm; missing {', '.join(sorted(missing))}.")
        if np.any(summaries["n"] < 2):
            arm = names[int(np.argmax(summaries["n"] < 2))]
            raise ValueError(f"arm {arm!r} has {summaries['n'].min():g} observations; at least 2 are needed per arm.")
    adjustment = None
    if covariate is not None or "covariance" in summaries:
        summaries, adjustment = cuped(summaries)
    prob, threshold, rope = _settings(prob, threshold, rope)
    control_index = _control(control, names)
    sizes, means, variances = summaries["n"], summaries["mean"], summaries["variance"]
    centre = float((sizes * means).sum() / sizes.sum())
    spread = float(max(((sizes * (variances + (means - centre) ** 2)).sum()) / sizes.sum(), 1e-12))
    priors = {
        "vague": (centre, 1e-3, 1.0, spread),
        "weak": (centre, 1.0, 2.0, spread),
        "skeptical": (centre, 0.1 * sizes.mean(), 1.0, spread),
    }

    def run(name: str, lift_quantiles: bool) -> ABTestResult:
        m, kappa, alpha, beta = priors[name]
        stacked = NormalInverseGamma(
            np.full(len(names), m), np.full(len(names), kappa), np.full(len(names), alpha), np.full(len(names), beta)
        ).update_from_statistics(sizes, means, sizes * variances)
        settings = _run_settings("continuous", name, prob, threshold, rope)
        if not lognormal:
            return _analyze_exact(names, sizes, of_posterior(stacked, "mean"), control_index, settings, lift_quantiles)
        draws = stacked.sample(rng, num_draws)
        arm_means = np.exp(draws["mean"] + 0.5 * draws["variance"])
        return _analyze_draws(names, sizes, arm_means, control_index, settings)

    result = _with_sensitivity(run, "continuous", _prior_name(prior, "continuous"), sensitivity, lift)
    return _with_srm(dataclasses.replace(result, adjustment=adjustment), sizes, split)
