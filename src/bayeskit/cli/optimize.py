"""``bayeskit optimize``: Bayesian optimization of a Python function over a JSON search space, resumable."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bayeskit.cli._errors import BadInput, Failed, bad_input_on_value_errors, check_output

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
    workers: int | None = None,
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Load the objective and space, run (or resume) the study, and gather the results."""
    from bayeskit.optimize import SearchSpace, Study, StudyFailedError
    from bayeskit.optimize.examples import ENSEMBLE_SPACE
    from bayeskit.parallel import ExecutorError

    if trials < 1:
        raise BadInput(f"`--trials` must be >= 1; got {trials}.")
    if workers is not None and workers < 1:
        raise BadInput(f"`--workers` must be >= 1; got {workers}.")
    check_output(study_path, "--study")
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
    if resumed and progress:
        from bayeskit.cli._output import stderr_console

        stderr_console().print(f"resuming the study in {str(study_path)!r}: {_count(resumed, 'trial')} recorded")
    kept = "" if study_path is None else f" The study file {str(study_path)!r} keeps every trial."
    executor = "ray" if ray_address is not None else None
    address = None if ray_address in (None, "local") else ray_address
    try:
        study.optimize(objective, trials, progress=progress, workers=workers, executor=executor, address=address)
    except StudyFailedError as error:
        raise Failed(f"{error}{kept}") from None
    except ExecutorError as error:
        raise BadInput(f"{error}{kept}") from None
    table = study.trials()
    complete = table[table["state"] == "complete"]
    if complete.empty:
        failed = table[table["state"] == "failed"]
        last = failed["error"].iloc[-1] if len(failed) else "no trial finished"
        raise Failed(
            f"{_count(len(failed), 'trial')} failed and none completed, so there is no best value; the last said: "
            f"{last}.{kept}"
        )
    return {
        "target": target or EXAMPLE,
        "direction": direction,
        "acquisition": acquisition,
        "executor": executor or ("process" if (workers or 1) > 1 else "serial"),
        "workers": study.last_workers,
        "study": None if study_path is None else str(study_path),
        "resumed_trials": int(resumed),
        "num_trials": len(table),
        "num_failed": int((table["state"] == "failed").sum()),
        "best_value": study.best_value if len(complete) else None,
        "best_params": study.best_params if len(complete) else None,
        "trials": table.replace({np.nan: None}).to_dict(orient="records"),
        "_study": study,
    }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def to_json(result: dict[str, Any]) -> dict[str, Any]:
    """The machine-readable part."""
    return {key: value for key, value in result.items() if not key.startswith("_")}


def print_optimize(console: Any, result: dict[str, Any]) -> None:
    """A Rich table: the best trial and the study's counts."""
    from rich.table import Table

    lowest = result["direction"] == "minimize"
    table = Table(title=f"{result['target']}: {_count(result['num_trials'], 'trial')} ({result['direction']}d)")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row(
        f"best value of {result['target'].rpartition(':')[2]} ({'lowest' if lowest else 'highest'} found)",
        f"{result['best_value']:.6g}",
    )
    table.add_row("at the parameters", "")
    for name, value in (result["best_params"] or {}).items():
        table.add_row(f"  {name}", f"{value:.6g}" if isinstance(value, float) else str(value))
    table.add_row("failed trials", str(result["num_failed"]))
    if result["resumed_trials"]:
        table.add_row(f"resumed from {result['study']}", _count(result["resumed_trials"], "trial"))
    console.print(table)
