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


def _slices_figure(study: Any) -> Figure | None:
    """The GP posterior along each parameter, the others held at the best trial (numeric parameters)."""
    from bayeskit.gp import GPRegressor, Matern52
    from bayeskit.optimize.space import Categorical

    table = study.trials()
    complete = table[table["state"] == "complete"]
    if len(complete) < 3:
        return None
    params = complete[list(study.space.parameters)].to_dict(orient="records")
    x = np.stack([study.space.encode(p) for p in params])
    y = complete["value"].to_numpy(dtype=float)
    model = GPRegressor(Matern52(np.full(x.shape[1], 0.5)), noise_variance=1e-4, restarts=1).fit(x, y)
    best = study.space.encode(study.best_params)
    numeric = [(n, d) for n, d in study.space.parameters.items() if not isinstance(d, Categorical)]
    if not numeric:
        return None
    figure = Figure(figsize=(3.6 * len(numeric), 3.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(numeric)))
    offsets, start = {}, 0
    for name, dimension in study.space.parameters.items():
        offsets[name] = start
        start += dimension.width
    for axis, (name, dimension) in zip(axes, numeric, strict=True):
        grid = np.linspace(0, 1, 200)
        points = np.repeat(best[None], grid.size, axis=0)
        points[:, offsets[name]] = grid
        mean, std = model.predict(points, return_std=True)
        values = np.array([dimension.decode(np.array([g])) for g in grid], dtype=float)
        axis.fill_between(values, mean - 2 * std, mean + 2 * std, alpha=0.25, color="C0", label="GP ± 2 sd")
        axis.plot(values, mean, color="C0", label="GP mean")
        axis.plot(complete[name].to_numpy(dtype=float), y, ".", color="k", markersize=4, label="trials")
        if getattr(dimension, "log", False):
            axis.set_xscale("log")
        axis.set(xlabel=name, ylabel="objective")
    axes[0].legend(fontsize=7)
    return figure


def add_optimize_sections(report: Report, result: dict[str, Any]) -> Report:
    """Append a study's sections to ``report``."""
    study = result["_study"]
    table = study.trials()
    report.heading(f"Bayesian optimization: {result['target']}")
    report.text(
        f"{result['num_trials']} trials ({result['num_failed']} failed), acquisition {result['acquisition']}, "
        f"direction {result['direction']}. Best value {result['best_value']:.6g} at {result['best_params']}."
    )
    report.figure(_convergence_figure(table, result["direction"]), "Every trial and the best value so far.")
    slices = _slices_figure(study)
    if slices is not None:
        report.figure(
            slices,
            "The GP fitted to all trials, along each numeric parameter with the others at the best trial "
            "(categorical parameters held at their best choice).",
        )
    report.table(table.drop(columns=["error"]).set_index("number"))
    return report
