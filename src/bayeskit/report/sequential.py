"""Report sections for tracking (the track with filtered and smoothed bands) and bandit simulations (regret)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeskit.report.html import Report

__all__ = ["add_bandit_sections", "add_track_sections", "track_figure"]


def track_figure(result: dict[str, Any]) -> Figure:
    """The path in the plane, and each coordinate against time with filtered and smoothed bands.

    The time panels show everything relative to the smoothed mean, so that bands a few
    metres wide stay visible on a track kilometres long. The smoothed band is filled and
    the filtered one drawn as its two edges, so neither hides the other and no mixed
    colour appears where they overlap. The plane is on the left, the coordinates stacked
    on the right, at a size whose text stays readable on the page.
    """
    fit, truth, time = result["_fit"], result["_truth"], result["_time"]
    columns = result["columns"]
    dims = len(columns)
    rows = [[("plane" if dims >= 2 else c), c] for c in columns] if dims >= 2 else [[columns[0]]]
    figure = Figure(figsize=(11, max(4.5, 3.0 * dims)), layout="constrained")
    axes = figure.subplot_mosaic(rows, width_ratios=[1, 1.4] if dims >= 2 else None)
    if dims >= 2:
        plane = axes["plane"]
        plane.plot(fit.positions[:, 0], fit.positions[:, 1], ".", color="0.6", markersize=3, label="detections")
        if truth is not None:
            plane.plot(truth[:, 0], truth[:, 1], "-", color="k", linewidth=1, label="true path")
        plane.plot(fit.filtered.means[:, 0], fit.filtered.means[:, 1], "--", color="C1", linewidth=1, label="filtered")
        plane.plot(fit.smoothed.means[:, 0], fit.smoothed.means[:, 1], color="C0", linewidth=1.8, label="smoothed")
        plane.set(xlabel=columns[0], ylabel=columns[1], title="Track")
        plane.set_aspect("equal", adjustable="datalim")
        plane.legend(fontsize=9, loc="best")
    label = f"{100 * result['prob']:g}%"
    centre = fit.smoothed.means
    for i, column in enumerate(columns):
        axis = axes[column]
        low, high = fit.smoothed.interval(result["prob"])
        axis.fill_between(
            time,
            low[:, i] - centre[:, i],
            high[:, i] - centre[:, i],
            color="C0",
            alpha=0.3,
            linewidth=0,
            label=f"smoothed {label} band",
        )
        low, high = fit.filtered.interval(result["prob"])
        axis.plot(time, low[:, i] - centre[:, i], "--", color="C1", linewidth=1, label=f"filtered {label} band")
        axis.plot(time, high[:, i] - centre[:, i], "--", color="C1", linewidth=1)
        residual = fit.positions[:, i] - centre[:, i]
        axis.plot(time, residual, ".", color="0.45", markersize=2.5, label="detection")
        if truth is not None:
            axis.plot(time, truth[:, i] - centre[:, i], color="k", linewidth=1, label="truth")
        axis.set(ylabel=f"{column} minus smoothed mean", title=f"{column} over time")
        axis.set_ylim(*(1.3 * np.nanpercentile(residual, [0.5, 99.5])))
        if i == dims - 1:
            axis.set_xlabel("time")
    handles, names = axes[columns[0]].get_legend_handles_labels()
    figure.legend(handles, names, fontsize=9, ncols=len(names), loc="outside lower right")  # off the data
    return figure


def add_track_sections(report: Report, result: dict[str, Any]) -> Report:
    """Append the tracking sections (figures, fitted noise levels, the check against truth) to ``report``."""
    report.heading(f"Tracking: {result['source']}")
    learned = [name for name, flag in result["noise_learned"].items() if flag]
    report.text(
        f"A constant-velocity Kalman filter and Rauch-Tung-Striebel smoother over {result['num_steps']} steps "
        f"({result['num_missing']} missed detections, filled by the model's prediction). "
        + (f"Noise levels learned by maximum likelihood: {', '.join(learned)}. " if learned else "")
        + f"Process noise {result['process_noise']:.4g}, measurement noise variance "
        f"{result['measurement_noise']:.4g}, log-likelihood {result['log_likelihood']:.2f}."
    )
    report.figure(track_figure(result), caption="Filtered (past only) and smoothed (whole series) estimates.")
    report.table(pd.DataFrame(result["final_state"]).set_index("state"))
    check = result.get("check_against_truth")
    if check:
        table = pd.DataFrame(
            {
                "RMSE": [check["rmse_raw"], check["rmse_filtered"], check["rmse_smoothed"]],
                f"{100 * result['prob']:g}% coverage": [
                    "(no band)",
                    f"{check['coverage_filtered']:.3f}",
                    f"{check['coverage_smoothed']:.3f}",
                ],
            },
            index=["raw detections", "filtered", "smoothed"],
        )
        report.text("Against the true path (the data's true_* columns):")
        report.table(table)
    return report


def add_bandit_sections(report: Report, result: Any) -> Report:
    """Append a bandit simulation's regret curves and table to ``report``."""
    problem = result.problem
    report.heading(f"Bandit simulation: {problem.reward} arms")
    arms = ", ".join(f"{v:g}" for v in problem.means.ravel()) if problem.reward != "linear" else "linear weights"
    report.text(
        f"Arms: {arms}. {result.horizon:,} pulls per run, {result.num_seeds} seeds per policy, "
        f"batches of {result.batch_size}, delay {result.delay} rounds. Regret is the expected reward lost "
        "to the best arm, summed over pulls; Thompson sampling's should grow like log t."
    )
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    result.plot(ax=left, log_x=True)
    result.plot(ax=right, log_x=False)
    right.set_title("same, linear time axis")
    report.figure(figure, caption="Mean cumulative regret with ±2 standard errors over seeds.")
    report.table(result.summary())
    return report
