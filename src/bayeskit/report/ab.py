"""Figures and report sections for a Bayesian A/B/n test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeskit.decide._marginal import Marginal, as_marginal
from bayeskit.decide._quadrature import difference_cdf, ratio_cdf
from bayeskit.decide.ab import ABTestResult
from bayeskit.report.html import Report

__all__ = ["add_ab_sections", "arm_table", "sensitivity_table"]

_METRIC_LABELS = {
    "binary": "conversion rate",
    "count": "events per unit of exposure",
    "continuous": "mean value per unit",
}
_COLOURS = ["#3b6ea5", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d"]


def _colour(i: int) -> str:
    return _COLOURS[i % len(_COLOURS)]


def _densities_figure(result: ABTestResult) -> Figure:
    figure = Figure(figsize=(8, 3.4))
    axis = figure.subplots()
    names = [a.name for a in result.arms]
    if result.marginals is not None:
        low = min(a.interval[0] for a in result.arms)
        high = max(a.interval[1] for a in result.arms)
        pad = 0.35 * (high - low)
        grid = np.linspace(low - pad, high + pad, 600)
        densities = result.marginals.pdf(grid[:, None])
        for i, name in enumerate(names):
            axis.plot(grid, densities[:, i], color=_colour(i), label=name)
            axis.fill_between(grid, densities[:, i], color=_colour(i), alpha=0.12)
    else:
        for i, name in enumerate(names):
            axis.hist(result.draws[:, i], bins=120, density=True, histtype="step", color=_colour(i), label=name)
    axis.set(xlabel=_METRIC_LABELS[result.metric], ylabel="posterior density", title="Posterior of each arm")
    axis.legend(fontsize=8)
    return figure


def _lift_figure(result: ABTestResult) -> Figure:
    figure = Figure(figsize=(8, 3.4))
    axis = figure.subplots()
    control = next(i for i, a in enumerate(result.arms) if a.name == result.control)
    lows = [a.lift_interval[0] for a in result.arms if a.lift_interval]
    highs = [a.lift_interval[1] for a in result.arms if a.lift_interval]
    pad = 0.4 * (max(highs) - min(lows))
    grid = np.linspace(min(lows) - pad, max(highs) + pad, 500)
    for i, arm in enumerate(result.arms):
        if i == control:
            continue
        if result.marginals is not None:
            marginal = as_marginal(result.marginals)
            pick = [Marginal(marginal.family, tuple(p[[j]] for p in marginal.params)) for j in (i, control)]
            if marginal.family == "t":
                scale = abs(result.arms[control].mean)
                cdf = difference_cdf(pick[0], pick[1], (grid * scale)[:, None])[:, 0]
            else:
                cdf = ratio_cdf(pick[0], pick[1], (1.0 + np.maximum(grid, -1.0))[:, None])[:, 0]
            axis.plot(grid, np.gradient(cdf, grid), color=_colour(i), label=f"{arm.name} vs {result.control}")
        else:
            lift = result.draws[:, i] / result.draws[:, control] - 1.0
            axis.hist(
                lift,
                bins=150,
                range=(grid[0], grid[-1]),
                density=True,
                histtype="step",
                color=_colour(i),
                label=f"{arm.name} vs {result.control}",
            )
    axis.axvspan(-result.rope, result.rope, color="#999", alpha=0.2, label=f"ROPE ±{result.rope:.1%}")
    axis.axvline(0, color="#1d2433", lw=0.8)
    axis.xaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    axis.set(
        xlabel="relative lift over the control",
        ylabel="posterior density",
        title="How much better (or worse)?",
    )
    axis.legend(fontsize=8)
    return figure


def _loss_figure(result: ABTestResult) -> Figure:
    figure = Figure(figsize=(8, 2.8))
    axis = figure.subplots()
    scale = abs(next(a.mean for a in result.arms if a.name == result.control)) or 1.0
    names = [a.name for a in result.arms]
    losses = [a.expected_loss / scale for a in result.arms]
    axis.barh(names, losses, color=[_colour(i) for i in range(len(names))])
    axis.axvline(result.threshold, color="#c0392b", ls="--", label=f"threshold {result.threshold:.2%}")
    axis.xaxis.set_major_formatter(lambda value, _: f"{value:.2%}")
    axis.set(xlabel="expected loss if chosen (fraction of the control's mean)", title="Risk of choosing each arm")
    axis.legend(fontsize=8)
    return figure


def arm_table(result: ABTestResult) -> pd.DataFrame:
    """The per-arm table shown in reports and on the terminal."""
    rows = []
    for arm in result.arms:
        rows.append(
            {
                "arm": arm.name + (" (control)" if arm.name == result.control else ""),
                "n": f"{arm.size:,.0f}",
                "mean": f"{arm.mean:.4g}",
                f"{result.prob:.0%} interval": f"[{arm.interval[0]:.4g}, {arm.interval[1]:.4g}]",
                "P(best)": f"{arm.prob_best:.4f}",
                "expected loss": f"{arm.expected_loss:.3g}",
                "P(beats control)": "" if arm.prob_beats_control is None else f"{arm.prob_beats_control:.4f}",
                "lift (median)": "" if arm.lift_median is None else f"{arm.lift_median:+.2%}",
                "lift interval": ""
                if arm.lift_interval is None
                else f"[{arm.lift_interval[0]:+.2%}, {arm.lift_interval[1]:+.2%}]",
                f"P(|lift| < {result.rope:.0%})": "" if arm.prob_in_rope is None else f"{arm.prob_in_rope:.3f}",
            }
        )
    return pd.DataFrame(rows)


def sensitivity_table(result: ABTestResult) -> pd.DataFrame:
    """The conclusion under the main prior and each alternative."""
    best = max(result.arms, key=lambda a: a.prob_best)
    rows = [
        {
            "prior": f"{result.prior} (used)",
            "what it says": result.prior_description,
            "decision": result.decision,
            "arm": result.decision_arm or "",
            "best arm": f"{best.name} ({best.prob_best:.3f})",
            "changes?": "",
        }
    ]
    for row in result.sensitivity:
        rows.append(
            {
                "prior": row.prior,
                "what it says": row.description,
                "decision": row.decision,
                "arm": row.decision_arm or "",
                "best arm": f"{row.best_arm} ({row.best_prob:.3f})",
                "changes?": "YES" if row.changes_conclusion else "no",
            }
        )
    return pd.DataFrame(rows)


def add_ab_sections(report: Report, result: ABTestResult, source: str) -> Report:
    """Append the A/B test's sections to ``report``."""
    report.heading("A/B test: which variant is better, and is it safe to ship?")
    if result.broken:
        report.warning(f"Experiment broken, decision withheld. {result.srm.message}")
    report.text(
        f"Data: {source}. Metric: {result.metric}. Method: {result.method}; largest numerical error "
        f"{result.numerical_error:.1e}.",
        css_class="note",
    )
    verdict = (
        f"Decision: {result.decision}"
        + (f" {result.decision_arm!r}" if result.decision_arm else "")
        + f". {result.reason}"
    )
    if result.decision == "keep testing":
        report.warning(verdict)
    else:
        report.text(verdict, css_class="note")
    if result.conclusion_depends_on_prior:
        report.warning(
            "The conclusion changes under another reasonable prior (see the sensitivity table): "
            "the data do not yet settle it."
        )
    if result.adjustment is not None:
        report.text(
            f"CUPED: the metric is adjusted for the covariate with slope {result.adjustment['slope']:.4g} "
            f"(correlation {result.adjustment['correlation']:.3f}), which removes "
            f"{result.adjustment['variance_reduction']:.1%} of its variance.",
            css_class="note",
        )
    if result.srm is not None and not result.broken:
        report.text(f"Sample ratio: {result.srm.message}", css_class="note")
    report.table(arm_table(result), index=False)
    report.figure(_densities_figure(result), "Posterior density of each arm's mean.")
    report.figure(
        _lift_figure(result),
        "Posterior of the relative lift of each arm over the control; grey band: region of practical equivalence.",
    )
    report.figure(
        _loss_figure(result),
        "Expected loss: what you give up, on average, if the chosen arm is not the best.",
    )
    report.text("Prior sensitivity: the same data under other reasonable priors.")
    report.table(sensitivity_table(result), index=False)
    return report


