"""The report of a Bayesian network on held-out rows: intervals, the decomposition, calibration."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeskit.report.html import Report

__all__ = ["add_uq_sections"]


def _intervals_figure(x: pd.DataFrame, y: np.ndarray, predictive: Any) -> Figure:
    feature = x.columns[0]
    order = np.argsort(x[feature].to_numpy())
    values = x[feature].to_numpy()[order]
    low, high = predictive.interval(0.95)
    figure = Figure(figsize=(8, 3.6), layout="constrained")
    axis = figure.subplots()
    axis.fill_between(values, low[order], high[order], color="C0", alpha=0.25, label="95% predictive interval")
    axis.plot(values, predictive.mean()[order], color="C0", label="predictive mean")
    axis.plot(values, y[order], ".", color="k", markersize=3, label="held-out rows")
    axis.set_xlabel(feature)
    axis.legend(fontsize=8)
    return figure


def _decomposition_figure(x: pd.DataFrame, predictive: Any) -> Figure:
    feature = x.columns[0]
    order = np.argsort(x[feature].to_numpy())
    parts = predictive.decompose()
    figure = Figure(figsize=(8, 3.2), layout="constrained")
    axis = figure.subplots()
    values = x[feature].to_numpy()[order]
    axis.plot(values, np.sqrt(parts.aleatoric[order]), label="aleatoric sd (noise)")
    axis.plot(values, np.sqrt(parts.epistemic[order]), label="epistemic sd (model)")
    axis.set_xlabel(feature)
    axis.set_ylabel("standard deviation")
    axis.legend(fontsize=8)
    return figure


def _calibration_figure(y: np.ndarray, predictive: Any) -> Figure:
    from bayeskit.evaluate.regression import quantile_calibration_curve

    curve = quantile_calibration_curve(np.clip(predictive.cdf(y), 0, 1))
    figure = Figure(figsize=(4, 4), layout="constrained")
    axis = figure.subplots()
    axis.plot([0, 1], [0, 1], color="0.6", linestyle="--")
    axis.plot(curve["expected"], curve["observed"], "o-", markersize=3)
    axis.set_xlabel("predicted quantile level")
    axis.set_ylabel("observed fraction below")
    axis.set_title("calibration (on the diagonal when calibrated)")
    return figure


def add_uq_sections(report: Report, result: dict[str, Any]) -> Report:
    """Append the uncertainty sections of a ``bayeskit uq`` run to ``report``."""
    x, y, predictive = result["_test"]
    report.heading(f"Neural network uncertainty: {result['method']}")
    report.text(
        f"Data: {result['source']}. Trained on {result['num_train']} rows ({result['epochs_run']} epochs), "
        f"judged on {result['num_test']} held-out rows. Target: {result['target']}."
    )
    report.table(pd.DataFrame({"value": result["metrics"]}))
    report.figure(_intervals_figure(x, y, predictive), f"Held-out rows against the 95% interval, by {x.columns[0]}.")
    report.figure(
        _decomposition_figure(x, predictive),
        "Aleatoric (noise the heads learned) and epistemic (disagreement) standard deviations.",
    )
    report.figure(_calibration_figure(y, predictive), "Quantile calibration of the held-out predictive.")
    return report
