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


def _grid_figure(model: Any, train: tuple[pd.DataFrame, np.ndarray], feature: str) -> Figure:
    """The predictive along ``feature`` on a grid that runs through every gap in the training rows.

    The other features sit at their training medians. Bands: the total 95% predictive
    interval, and inside it the parts from the noise alone (aleatoric) and from the model's
    uncertainty alone (epistemic), each as mean +/- 1.96 sd. Stretches of the grid more than
    three median spacings from any training row are shaded: there the epistemic part should grow.
    """
    x, y = train
    values = x[feature].to_numpy()
    low, high = values.min(), values.max()
    pad = 0.15 * (high - low)
    grid = np.linspace(low - pad, high + pad, 400)
    points = pd.DataFrame({name: np.full(grid.size, x[name].median()) for name in x.columns})
    points[feature] = grid
    on_grid = model.predictive(points)
    parts = on_grid.decompose()
    mean = on_grid.mean()
    figure = Figure(figsize=(9, 4.2), layout="constrained")
    axis = figure.subplots()
    ordered = np.sort(values)
    spacing = np.median(np.diff(ordered)) if ordered.size > 1 else 1.0
    distance = np.abs(grid[:, None] - ordered[None, :]).min(axis=1)
    axis.fill_between(
        grid,
        0,
        1,
        where=distance > 3 * spacing,
        transform=axis.get_xaxis_transform(),
        color="0.92",
        label="no training rows",
    )
    for sd, colour, label in (
        (np.sqrt(parts.total), "C0", "total 95%"),
        (np.sqrt(parts.aleatoric), "C2", "aleatoric part (noise)"),
        (np.sqrt(parts.epistemic), "C3", "epistemic part (model)"),
    ):
        alpha = 0.18 if label.startswith("total") else 0.35
        axis.fill_between(grid, mean - 1.96 * sd, mean + 1.96 * sd, color=colour, alpha=alpha, linewidth=0, label=label)
    axis.plot(grid, mean, color="C0", linewidth=1.5, label="predictive mean")
    gap = distance > 3 * spacing
    inside = (grid > low) & (grid < high)
    epistemic = np.sqrt(parts.epistemic)
    if (gap & inside).any():  # say what the model did between the data, where the shading is
        axis.set_title(
            f"epistemic sd in the gap {epistemic[gap & inside].mean():.3g} vs {epistemic[~gap & inside].mean():.3g} "
            "over the data",
            fontsize=10,
        )
    axis.plot(values, y, ".", color="k", markersize=2.5, alpha=0.6, label="training rows")
    axis.set(xlabel=f"{feature} (other features at their medians)", ylabel="prediction", xlim=(grid[0], grid[-1]))
    axis.legend(fontsize=8, loc="upper left", ncols=2)
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


