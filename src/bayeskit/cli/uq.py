"""``bayeskit uq``: train a Bayesian network on part of a table, judge its uncertainty on the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bayeskit._table import constant_columns, line_label
from bayeskit.cli._errors import BadInput, bad_input_on_value_errors

__all__ = ["UQ_METHODS", "run_uq"]

UQ_METHODS = ("ensemble", "mc-dropout", "swag", "bbb", "laplace")
UQ_TASKS = ("regression", "classification")
_DEFAULTS = {
    "regression": ("uq_regression", "y", "bundled uq_regression (600 rows, a gap in x1)"),
    "classification": ("uq_classification", "label", "bundled uq_classification (600 rows, 3 overlapping classes)"),
}


def _estimator(method: str, task: str, epochs: int, seed: int, progress: bool) -> Any:
    from bayeskit.nn import SWAG, BayesByBackprop, DeepEnsemble, LastLayerLaplace, MCDropout

    if method not in UQ_METHODS:
        raise BadInput(f"`--method` must be one of {', '.join(UQ_METHODS)}; got {method!r}.")
    if epochs < 1:
        raise BadInput(f"`--epochs` must be >= 1; got {epochs}.")
    if method == "laplace" and task == "classification":
        raise BadInput(
            "`--method laplace` is the last-layer Laplace of a Gaussian head (regression); "
            "for classification use ensemble, mc-dropout, swag or bbb."
        )
    options = {"epochs": epochs, "key": seed, "progress": progress}
    if task == "classification":
        options["head"] = "categorical"
    classes = {
        "ensemble": DeepEnsemble,
        "mc-dropout": MCDropout,
        "swag": SWAG,
        "bbb": BayesByBackprop,
        "laplace": LastLayerLaplace,
    }
    return classes[method](**options)


def _labels(frame: Any, column: str) -> np.ndarray:
    """Class labels of ``column`` (numbers or text); a missing label is named by row."""
    values = frame[column]
    missing = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
    if missing.any():
        raise BadInput(f"column {column!r} has a missing class label at {line_label(frame, int(np.argmax(missing)))}.")
    if values.nunique() < 2:
        raise BadInput(f"column {column!r} has a single class ({values.iloc[0]!r}); classification needs two or more.")
    _check_classes(values, column)
    return values.to_numpy()


MAX_CLASSES = 100


def _check_classes(values: Any, column: str) -> None:
    """Refuse, before any training, a target that cannot be class labels: fractional numbers or a class per row."""
    import pandas as pd

    text = values.astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    distinct = int(text.nunique())
    fractional = bool(numbers.notna().all() and (numbers != numbers.round()).any())
    if fractional or distinct > MAX_CLASSES or (distinct > 20 and distinct > len(text) / 2):
        examples = ", ".join(text.drop_duplicates().iloc[:3])
        raise BadInput(
            f"`--task classification` needs class labels, but column {column!r} has {distinct} distinct values in "
            f"{len(text)} rows ({examples}, ...)"
            + (", some of them fractional" if fractional else "")
            + ": that is a continuous target. Use --task regression."
        )


def run_uq(
    data: Path | None,
    target: str | None,
    features: list[str] | None,
    method: str,
    task: str,
    test_fraction: float,
    epochs: int,
    seed: int,
    progress: bool = True,
) -> dict[str, Any]:
    """Load, split, train, predict and evaluate; returns everything the printers and the report need."""
    import pandas as pd

    from bayeskit._table import numeric_column, read_table
    from bayeskit.datasets import dataset_path

    if task not in UQ_TASKS:
        raise BadInput(f"`--task` must be one of {', '.join(UQ_TASKS)}; got {task!r}.")
    if not 0.05 <= test_fraction <= 0.5:
        raise BadInput(f"`--test-fraction` must be between 0.05 and 0.5; got {test_fraction}.")
    bundled, default_target, description = _DEFAULTS[task]
    with bad_input_on_value_errors():
        frame = read_table(data if data is not None else dataset_path(bundled))
    source = str(data) if data is not None else description
    if data is None and target is None:
        target = default_target
    if target is None:
        raise BadInput(f"`--target` is required with a data file; columns are: {', '.join(frame.columns)}.")
    if target not in frame.columns:
        raise BadInput(f"`--target` column {target!r} is not in the data; columns are: {', '.join(frame.columns)}.")
    features = features or [c for c in frame.columns if c != target]
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise BadInput(f"`--features` {missing} not in the data; columns are: {', '.join(frame.columns)}.")
    if target in features or not features:
        raise BadInput("`--features` must name at least one column other than the target.")
    with bad_input_on_value_errors():
        x = pd.DataFrame({name: numeric_column(frame, name) for name in features})
        y = _labels(frame, target) if task == "classification" else numeric_column(frame, target)
    if len(y) < 20:
        raise BadInput(f"need at least 20 rows to train and hold out; got {len(y)}.")
    warnings = constant_columns(x)
    if progress:
        from bayeskit.cli._output import print_warnings

        print_warnings(warnings)
    order = np.random.default_rng(seed).permutation(len(y))
    num_test = max(1, round(test_fraction * len(y)))
    test, train = np.sort(order[:num_test]), np.sort(order[num_test:])
    model = _estimator(method, task, epochs, seed, progress)
    with bad_input_on_value_errors():
        model.fit(x.iloc[train], y[train])
        predictive = model.predictive(x.iloc[test])
        metrics = predictive.evaluate(y[test])
    return {
        "source": source,
        "method": method,
        "task": task,
        "target": target,
        "features": features,
        "num_train": int(train.size),
        "num_test": int(test.size),
        "epochs_run": int(model.epochs_run_),
        "warnings": warnings,
        "metrics": metrics,
        "_model": model,
        "_test": (x.iloc[test], y[test], predictive),
        "_train": (x.iloc[train], y[train]),
    }


def to_json(result: dict[str, Any]) -> dict[str, Any]:
    """The machine-readable part (held-out metrics and the setup)."""
    return {key: value for key, value in result.items() if not key.startswith("_")}


def print_uq(console: Any, result: dict[str, Any]) -> None:
    """A Rich table of the held-out metrics."""
    from rich.table import Table

    table = Table(
        title=f"{result['method']} on {result['source']}: held-out {result['num_test']} of "
        f"{result['num_train'] + result['num_test']} rows"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in result["metrics"].items():
        table.add_row(name, f"{value:.4g}")
    console.print(table)
    if result["task"] == "classification":
        return
    coverage = result["metrics"]["coverage_95"]
    if abs(coverage - 0.95) > 2 * np.sqrt(0.95 * 0.05 / result["num_test"]) + 0.01:
        console.print(
            f"[yellow]note:[/yellow] 95% intervals covered {coverage:.1%} of held-out rows: "
            "the uncertainty is miscalibrated; see `bayeskit calibrate --recalibrate`."
        )
