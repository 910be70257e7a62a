"""``bayeskit calibrate``: check a model's predictions from a CSV (classification or Gaussian regression)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bayeskit._table import line_label, numeric_column, read_table
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
    quantiles: np.ndarray | None = None
    levels: np.ndarray | None = None


def quantile_level(column: str) -> float | None:
    """The level a column name encodes: ``q05`` -> 0.05, ``q0.975``/``q_0.975`` -> 0.975, ``q50`` -> 0.5."""
    match = re.fullmatch(r"q_?(0?\.\d+|\d+)", column.strip().lower())
    if match is None:
        return None
    text = match.group(1)
    return float(text) if "." in text else int(text) / 10 ** len(text)


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
    quantile_cols: str | None = None,
    quantile_levels: str | None = None,
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
        _check_rows(frame, p, numeric_column(frame, label), label)
        p = class_probabilities(p[:, 0] if p.shape[1] == 1 else p, "probability columns")
        y = labels_for(numeric_column(frame, label), p.shape[0], p.shape[1], f"column {label!r}")
        return Predictions("classification", {"label": label, "probabilities": probabilities}, probs=p, labels=y)
    if quantile_cols:
        quantile_columns = [c.strip() for c in quantile_cols.split(",")]
        for column in quantile_columns:
            _lookup(frame, column, (), "--quantile-cols")
    else:
        quantile_columns = [c for c in frame.columns if quantile_level(c) is not None]
    if target and quantile_columns and not (mean and std) and task in (None, "regression"):
        if quantile_levels:
            try:
                levels = [float(v) for v in quantile_levels.split(",")]
            except ValueError:
                raise ValueError(
                    f"`--quantile-levels` must be comma-separated numbers; got {quantile_levels!r}."
                ) from None
        else:
            levels = [quantile_level(c) for c in quantile_columns]
            if None in levels:
                raise ValueError(
                    "give --quantile-levels for quantile columns whose names do not encode a level (q05, q0.95)."
                )
        if len(levels) != len(quantile_columns):
            raise ValueError(
                f"got {len(quantile_columns)} quantile columns but {len(levels)} level"
                + ("" if len(levels) == 1 else "s")
                + "; give one level per column."
            )
        order = np.argsort(levels)
        quantiles = np.stack([numeric_column(frame, quantile_columns[i]) for i in order], axis=1)
        levels = np.asarray(levels, dtype=float)[order]
        if np.any((levels <= 0) | (levels >= 1)) or np.any(np.diff(levels) <= 0):
            raise ValueError(f"quantile levels must be distinct and inside (0, 1); got {levels.tolist()}.")
        crossed = np.any(np.diff(quantiles, axis=1) < 0, axis=1)
        if crossed.any():
            row = int(np.argmax(crossed))
            raise ValueError(
                f"predicted quantiles must not decrease with the level; {line_label(frame, row)} has "
                f"{quantiles[row].tolist()}."
            )
        columns = {"target": target, "quantiles": [quantile_columns[i] for i in order], "levels": levels.tolist()}
        return Predictions("regression", columns, y=numeric_column(frame, target), quantiles=quantiles, levels=levels)
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
        "(classification), y, mean, std or y plus quantile columns q05, q50, q95 (regression), or name them with "
        "--label-col/--prob-cols, --target-col/--mean-col/--std-col or --quantile-cols/--quantile-levels."
    )


def _check_rows(frame: Any, p: np.ndarray, labels: np.ndarray, label: str) -> None:
    """The checks of the probability table whose failures name a line of the file."""
    outside = ((p < 0) | (p > 1)).any(axis=1)
    if outside.any():
        row = int(np.argmax(outside))
        raise ValueError(f"probabilities must lie in [0, 1]; {line_label(frame, row)} has {p[row].tolist()}.")
    if p.shape[1] > 1:
        off = np.abs(p.sum(axis=1) - 1.0) > 1e-6
        if off.any():
            row = int(np.argmax(off))
            raise ValueError(
                f"each row's probabilities must sum to 1; {line_label(frame, row)} sums to {p[row].sum():.6g}. "
                "Apply a softmax first, or list every class's column in --prob-cols."
            )
    classes = max(p.shape[1], 2)
    bad = (labels != np.round(labels)) | (labels < 0) | (labels >= classes)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(
            f"column {label!r} must hold class numbers 0 to {classes - 1}; {line_label(frame, row)} has "
            f"{labels[row]:g}."
        )


def evaluate(predictions: Predictions, recalibrate: bool) -> dict[str, Any]:
    """Metrics of the predictions; with ``recalibrate``, raw vs recalibrated on a held-out half."""
    from bayeskit.evaluate import conformalized_quantile_regression, fit_temperature, fit_variance_scaling
    from bayeskit.evaluate.summary import classification_summary, quantile_summary, regression_summary

    if predictions.quantiles is not None:
        return _evaluate_quantiles(predictions, recalibrate, conformalized_quantile_regression, quantile_summary)

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


MIN_ROWS = 100  # fewer than this and the reliability bins hold a handful of rows each


def verdict(task: str, inputs: tuple, summary: dict[str, float], advise: bool = True) -> str:
    """One sentence on whether the predictions are calibrated, with the numbers it rests on.

    Classification: the top-label ECE against a sampling floor of ``max(0.02, 1/sqrt(n))``,
    and the direction (mean confidence above accuracy: overconfident). Regression: every
    central interval's coverage against its level, within two binomial standard errors + 0.01.
    """
    n = summary["n"]
    if task == "classification":
        probs = inputs[0]
        confidence = float(np.mean(probs.max(axis=1) if probs.ndim == 2 else np.maximum(probs, 1 - probs)))
        floor = max(0.02, 1.0 / np.sqrt(n))
        if summary["ece"] <= floor:
            return f"calibrated: ECE {summary['ece']:.3f} is within what {n:.0f} rows can tell from 0 ({floor:.3f})."
        side = "overconfident" if confidence > summary["accuracy"] else "underconfident"
        return (
            f"miscalibrated ({side}): ECE {summary['ece']:.3f} > {floor:.3f}; mean confidence {confidence:.1%} vs "
            f"accuracy {summary['accuracy']:.1%}." + (" Try --recalibrate (temperature scaling)." if advise else "")
        )
    parts, off = [], []
    for key, observed in summary.items():
        if key.startswith("coverage_"):
            level = int(key.removeprefix("coverage_")) / 100
            tolerance = 2 * np.sqrt(level * (1 - level) / n) + 0.01
            if abs(observed - level) > tolerance:
                off.append(
                    f"{level:.0%} intervals cover {observed:.1%} ({'too narrow' if observed < level else 'too wide'})"
                )
            parts.append(f"{level:.0%}: {observed:.1%}")
    if not parts:
        return "no central intervals to check coverage on."
    if not off:
        return f"calibrated: every interval covers its level within sampling error ({', '.join(parts)})."
    return f"miscalibrated: {'; '.join(off)}." + (" Try --recalibrate." if advise else "")


def load_and_evaluate(data: Path | None, recalibrate: bool, **columns: Any):
    """Read the table (or the bundled classification example) and evaluate it."""
    from bayeskit.datasets import dataset_path

    source = str(data) if data is not None else "bundled example calibration_classification.csv"
    with bad_input_on_value_errors():
        frame = read_table(data if data is not None else dataset_path("calibration_classification"))
        predictions = detect_predictions(frame, **columns)
        rows = len(frame)
        if rows < 2:
            raise ValueError(f"{source} has 1 prediction; calibration is a property of many, so give at least 2.")
        results = evaluate(predictions, recalibrate)
    results["verdicts"] = {
        name: verdict(predictions.task, results["models"][name], summary, advise=name == "model")
        for name, summary in results["summaries"].items()
    }
    results["warnings"] = []
    if rows < MIN_ROWS:
        results["warnings"].append(
            f"only {rows} predictions: calibration metrics from fewer than {MIN_ROWS} rows are mostly noise (ECE "
            "is biased upward at small n); read them as a rough check."
        )
    return source, predictions, results


def _evaluate_quantiles(predictions: Predictions, recalibrate: bool, conformalize, summarize) -> dict[str, Any]:
    """Quantile predictions; ``recalibrate`` conformalizes the outermost symmetric pair (CQR) on half the rows."""
    y, q, levels = predictions.y, predictions.quantiles, predictions.levels
    if not recalibrate:
        models = {"model": (y, q, levels)}
        return {"models": models, "summaries": {"model": summarize(y, q, levels)}}
    if y.size < 20:
        raise ValueError(f"--recalibrate needs at least 20 rows (half to fit, half to evaluate); got {y.size}.")
    low = int(np.argmin(levels))
    high = (
        int(np.flatnonzero(np.isclose(levels, 1.0 - levels[low]))[0])
        if np.isclose(levels, 1.0 - levels[low]).any()
        else None
    )
    if high is None:
        raise ValueError("--recalibrate with quantiles needs a symmetric outer pair of levels, e.g. 0.05 and 0.95.")
    fit, held = slice(0, y.size // 2), slice(y.size // 2, None)
    lower, upper = conformalize(y[fit], q[fit, low], q[fit, high], q[held, low], q[held, high], alpha=2 * levels[low])
    adjusted = q[held].copy()
    adjusted[:, low], adjusted[:, high] = lower, upper
    models = {
        "raw": (y[held], q[held], levels),
        f"CQR on the {1 - 2 * levels[low]:.0%} interval": (y[held], adjusted, levels),
    }
    return {"models": models, "summaries": {k: summarize(*v) for k, v in models.items()}}
