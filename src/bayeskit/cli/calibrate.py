"""``bayeskit calibrate``: check a model's predictions from a CSV (classification or Gaussian regression)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bayeskit._table import numeric_column, read_table
from bayeskit.cli._errors import bad_input_on_value_errors

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Predictions:
    """Validated predictions read from a table."""

    task: str
    columns: dict[str, Any]
    probs: np.ndarray | None = None
    labels: np.ndarray | None = None
    y: np.ndarray | None = None
    mean: np.ndarray | None = None
    std: np.ndarray | None = None


def _lookup(frame, name: str | None, candidates: tuple[str, ...], flag: str) -> str | None:
    if name is not None:
        if name not in frame.columns:
            raise ValueError(
                f"column {name!r} (from {flag}) is not in the file; columns are {', '.join(map(repr, frame.columns))}."
            )
        return name
    lower = {c.lower(): c for c in frame.columns}
    return next((lower[c] for c in candidates if c in lower), None)


def detect_predictions(
    frame,
    task: str | None = None,
    label_col: str | None = None,
    prob_cols: str | None = None,
    target_col: str | None = None,
    mean_col: str | None = None,
    std_col: str | None = None,
) -> Predictions:
    """Find the label and probability columns, or the target, mean and std columns, and validate them."""
    from bayeskit.evaluate._inputs import class_probabilities, labels_for, positive

    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of 'classification', 'regression'.")
    label = _lookup(frame, label_col, ("label", "class", "target_class"), "--label-col")
    if prob_cols:
        probabilities = [c.strip() for c in prob_cols.split(",")]
        for column in probabilities:
            _lookup(frame, column, (), "--prob-cols")
    else:
        probabilities = [c for c in frame.columns if c.lower().startswith(("p_", "prob_"))]
    target = _lookup(frame, target_col, ("y", "target"), "--target-col")
    mean = _lookup(frame, mean_col, ("mean", "mu", "prediction"), "--mean-col")
    std = _lookup(frame, std_col, ("std", "sd", "sigma"), "--std-col")
    if task == "classification" or (task is None and label and probabilities):
        if not (label and len(probabilities) >= 1):
            raise ValueError(
                "classification needs a label column (--label-col) and probability columns (--prob-cols p_0,p_1,...)."
            )
        p = np.stack([numeric_column(frame, c) for c in probabilities], axis=1)
        p = class_probabilities(p[:, 0] if p.shape[1] == 1 else p, "probability columns")
        y = labels_for(numeric_column(frame, label), p.shape[0], p.shape[1], f"column {label!r}")
        return Predictions("classification", {"label": label, "probabilities": probabilities}, probs=p, labels=y)
    if task == "regression" or (task is None and target and mean and std):
        if not (target and mean and std):
            raise ValueError("regression needs target, mean and std columns (--target-col, --mean-col, --std-col).")
        return Predictions(
            "regression",
            {"target": target, "mean": mean, "std": std},
            y=numeric_column(frame, target),
            mean=numeric_column(frame, mean),
            std=positive(numeric_column(frame, std), f"column {std!r}"),
        )
    raise ValueError(
        f"could not tell the columns apart among {', '.join(map(repr, frame.columns))}: use label + p_* columns "
        "(classification) or y, mean, std (regression), or name them with --label-col/--prob-cols or "
        "--target-col/--mean-col/--std-col."
    )


def evaluate(predictions: Predictions, recalibrate: bool) -> dict[str, Any]:
    """Metrics of the predictions; with ``recalibrate``, raw vs recalibrated on a held-out half."""
    from bayeskit.evaluate import fit_temperature, fit_variance_scaling
    from bayeskit.evaluate.summary import classification_summary, regression_summary

    n = predictions.probs.shape[0] if predictions.task == "classification" else predictions.y.size
    if not recalibrate:
        if predictions.task == "classification":
            models = {"model": (predictions.probs, predictions.labels)}
            return {"models": models, "summaries": {"model": classification_summary(*models["model"])}}
        models = {"model": (predictions.y, predictions.mean, predictions.std)}
        return {"models": models, "summaries": {"model": regression_summary(*models["model"])}}
    if n < 20:
        raise ValueError(f"--recalibrate needs at least 20 rows (half to fit, half to evaluate); got {n}.")
    fit, held = np.arange(n // 2), np.arange(n // 2, n)
    if predictions.task == "classification":
        with np.errstate(divide="ignore"):
            logits = np.log(np.maximum(predictions.probs, 1e-300))
        scaler = fit_temperature(logits[fit], predictions.labels[fit], ids=fit)
        models = {
            "raw": (predictions.probs[held], predictions.labels[held]),
            f"temperature-scaled (T = {scaler.temperature:.2f})": (
                scaler.transform(logits[held], ids=held),
                predictions.labels[held],
            ),
        }
        return {"models": models, "summaries": {k: classification_summary(*v) for k, v in models.items()}}
    scaler = fit_variance_scaling(predictions.y[fit], predictions.mean[fit], predictions.std[fit], ids=fit)
    models = {
        "raw": (predictions.y[held], predictions.mean[held], predictions.std[held]),
        f"variance-scaled (x{scaler.factor:.2f})": (
            predictions.y[held],
            predictions.mean[held],
            scaler.transform(predictions.std[held], ids=held),
        ),
    }
    return {"models": models, "summaries": {k: regression_summary(*v) for k, v in models.items()}}


def load_and_evaluate(data: Path | None, recalibrate: bool, **columns: Any):
    """Read the table (or the bundled classification example) and evaluate it."""
    from bayeskit.datasets import dataset_path

    source = str(data) if data is not None else "bundled example calibration_classification.csv"
    with bad_input_on_value_errors():
        frame = read_table(data if data is not None else dataset_path("calibration_classification"))
        predictions = detect_predictions(frame, **columns)
        results = evaluate(predictions, recalibrate)
    return source, predictions, results
