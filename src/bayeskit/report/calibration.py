"""Figures and report sections for calibration: reliability diagrams, calibration curves, PIT, retention."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeskit.evaluate import (
    pit_gaussian,
    quantile_calibration_curve,
    quantile_coverage,
    reliability_diagram,
    retention_curve,
)
from bayeskit.report.html import Report

__all__ = ["add_classification_sections", "add_quantile_sections", "add_regression_sections"]

_COLOURS = ["#c0392b", "#3b6ea5", "#27ae60", "#8e44ad"]


def _reliability_figure(models: dict[str, tuple[np.ndarray, np.ndarray]], n_bins: int) -> Figure:
    figure = Figure(figsize=(4.2 * len(models), 4.2))
    axes = figure.subplots(1, len(models), squeeze=False)[0]
    for axis, (name, (probs, labels)), colour in zip(axes, models.items(), _COLOURS, strict=False):
        table = reliability_diagram(probs, labels, n_bins=n_bins)
        centres = 0.5 * (table["low"] + table["high"])
        filled = table["count"] > 0
        axis.bar(
            centres[filled],
            table["accuracy"][filled],
            width=1.0 / n_bins,
            color=colour,
            alpha=0.7,
            edgecolor="white",
            label="accuracy",
        )
        axis.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
        for x, y, count in zip(centres[filled], table["accuracy"][filled], table["count"][filled], strict=True):
            axis.text(x, y + 0.02, str(count), ha="center", va="bottom", fontsize=6, rotation=90)
        # headroom above 1 so that the count over a full bar is never cut (the labels are rows per bin)
        axis.set(xlim=(0, 1), ylim=(0, 1.18), xlabel="confidence (top-label)", ylabel="accuracy", title=name)
        axis.set_yticks(np.linspace(0, 1, 6))
        axis.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    return figure


def _retention_figure(models: dict[str, tuple[np.ndarray, np.ndarray]]) -> Figure:
    figure = Figure(figsize=(7, 3.2))
    axis = figure.subplots()
    for (name, (probs, labels)), colour in zip(models.items(), _COLOURS, strict=False):
        error = (probs.argmax(axis=1) != labels).astype(float)
        curve = retention_curve(1.0 - probs.max(axis=1), error)
        axis.plot(curve["retention"], curve["loss"], color=colour, label=f"{name} (AURC {curve.attrs['area']:.3f})")
    axis.set(
        xlabel="fraction of predictions kept (most confident first)",
        ylabel="error rate",
        title="Selective prediction: dropping the least confident",
    )
    axis.legend(fontsize=8)
    return figure


def _calibration_curve_figure(models: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Figure:
    figure = Figure(figsize=(8.4, 3.6))
    curve_axis, pit_axis = figure.subplots(1, 2)
    for (name, (y, mean, std)), colour in zip(models.items(), _COLOURS, strict=False):
        pit = pit_gaussian(y, mean, std)
        curve = quantile_calibration_curve(pit)
        curve_axis.plot(curve["expected"], curve["observed"], color=colour, label=name)
        pit_axis.hist(pit, bins=20, range=(0, 1), density=True, histtype="step", color=colour, lw=1.5, label=name)
    curve_axis.plot([0, 1], [0, 1], "k--", lw=1)
    curve_axis.set(xlabel="expected quantile level", ylabel="observed fraction below", title="Calibration curve")
    pit_axis.axhline(1.0, color="k", ls="--", lw=1)
    pit_axis.set(xlabel="PIT value F(y)", ylabel="density", title="PIT histogram (flat = calibrated)")
    curve_axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def _open_section(report: Report, title: str, summaries: dict[str, dict[str, float]], note: str) -> None:
    """Heading, optional note and the metrics table (one column per model)."""
    report.heading(title)
    if note:
        report.text(note, css_class="note")
    report.table(pd.DataFrame(summaries).rename_axis("metric"))


def add_classification_sections(
    report: Report,
    models: dict[str, tuple[np.ndarray, np.ndarray]],
    summaries: dict[str, dict[str, float]],
    note: str = "",
    n_bins: int = 15,
) -> Report:
    """Reliability diagrams, retention curves and the metrics table for one or more classifiers."""
    _open_section(report, "Calibration of a classifier", summaries, note)
    report.figure(_reliability_figure(models, n_bins), "Reliability diagrams (bin counts above the bars).")
    report.figure(_retention_figure(models), "Error rate among the predictions kept, most confident first.")
    return report


def add_regression_sections(
    report: Report,
    models: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    summaries: dict[str, dict[str, float]],
    note: str = "",
) -> Report:
    """Calibration curves, PIT histograms and the metrics table for Gaussian regression predictions."""
    _open_section(report, "Calibration of a regression model", summaries, note)
    report.figure(_calibration_curve_figure(models), "Quantile calibration curve and PIT histogram.")
    return report


def side_by_side_note(kind: str) -> str:
    """The sentence that explains the demo's raw vs recalibrated comparison."""
    method = "temperature scaling" if kind == "classification" else "variance scaling"
    return (
        f"The raw model is overconfident. The recalibrated column applies {method} fitted on the first half "
        "of the rows; every number is computed on the other half, which the fit never saw."
    )


def add_quantile_sections(
    report: Report,
    models: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    summaries: dict[str, dict[str, float]],
    note: str = "",
) -> Report:
    """Calibration curve of quantile predictions (observed fraction below each quantile) and the metrics."""
    _open_section(report, "Calibration of quantile predictions", summaries, note)
    figure = Figure(figsize=(4.6, 4.2))
    axis = figure.subplots()
    for (name, (y, quantiles, levels)), colour in zip(models.items(), _COLOURS, strict=False):
        table = quantile_coverage(y, quantiles, levels)
        axis.plot(table["expected"], table["observed"], "o-", color=colour, label=name)
    axis.plot([0, 1], [0, 1], "k--", lw=1)
    axis.set(xlabel="quantile level", ylabel="observed fraction below", title="Quantile calibration")
    axis.legend(fontsize=8)
    report.figure(figure, "Each predicted quantile against the fraction of targets below it.")
    return report
