"""``bayeskit optimize``: Bayesian optimization of a Python function over a JSON search space, resumable."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bayeskit.cli._errors import BadInput, bad_input_on_value_errors

__all__ = ["load_objective", "run_optimize", "to_json"]

EXAMPLE = "bayeskit.optimize.examples:tune_ensemble"


def load_objective(target: str) -> Any:
    """Import ``MODULE:FUNCTION`` (modules in the current folder are found too)."""
    module_name, _, function_name = target.partition(":")
    if not module_name or not function_name:
        raise BadInput(f"the target must look like MODULE:FUNCTION (e.g. train:objective); got {target!r}.")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise BadInput(f"cannot import module {module_name!r}: {error}.") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise BadInput(f"module {module_name!r} has no function {function_name!r}.")
    return function


def run_optimize(
    target: str | None,
    space_path: Path | None,
    trials: int,
    study_path: Path | None,
    direction: str,
    acquisition: str,
    seed: int,
    progress: bool = True,
) -> dict[str, Any]:
    """Load the objective and space, run (or resume) the study, and gather the results."""
    from bayeskit.optimize import SearchSpace, Study, StudyFailedError
    from bayeskit.optimize.examples import ENSEMBLE_SPACE

    if trials < 1:
        raise BadInput(f"`--trials` must be >= 1; got {trials}.")
    if study_path is not None and study_path.is_dir():
        raise BadInput(f"`--study` must be a file path; {str(study_path)!r} is a folder.")
    objective = load_objective(target or EXAMPLE)
    if space_path is None:
        if target not in (None, EXAMPLE):
            raise BadInput("`--space` is required with your own function: a JSON file of parameters.")
        space = ENSEMBLE_SPACE
    else:
        if not space_path.is_file():
            raise BadInput(f"`--space` file {str(space_path)!r} does not exist.")
        with bad_input_on_value_errors():
            space = SearchSpace.from_json(space_path)
    with bad_input_on_value_errors():
        study = Study(space, storage=study_path, direction=direction, acquisition=acquisition, seed=seed)
    resumed = len(study.trials())
    try:
        study.optimize(objective, trials, progress=progress)
    except StudyFailedError as error:
        raise BadInput(str(error)) from None
    table = study.trials()
    complete = table[table["state"] == "complete"]
    return {
        "target": target or EXAMPLE,
        "direction": direction,
        "acquisition": acquisition,
        "study": None if study_path is None else str(study_path),
        "resumed_trials": int(resumed),
        "num_trials": len(table),
        "num_failed": int((table["state"] == "failed").sum()),
        "best_value": study.best_value if len(complete) else None,
        "best_params": study.best_params if len(complete) else None,
        "trials": table.replace({np.nan: None}).to_dict(orient="records"),
        "_study": study,
    }


def to_json(result: dict[str, Any]) -> dict[str, Any]:
    """The machine-readable part."""
    return {key: value for key, value in result.items() if not key.startswith("_")}


def print_optimize(console: Any, result: dict[str, Any]) -> None:
    """A Rich table: the best trial and the study's counts."""
    from rich.table import Table

    table = Table(title=f"{result['target']}: {result['num_trials']} trials ({result['direction']})")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("best value", f"{result['best_value']:.6g}" if result["best_value"] is not None else "none")
    for name, value in (result["best_params"] or {}).items():
        table.add_row(f"  {name}", f"{value:.6g}" if isinstance(value, float) else str(value))
    table.add_row("failed trials", str(result["num_failed"]))
    if result["resumed_trials"]:
        table.add_row("resumed from the study file", f"{result['resumed_trials']} trials")
    console.print(table)