def _forest_figure(table: pd.DataFrame, variant: str, segments: tuple[str, ...]) -> Figure:
    """Each segment's lift of each arm over the control: pooled interval (filled) and unpooled estimate (hollow)."""
    arms = table[~table["is_control"]]
    labels = arms[list(segments)].astype(str).agg(" / ".join, axis=1).to_numpy()
    control_mean = table.loc[table["is_control"], "mean"].to_numpy()
    raw = arms["mean"].to_numpy() / np.repeat(control_mean, len(arms) // max(len(control_mean), 1)) - 1.0
    figure = Figure(figsize=(8, 1.6 + 0.32 * len(arms)))
    axis = figure.subplots()
    where = np.arange(len(arms))
    if "pooled_lift_median" in arms.columns:
        median = arms["pooled_lift_median"].to_numpy()
        axis.errorbar(
            median,
            where,
            xerr=[median - arms["pooled_lift_low"], arms["pooled_lift_high"] - median],
            fmt="o",
            color=_colour(1),
            capsize=2,
            label="partially pooled: median and interval",
        )
    axis.plot(raw, where, "o", mfc="white", color=_colour(0), label="each segment on its own (posterior means)")
    axis.axvline(0.0, color="grey", lw=0.8)
    names = arms[variant].astype(str).to_numpy()
    axis.set_yticks(where, [f"{label}: {name}" for label, name in zip(labels, names, strict=True)])
    axis.invert_yaxis()
    axis.xaxis.set_major_formatter(lambda value, _: f"{value:+.0%}")
    axis.set(xlabel="lift over the control", title="Lift in each segment (forest plot)")
    axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.6 / max(len(arms), 1)), ncol=2)
    figure.tight_layout()
    return figure


