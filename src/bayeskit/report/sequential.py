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
    metres wide stay visible on a track kilometres long.
    """
    fit, truth, time = result["_fit"], result["_truth"], result["_time"]
    columns = result["columns"]
    dims = len(columns)
    panels_count = dims + (dims >= 2)
    figure = Figure(figsize=(4.6 * panels_count, 4.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, panels_count))
    if dims >= 2:
        plane, panels = axes[0], axes[1:]
        plane.plot(fit.positions[:, 0], fit.positions[:, 1], ".", color="0.6", markersize=3, label="detections")
        if truth is not None:
            plane.plot(truth[:, 0], truth[:, 1], "-", color="k", linewidth=1, label="true path")
        plane.plot(fit.filtered.means[:, 0], fit.filtered.means[:, 1], color="C1", linewidth=1, label="filtered")
        plane.plot(fit.smoothed.means[:, 0], fit.smoothed.means[:, 1], color="C0", linewidth=1.5, label="smoothed")
        plane.set(xlabel=columns[0], ylabel=columns[1], title="Track")
        plane.set_aspect("equal", adjustable="box")
        plane.legend(fontsize=7)
    else:
        panels = axes
    label = f"{100 * result['prob']:g}%"
    centre = fit.smoothed.means
    for i, axis in enumerate(panels):
        for kind, estimate, color in (("filtered", fit.filtered, "C1"), ("smoothed", fit.smoothed, "C0")):
            low, high = estimate.interval(result["prob"])
            axis.fill_between(
                time,
                low[:, i] - centre[:, i],
                high[:, i] - centre[:, i],
                color=color,
                alpha=0.3,
                label=f"{kind} {label} band",
            )
        residual = fit.positions[:, i] - centre[:, i]
        axis.plot(time, residual, ".", color="0.5", markersize=2, label="detection")
        if truth is not None:
            axis.plot(time, truth[:, i] - centre[:, i], color="k", linewidth=1, label="truth")
        axis.set(xlabel="time", ylabel=f"{columns[i]} minus smoothed mean", title=f"{columns[i]}: bands over time")
        axis.set_ylim(*(1.3 * np.nanpercentile(residual, [0.5, 99.5])))
    panels[0].legend(fontsize=7)
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
                f"{100 * result['prob']:g}% coverage": [np.nan, check["coverage_filtered"], check["coverage_smoothed"]],
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
