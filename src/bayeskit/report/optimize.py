"""The report of a Bayesian-optimization study: best-so-far curve and the GP's slices through the best point."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeskit.report.html import Report

__all__ = ["add_optimize_sections"]


def _convergence_figure(table: pd.DataFrame, direction: str) -> Figure:
    figure = Figure(figsize=(7, 3.4), layout="constrained")
    axis = figure.subplots()
    values = table["value"].to_numpy(dtype=float)
    complete = np.isfinite(values)
    numbers = table["number"].to_numpy()
    axis.plot(numbers[complete], values[complete], "o", color="0.6", markersize=4, label="trial")
    running = np.where(complete, values, np.inf if direction == "minimize" else -np.inf)
    best = np.minimum.accumulate(running) if direction == "minimize" else np.maximum.accumulate(running)
    shown = np.isfinite(best)
    axis.step(numbers[shown], best[shown], where="post", color="C0", label="best so far")
    failed = table["state"] == "failed"
    if failed.any():
        axis.plot(numbers[failed], np.full(failed.sum(), np.nanmax(values)), "x", color="C3", label="failed")
    axis.set(xlabel="trial", ylabel="objective", title="Convergence")
    axis.legend(fontsize=8)
    return figure


def _slices_figure(slices: list[dict[str, Any]]) -> Figure | None:
    """The GP posterior along each parameter (computed by ``bayeskit.optimize.slices.gp_slices``)."""
    if not slices:
        return None
    figure = Figure(figsize=(3.6 * len(slices), 3.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(slices)))
    for axis, part in zip(axes, slices, strict=True):
        mean, std, values = part["mean"], part["std"], part["values"]
        axis.fill_between(values, mean - 2 * std, mean + 2 * std, alpha=0.25, color="C0", label="GP ± 2 sd")
        axis.plot(values, mean, color="C0", label="GP mean")
        axis.plot(part["trial_values"], part["trial_objectives"], ".", color="k", markersize=4, label="trials")
        if part["log"]:
            axis.set_xscale("log")
        axis.set(xlabel=part["name"], ylabel="objective")
    axes[0].legend(fontsize=7)
    return figure


def add_optimize_sections(report: Report, result: dict[str, Any]) -> Report:
    """Append a study's sections to ``report`` (``result["slices"]`` from ``gp_slices``; nothing is fitted here)."""
    study = result["_study"]
    table = study.trials()
    report.heading(f"Bayesian optimization: {result['target']}")
    report.text(
        f"{result['num_trials']} trials ({result['num_failed']} failed), acquisition {result['acquisition']}, "
        f"direction {result['direction']}. Best value {result['best_value']:.6g} at {result['best_params']}."
    )
    report.figure(_convergence_figure(table, result["direction"]), "Every trial and the best value so far.")
    slices = _slices_figure(result.get("slices", []))
    if slices is not None:
        report.figure(
            slices,
            "The GP fitted to all trials, along each numeric parameter with the others at the best trial "
            "(categorical parameters held at their best choice).",
        )
    report.table(table.drop(columns=["error"]).set_index("number"))
    return report
