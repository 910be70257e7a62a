"""``bayeskit uq``: train a Bayesian network on part of a table, judge its uncertainty on the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bayeskit.cli._errors import BadInput, bad_input_on_value_errors

__all__ = ["UQ_METHODS", "run_uq"]

UQ_METHODS = ("ensemble", "mc-dropout", "laplace")
_PLANNED = ("swag", "bbb")


def _estimator(method: str, epochs: int, seed: int, progress: bool) -> Any:
    from bayeskit.nn import DeepEnsemble, LastLayerLaplace, MCDropout

    if method in _PLANNED:
        raise BadInput(
            f"`--method {method}` is not available yet (issue 6 adds SWAG and Bayes-by-backprop); "
            f"choose one of {', '.join(UQ_METHODS)}."
        )
    if method not in UQ_METHODS:
        raise BadInput(f"`--method` must be one of {', '.join(UQ_METHODS)}; got {method!r}.")
    if epochs < 1:
        raise BadInput(f"`--epochs` must be >= 1; got {epochs}.")
    if method == "ensemble":
        return DeepEnsemble(epochs=epochs, seed=seed, progress=progress)
    if method == "laplace":
        return LastLayerLaplace(epochs=epochs, seed=seed, progress=progress)
    return MCDropout(epochs=epochs, seed=seed, progress=progress)


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

    if task != "regression":
        raise BadInput(
            f"`--task {task}` is not available yet (issue 6 adds the categorical head); use --task regression."
        )
    if not 0.05 <= test_fraction <= 0.5:
        raise BadInput(f"`--test-fraction` must be between 0.05 and 0.5; got {test_fraction}.")
    with bad_input_on_value_errors():
        frame = read_table(data if data is not None else dataset_path("uq_regression"))
    source = str(data) if data is not None else "bundled uq_regression (600 rows, a gap in x1)"
    if data is None and target is None:
        target = "y"
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
        y = numeric_column(frame, target)
    if len(y) < 20:
        raise BadInput(f"need at least 20 rows to train and hold out; got {len(y)}.")
    order = np.random.default_rng(seed).permutation(len(y))
    num_test = max(1, round(test_fraction * len(y)))
    test, train = np.sort(order[:num_test]), np.sort(order[num_test:])
    model = _estimator(method, epochs, seed, progress)
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
        "metrics": metrics,
        "_model": model,
        "_test": (x.iloc[test], y[test], predictive),
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
    coverage = result["metrics"]["coverage_95"]
    if abs(coverage - 0.95) > 2 * np.sqrt(0.95 * 0.05 / result["num_test"]) + 0.01:
        console.print(
            f"[yellow]note:[/yellow] 95% intervals covered {coverage:.1%} of held-out rows: "
            "the uncertainty is miscalibrated; see `bayeskit calibrate --recalibrate`."
        )