def _uncertainty_map(model: Any, x: pd.DataFrame, labels: np.ndarray, predictive: Any) -> Figure:
    """Two features: the predicted class and the epistemic part (mutual information) over a grid."""
    names = list(x.columns)
    low, high = x.min().to_numpy(), x.max().to_numpy()
    pad = 0.5 * (high - low)
    grid = np.meshgrid(*(np.linspace(a - p, b + p, 120) for a, b, p in zip(low, high, pad, strict=True)))
    points = pd.DataFrame({names[0]: grid[0].ravel(), names[1]: grid[1].ravel()})
    on_grid = model.predictive(points)
    parts = on_grid.decompose()
    figure = Figure(figsize=(10, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    classes = list(np.asarray(predictive.classes))
    left.contourf(
        grid[0],
        grid[1],
        on_grid.mean().argmax(axis=1).reshape(grid[0].shape),
        alpha=0.3,
        cmap="tab10",
        levels=np.arange(len(classes) + 1) - 0.5,
        vmin=0,
        vmax=9,
    )
    image = right.contourf(grid[0], grid[1], parts.epistemic.reshape(grid[0].shape), levels=20, cmap="viridis")
    figure.colorbar(image, ax=right, label="mutual information (nats)")
    index = predictive.label_index(labels)
    for axis, title in ((left, "predicted class"), (right, "epistemic uncertainty (BALD)")):
        for k, name in enumerate(classes):
            chosen = index == k
            axis.plot(
                x[names[0]].to_numpy()[chosen],
                x[names[1]].to_numpy()[chosen],
                ".",
                color=f"C{k}",
                markersize=3,
                label=str(name),
            )
        axis.set(xlabel=names[0], ylabel=names[1], title=title)
    left.legend(fontsize=8, title="held-out rows")
    return figure


def _entropy_figure(labels: np.ndarray, predictive: Any) -> Figure:
    parts = predictive.decompose()
    wrong = predictive.predict() != np.asarray(labels)
    figure = Figure(figsize=(8, 3.2), layout="constrained")
    axes = figure.subplots(1, 2)
    for axis, values, title in (
        (axes[0], parts.aleatoric, "aleatoric (expected entropy)"),
        (axes[1], parts.epistemic, "epistemic (mutual information)"),
    ):
        bins = np.linspace(0, max(values.max(), 1e-6), 30)
        axis.hist(values[~wrong], bins=bins, alpha=0.6, label="correct", density=True)
        axis.hist(values[wrong], bins=bins, alpha=0.6, label="wrong", density=True)
        axis.set(xlabel="nats", title=title)
        axis.legend(fontsize=8)
    return figure


def _add_classification(report: Report, result: dict[str, Any]) -> Report:
    from bayeskit.report.calibration import _reliability_figure

    x, labels, predictive = result["_test"]
    probs = predictive.mean()
    index = predictive.label_index(labels)
    report.figure(
        _reliability_figure({result["method"]: (probs / probs.sum(axis=1, keepdims=True), index)}, n_bins=10),
        "Reliability diagram of the held-out predictions (bars on the diagonal when calibrated; counts on top).",
    )
    report.figure(
        _entropy_figure(labels, predictive),
        "Uncertainty of correct and wrong held-out predictions: the wrong ones should sit to the right.",
    )
    if x.shape[1] == 2:
        report.figure(
            _uncertainty_map(result["_model"], x, labels, predictive),
            "Predicted class and epistemic uncertainty over the feature plane: it should be low where the "
            "training data are and rise away from them.",
        )
    return report


def add_uq_sections(report: Report, result: dict[str, Any]) -> Report:
    """Append the uncertainty sections of a ``bayeskit uq`` run to ``report``."""
    x, y, predictive = result["_test"]
    report.heading(f"Neural network uncertainty: {result['method']}")
    report.text(
        f"Data: {result['source']}. Trained on {result['num_train']} rows ({result['epochs_run']} epochs), "
        f"judged on {result['num_test']} held-out rows. Target: {result['target']}."
    )
    report.table(pd.DataFrame({"value": result["metrics"]}))
    if result["task"] == "classification":
        return _add_classification(report, result)
    if "_train" in result:
        report.figure(
            _grid_figure(result["_model"], result["_train"], x.columns[0]),
            f"The predictive along {x.columns[0]} through the whole range, gaps in the training rows included "
            "(shaded). A model that knows what it does not know widens its epistemic band where there are no "
            "training rows, and the aleatoric band does not follow; networks often widen only outside the data "
            "and interpolate confidently across a gap, and the title says which happened here.",
        )
    report.figure(_intervals_figure(x, y, predictive), f"Held-out rows against the 95% interval, by {x.columns[0]}.")
    report.figure(
        _decomposition_figure(x, predictive),
        "Aleatoric (noise the heads learned) and epistemic (disagreement) standard deviations.",
    )
    report.figure(_calibration_figure(y, predictive), "Quantile calibration of the held-out predictive.")
    return report
