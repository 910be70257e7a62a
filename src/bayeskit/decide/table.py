"""Many A/B tests at once: sufficient statistics from any table engine, then one vectorized exact analysis.

``ab_test_table(frame, by=[...])`` runs one test per group of ``by`` (experiment x
segment x metric) over a table of events or of per-arm totals. The table may be a
pandas or Polars frame, a DuckDB relation, a PySpark DataFrame or anything else
`Narwhals <https://narwhals-dev.github.io/narwhals/>`_ reads: the aggregation
(``GROUP BY by, variant``: counts, sums, means and variances) runs inside that
engine through Narwhals, and only the sufficient statistics come back. The same
code path serves every backend, so a user who outgrows one machine points it at
their cluster. Every test then goes through the exact engine of
:mod:`bayeskit.decide.ab` in one vectorized call per arm count: the same
posteriors, P(best), expected losses, ROPE probabilities and decision rule as
``ab_test_binary`` / ``ab_test_count`` / ``ab_test_continuous`` (checked to 1e-12
in the tests), plus the sample-ratio check of :mod:`bayeskit.decide.srm`. Lift
quantiles and the prior-sensitivity reruns are left to the one-test functions.

Examples
--------
>>> import pandas as pd
>>> from bayeskit.decide import ab_test_table
>>> totals = pd.DataFrame({
...     "country": ["de", "de", "fr", "fr"], "variant": ["A", "B", "A", "B"],
...     "visitors": [10_000, 10_000, 4_000, 4_000], "conversions": [500, 560, 200, 190]})
>>> table = ab_test_table(totals, by=["country"], visitors="visitors", conversions="conversions")
>>> print(table[["country", "variant", "prob_best", "decision"]].round(3).to_string(index=False))
country variant  prob_best     decision
     de       A      0.029         ship
     de       B      0.971         ship
     fr       A      0.698 keep testing
     fr       B      0.302 keep testing

"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bayeskit._validate import check_choice
from bayeskit.decide._marginal import Marginal, of_posterior
from bayeskit.decide._quadrature import difference_cdf_of, prob_best, prob_greater, ratio_cdf_of, two_arm
from bayeskit.decide.ab import PRIORS, _settings, cuped
from bayeskit.decide.srm import P_BROKEN, check_split, sample_ratio
from bayeskit.sources.statistics import METRICS, sufficient_statistics

__all__ = ["ab_test_table", "analyze_statistics", "sufficient_statistics"]

_LABELS = np.array(["ship", "keep testing", "no meaningful difference", "withheld"], dtype=object)  # decision codes


# ----------------------------------------------------------------------------------------------
# The vectorized analysis of many tests
# ----------------------------------------------------------------------------------------------
def _default_control(names: Sequence[str]) -> str:
    lower = {str(n).lower(): n for n in names}
    for candidate in ("control", "baseline", "a"):
        if candidate in lower:
            return lower[candidate]
    return sorted(names)[0]


def _posteriors(metric: str, prior: str, n: np.ndarray, total: np.ndarray, stats_rows) -> Marginal:
    """The arms' exact posterior marginals for a block of tests ``(T, K)``, with ab_test_*'s priors."""
    from bayeskit.conjugate import BetaBinomial, GammaPoisson, NormalInverseGamma

    if metric == "binary":
        pooled = (total.sum(axis=1, keepdims=True) + 1.0) / (n.sum(axis=1, keepdims=True) + 2.0)
        a0, b0 = {
            "uniform": (np.ones_like(pooled), np.ones_like(pooled)),
            "jeffreys": (np.full_like(pooled, 0.5), np.full_like(pooled, 0.5)),
            "skeptical": (100.0 * pooled, 100.0 * (1.0 - pooled)),
        }[prior]
        return of_posterior(BetaBinomial(a0, b0).update(successes=total, trials=n), "probability")
    if metric == "count":
        tiny = 1e-9 * n.mean(axis=1, keepdims=True)
        pooled = (total.sum(axis=1, keepdims=True) + 0.5) / n.sum(axis=1, keepdims=True)
        strength = 0.1 * n.mean(axis=1, keepdims=True)
        shape0, rate0 = {
            "jeffreys": (np.full_like(tiny, 0.5), tiny),
            "uniform": (np.ones_like(tiny), tiny),
            "skeptical": (pooled * strength, strength),
        }[prior]
        return of_posterior(GammaPoisson(shape0, rate0).update(total, n), "rate")
    mean, variance = stats_rows
    centre = total.sum(axis=1, keepdims=True) / n.sum(axis=1, keepdims=True)
    # the pooled variance of all values: within-arm plus between-arm sums of squares
    sum_squares = (n * variance + n * (mean - centre) ** 2).sum(axis=1, keepdims=True)
    spread = np.maximum(sum_squares / n.sum(axis=1, keepdims=True), 1e-12)
    m, kappa, alpha, beta = {
        "vague": (centre, 1e-3, 1.0, spread),
        "weak": (centre, 1.0, 2.0, spread),
        "skeptical": (centre, 0.1 * n.mean(axis=1, keepdims=True), 1.0, spread),
    }[prior]
    prior_nig = NormalInverseGamma(*np.broadcast_arrays(m, kappa, alpha, beta))
    posterior = prior_nig.update_from_statistics(n, mean, n * variance)
    return of_posterior(posterior, "mean")


def _column(marginal: Marginal, k: int) -> Marginal:
    return Marginal(marginal.family, tuple(np.ascontiguousarray(p[:, k]) for p in marginal.params))


def _analyze_block(arms: Marginal, prob: float, rope: float):
    """Per-arm arrays ``(T, K)`` for tests whose control is column 0."""
    num_tests, num_arms = arms.params[0].shape
    means = arms.mean()
    low, high = arms.ppf((1 - prob) / 2), arms.ppf((1 + prob) / 2)
    control = _column(arms, 0)
    beats = np.full((num_tests, num_arms), np.nan)
    in_rope = np.full((num_tests, num_arms), np.nan)
    if num_arms == 2:  # one pass: P(best), both losses and the ROPE probability at the same nodes
        found = two_arm(control, _column(arms, 1), rope=rope if rope > 0 else None)
        p_other, loss_control, loss_other, errors = found[:4]
        in_rope[:, 1] = found[4] if rope > 0 else 0.0  # P(|lift| < 0) = 0, as ab_test_* report it
        best = np.stack([1.0 - p_other, p_other], axis=1)
        losses = np.stack([loss_control, loss_other], axis=1)
        beats[:, 1] = p_other
        return means, low, high, best, losses, beats, in_rope, errors
    else:
        best, maximum, error = prob_best(arms)
        losses, errors = np.maximum(maximum[:, None] - means, 0.0), error.max(axis=1)
        for k in range(1, num_arms):
            beats[:, k], error_k = prob_greater(_column(arms, k), control)
            errors = np.maximum(errors, error_k)
    scale = np.abs(control.mean())
    if rope == 0:  # P(|lift| < 0) = 0, as ab_test_* report it, without two CDF passes per arm
        in_rope[:, 1:] = 0.0
    for k in range(1, num_arms) if rope > 0 else ():
        arm = _column(arms, k)
        if arms.family == "t":
            cdf = difference_cdf_of(arm, control)
            in_rope[:, k] = cdf(rope * scale) - cdf(-rope * scale)
        else:
            cdf = ratio_cdf_of(arm, control)
            in_rope[:, k] = cdf(np.full(num_tests, 1.0 + rope)) - cdf(np.full(num_tests, max(1.0 - rope, 0.0)))
    return means, low, high, best, losses, beats, in_rope, errors


def _pooled_columns(tests, by: list[str], pool: Sequence[str], stats, prob, rope, threshold, broken):
    """Partial pooling of the two-arm tests' effects across the ``pool`` segments of each experiment.

    ``tests``: ``(rows (T, 2), control marginal, arm marginal)`` blocks. Returns per-row arrays.
    """
    from bayeskit.decide.pooling import log_effect_moments, pool_effects, pooled_summaries

    pool = [str(p) for p in pool]
    if not set(pool) <= set(by):
        raise ValueError(f"`pool` columns must be among `by` ({', '.join(by)}); got {', '.join(pool)}.")
    size = len(stats)
    out = {
        name: np.full(size, np.nan)
        for name in ("prob_best", "expected_loss_relative", "prob_beats_control", "lift_median", "lift_low")
    }
    out |= {name: np.full(size, np.nan) for name in ("lift_high", "prob_in_rope")}
    out["decision"], out["decision_arm"] = np.empty(size, dtype=object), np.empty(size, dtype=object)
    if not tests:
        return out
    rows = np.concatenate([block[0] for block in tests])
    moments = [log_effect_moments(control, arm) for _, control, arm in tests]
    effect, variance = (np.concatenate([m[k] for m in moments]) for k in (0, 1))
    experiment = [b for b in by if b not in pool]
    keys = stats.iloc[rows[:, 0]][experiment] if experiment else None
    groups = (
        keys.groupby(experiment, sort=False, dropna=False).indices.values() if experiment else [np.arange(len(rows))]
    )
    mean, var = np.empty_like(effect), np.empty_like(effect)
    for index in groups:
        mean[index], var[index], _, _ = pool_effects(effect[index], variance[index])
    summary = pooled_summaries(mean, var, prob, rope)
    control, arm = rows[:, 0], rows[:, 1]
    out["prob_best"][control], out["prob_best"][arm] = 1.0 - summary["prob_beats"], summary["prob_beats"]
    out["expected_loss_relative"][control] = summary["loss_control"]
    out["expected_loss_relative"][arm] = summary["loss_arm"]
    for name in ("prob_beats_control", "lift_median", "lift_low", "lift_high", "prob_in_rope"):
        out[name][arm] = summary[name.replace("prob_beats_control", "prob_beats")]
    losses = np.stack([summary["loss_control"], summary["loss_arm"]], axis=1)
    best = np.argmin(losses, axis=1)
    code = np.where(summary["prob_in_rope"] >= 0.95, 2, np.where(losses.min(axis=1) < threshold, 0, 1))
    code = np.where(broken[control], 3, code)
    out["decision"][control] = out["decision"][arm] = _LABELS[code]
    out["_best_row"] = np.where(code == 0, np.where(best == 0, control, arm), -1)
    out["_rows"] = rows
    return out


def _decisions(losses, in_rope, control_means, threshold):
    """The decision rule of ``ab_test_*`` (``_decide``), vectorized: codes 0 ship, 1 keep testing, 2 no difference."""
    scale = np.where(control_means != 0, np.abs(control_means), 1.0)
    relative = losses / scale[:, None]
    best = np.argmin(relative, axis=1)
    least = relative[np.arange(len(best)), best]
    no_difference = np.all(in_rope[:, 1:] >= 0.95, axis=1)
    code = np.where(no_difference, 2, np.where(least < threshold, 0, 1))
    return code, best, relative


def analyze_statistics(
    stats: Any,
    *,
    variant: str = "variant",
    by: Sequence[str] = (),
    metric: str = "binary",
    control: str | None = None,
    prior: str | None = None,
    prob: float = 0.95,
    threshold: float = 0.005,
    rope: float = 0.01,
    split: Any = None,
    pool: Sequence[str] = (),
):
    """The exact analysis of every test in a table of sufficient statistics (see :func:`sufficient_statistics`).

    ``pool`` names columns of ``by`` whose groups are segments of one experiment (``country``): then the
    two-arm tests' effects are also partially pooled across those segments (:mod:`bayeskit.decide.pooling`,
    binary and count metrics) and the table gains ``pooled_prob_best``, ``pooled_expected_loss_relative``,
    ``pooled_prob_beats_control``, ``pooled_lift_median``/``_low``/``_high``, ``pooled_prob_in_rope``,
    ``pooled_decision`` and ``pooled_decision_arm`` beside the unpooled ones.
    """
    import pandas as pd

    metric = check_choice(metric, "metric", METRICS)
    prior = PRIORS[metric][0] if prior is None else check_choice(prior, f"{metric} prior", PRIORS[metric])
    prob, threshold, rope = _settings(prob, threshold, rope)
    by = [str(b) for b in by]
    stats = pd.DataFrame(stats).reset_index(drop=True)
    test_id = stats.groupby(by, sort=True, dropna=False).ngroup().to_numpy() if by else np.zeros(len(stats), int)
    names = stats[variant].astype(str).to_numpy()
    control_name = str(control) if control is not None else _default_control(sorted(set(names)))
    is_control = names == control_name
    per_test_controls = np.bincount(test_id, weights=is_control, minlength=test_id.max() + 1)
    if np.any(per_test_controls != 1):
        where = int(np.argmax(per_test_controls != 1))
        row = int(np.flatnonzero(test_id == where)[0])
        group = ", ".join(f"{k}={stats[k].iloc[row]!r}" for k in by) or "the table"
        raise ValueError(
            f"the control {control_name!r} is missing from test ({group}), whose variants are "
            f"{', '.join(map(repr, sorted(names[test_id == where])))}. Name the control with `control=` (--control)."
        )
    name_order = pd.factorize(names, sort=True)[0]  # codes in name order: lexsort on strings is ~5x slower
    order = np.lexsort((name_order, ~is_control, test_id))  # per test: the control first, then by name
    stats, test_id, names = stats.iloc[order].reset_index(drop=True), test_id[order], names[order]
    arms_per_test = np.bincount(test_id)
    starts = np.concatenate([[0], np.cumsum(arms_per_test)[:-1]])
    if np.any(arms_per_test < 2):
        row = int(starts[np.argmax(arms_per_test < 2)])
        group = ", ".join(f"{k}={stats[k].iloc[row]!r}" for k in by) or "the table"
        raise ValueError(f"test ({group}) has one variant ({names[row]!r}); an A/B test needs at least 2.")
    n_all, total_all = stats["n"].to_numpy(float), stats["total"].to_numpy(float)
    columns = {c: np.full(len(stats), np.nan) for c in ("mean", "low", "high", "prob_best", "expected_loss")}
    columns |= {c: np.full(len(stats), np.nan) for c in ("expected_loss_relative", "prob_beats_control")}
    columns |= {"prob_in_rope": np.full(len(stats), np.nan), "numerical_error": np.full(len(stats), np.nan)}
    decision = np.empty(len(stats), dtype=object)
    decision_arm = np.empty(len(stats), dtype=object)
    srm_p, srm_off = np.full(len(stats), np.nan), np.full(len(stats), np.nan)
    reduction = np.full(len(stats), np.nan)
    if pool and metric == "continuous":
        raise ValueError("partial pooling covers the binary and count metrics; test continuous segments unpooled.")
    two_arm_blocks, broken_rows = [], np.zeros(len(stats), dtype=bool)
    for num_arms in np.unique(arms_per_test):
        tests = np.flatnonzero(arms_per_test == num_arms)
        rows = starts[tests][:, None] + np.arange(num_arms)  # (T, K)
        n, total = n_all[rows], total_all[rows]
        extra = None
        if metric == "continuous":
            extra = (stats["mean"].to_numpy()[rows], stats["variance"].to_numpy()[rows])
            if "covariance" in stats.columns:
                block = {k: stats[k].to_numpy()[rows] for k in ("mean_x", "variance_x", "covariance")}
                adjusted, report = cuped({"n": n, "mean": extra[0], "variance": extra[1], **block})
                extra = (adjusted["mean"], adjusted["variance"])
                total = adjusted["mean"] * n
                reduction[rows] = report["variance_reduction"][:, None]
        arms = _posteriors(metric, prior, n, total, extra)
        means, low, high, best, losses, beats, in_rope, errors = _analyze_block(arms, prob, rope)
        code, best_arm, relative = _decisions(losses, in_rope, means[:, 0], threshold)
        broken = np.zeros(len(tests), dtype=bool)
        if metric != "count":  # exposure is not a count of units; see ab.ABTestResult.srm
            planned = None if split is None else check_split(split, num_arms)
            p_value, prob_off = sample_ratio(n, planned)
            broken = p_value < P_BROKEN
            code = np.where(broken, 3, code)
            srm_p[rows], srm_off[rows] = p_value[:, None], prob_off[:, None]
        for name, values in (
            ("mean", means),
            ("low", low),
            ("high", high),
            ("prob_best", best),
            ("expected_loss", losses),
            ("expected_loss_relative", relative),
            ("prob_beats_control", beats),
            ("prob_in_rope", in_rope),
            ("numerical_error", np.broadcast_to(errors[:, None], rows.shape)),
        ):
            columns[name][rows] = values
        decision[rows] = _LABELS[code][:, None]
        decision_arm[rows] = np.where(code == 0, names[rows[np.arange(len(tests)), best_arm]], None)[:, None]
        broken_rows[rows] = broken[:, None]
        if pool and num_arms == 2:
            two_arm_blocks.append((rows, _column(arms, 0), _column(arms, 1)))
    new = dict(columns)
    new["is_control"] = np.arange(len(stats)) == starts[test_id]
    new["decision"], new["decision_arm"] = decision, decision_arm
    if metric != "count":
        new["srm_p_value"], new["srm_prob_off"] = srm_p, srm_off
    if "covariance" in stats.columns:
        new["variance_reduction"] = reduction
    if pool:
        if len(two_arm_blocks) != len(np.unique(arms_per_test)) or np.any(arms_per_test != 2):
            raise ValueError("partial pooling across segments covers two-arm tests; test more arms unpooled.")
        pooled = _pooled_columns(two_arm_blocks, by, pool, stats, prob, rope, threshold, broken_rows)
        best_row, pooled_rows = pooled.pop("_best_row"), pooled.pop("_rows")
        chosen = np.where(best_row >= 0, names[np.maximum(best_row, 0)], None)
        pooled["decision_arm"][pooled_rows[:, 0]] = pooled["decision_arm"][pooled_rows[:, 1]] = chosen
        new |= {f"pooled_{name}": values for name, values in pooled.items()}
    # one frame built at once: inserting 15 columns of 10^5 rows one by one took ~15% of a large table's time
    base = stats[[*by, variant, "n", "total"]]
    out = pd.concat([base, pd.DataFrame(new, index=base.index)], axis=1)
    out.attrs.update({"metric": metric, "prior": prior, "prob": prob, "threshold": threshold, "rope": rope})
    return out


def ab_test_table(
    frame: Any,
    by: Sequence[str] = (),
    *,
    variant: str = "variant",
    metric: str = "binary",
    value: str | None = None,
    visitors: str | None = None,
    conversions: str | None = None,
    counts: str | None = None,
    exposure: str | None = None,
    covariate: str | None = None,
    control: str | None = None,
    prior: str | None = None,
    prob: float = 0.95,
    threshold: float = 0.005,
    rope: float = 0.01,
    split: Any = None,
):
    """One exact Bayesian A/B test per group of ``by``, over any table Narwhals reads.

    Parameters
    ----------
    frame
        Events (one row per unit, with ``value``) or per-arm totals (``visitors`` and
        ``conversions``; ``counts`` and ``exposure``): pandas, Polars, a DuckDB relation, a
        PySpark DataFrame, ...; aggregated in its own engine.
    by
        Columns whose combinations are separate tests (experiment, segment, metric name).
    variant
        The column naming the arm.
    metric
        ``"binary"``, ``"count"`` or ``"continuous"``.
    value, visitors, conversions, counts, exposure
        The columns holding the data (see ``frame``).
    covariate
        A pre-experiment column for CUPED (continuous metric): see :func:`~bayeskit.decide.ab.cuped`;
        the output gains ``variance_reduction``.
    control
        The control arm's name, present in every test; by default ``control``/``baseline``/``A``
        if there is one, else the first name in sorted order.
    prior, prob, threshold, rope
        As in :func:`~bayeskit.decide.ab_test_binary`.
    split
        Planned shares per arm (in the order control first, then the others by name); equal by default.

    Returns
    -------
    pandas.DataFrame
        One row per test and arm: ``n``, ``total``, the posterior ``mean`` and interval (``low``,
        ``high``), ``prob_best``, ``expected_loss`` (and relative to the control's mean),
        ``prob_beats_control``, ``prob_in_rope``, ``numerical_error``, the test's ``decision`` and
        ``decision_arm`` and its sample-ratio check (``srm_p_value``, ``srm_prob_off``; a p-value
        below 0.001 makes the decision ``"withheld"``).

    """
    stats = sufficient_statistics(
        frame,
        variant=variant,
        by=by,
        metric=metric,
        value=value,
        visitors=visitors,
        conversions=conversions,
        counts=counts,
        exposure=exposure,
        covariate=covariate,
    )
    return analyze_statistics(
        stats,
        variant=variant,
        by=by,
        metric=metric,
        control=control,
        prior=prior,
        prob=prob,
        threshold=threshold,
        rope=rope,
        split=split,
    )