def add_segment_sections(report: Report, table: pd.DataFrame, warehouse, source: str) -> Report:
    """Append the per-segment tests (one exact test each) to ``report``: a forest plot and the table."""
    variant, segments = warehouse.columns["variant"], warehouse.segments
    report.heading("A/B test per segment")
    report.text(
        f"Data: {source}, {warehouse.num_rows:,} rows aggregated in DuckDB. Metric: {warehouse.metric}. "
        f"{table[list(segments)].drop_duplicates().shape[0]} segments; largest numerical error "
        f"{float(table['numerical_error'].max()):.1e}.",
        css_class="note",
    )
    broken = table.loc[table["decision"] == "withheld", list(segments)].drop_duplicates()
    if len(broken):
        report.warning(
            f"{len(broken)} segment(s) have a sample-ratio mismatch (chi-square p < 0.001): the assignment or the "
            "logging loses units there, so their decisions are withheld."
        )
    interval = f"{table.attrs.get('prob', 0.95):.0%}"
    report.figure(
        _forest_figure(table, variant, segments), f"Lift over the control, with the pooled {interval} interval."
    )
    columns = [*segments, variant, "n", "mean", "low", "high", "prob_best", "expected_loss_relative", "decision"]
    if "pooled_decision" in table.columns:
        report.text(
            "Partial pooling is the default estimate: the segments' effects (log rate ratios) share a normal "
            "population fitted by marginal likelihood (empirical Bayes), so small segments are shrunk towards it "
            "and twenty of them do not produce twenty false alarms. Hollow markers: each segment on its own.",
            css_class="note",
        )
        columns[3:3] = [
            "pooled_lift_median",
            "pooled_lift_low",
            "pooled_lift_high",
            "pooled_prob_best",
            "pooled_decision",
        ]
    report.table(table[columns].round(5), index=False)
    return report
