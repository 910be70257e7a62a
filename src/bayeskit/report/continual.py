"""Report section of continual learning: forgetting curves and the accuracy matrices of each method."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeskit.report.html import Report

__all__ = ["LABELS", "add_continual_sections"]

LABELS = {
    "finetune": "fine-tuning (forgets)",
    "ewc": "EWC",
    "online-laplace": "online Laplace",
    "vcl": "VCL",
    "joint": "joint training (ceiling)",
}
_COLOURS = {"finetune": "#b3261e", "ewc": "#e08a2c", "online-laplace": "#2f6fb3", "vcl": "#3a8f5c", "joint": "#555555"}


def add_continual_sections(report: Report, result: dict[str, Any]) -> Report:
    """Forgetting curves (first task, and the average over tasks so far, after each stage) and a metrics table."""
    matrices: dict[str, pd.DataFrame] = result["matrices"]
    stages = next(iter(matrices.values())).shape[0]
    report.heading(f"Continual learning: {stages} permuted-digit tasks, one network")
    report.text(
        f"One network (one hidden layer of {result['hidden']} units) learns the bundled digits, then the same digits "
        f"with their pixels in {stages - 1} other fixed orders, one task after the other ({result['epochs']} epochs "
        "each). Fine-tuning forgets; online Laplace and EWC keep the earlier tasks' posterior as a Gaussian prior "
        "whose precision is the Fisher of their likelihood (times a strength); VCL keeps a mean-field posterior and "
        "pays its KL to it. Joint training on every task so far is the ceiling. Accuracies are on held-out digits."
    )
    figure = Figure(figsize=(10, 3.4), layout="constrained")
    first, average = figure.subplots(1, 2, sharey=True)
    steps = np.arange(stages)
    for method, matrix in matrices.items():
        values = matrix.to_numpy()
        seen = np.array([np.nanmean(values[i, : i + 1]) for i in steps])
        style = {"color": _COLOURS.get(method), "marker": "o", "label": LABELS.get(method, method)}
        first.plot(steps, values[:, 0], **style)
        average.plot(steps, seen, **style)
    first.set_title("accuracy on the first task", fontsize=10)
    average.set_title("average accuracy over the tasks so far", fontsize=10)
    for ax in (first, average):
        ax.set_xlabel("after training task")
        ax.set_xticks(steps)
        ax.set_ylim(0, 1.02)
    first.set_ylabel("held-out accuracy")
    average.legend(fontsize=8, loc="lower left")
    report.figure(
        figure, caption="Forgetting curves: what each method still knows of earlier tasks as it learns new ones."
    )
    from bayeskit.nn import continual_metrics

    rows = {LABELS.get(m, m): continual_metrics(matrix) for m, matrix in matrices.items()}
    report.table(pd.DataFrame(rows).T.rename_axis("method"), float_format="{:.3f}")
    laplace = matrices.get("online-laplace")
    if laplace is not None:
        report.text("Accuracy matrix of the online Laplace (row: after training task i; column: evaluated on task j).")
        report.table(laplace, float_format="{:.3f}")
    return report
