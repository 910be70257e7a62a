"""Bayesian optimization as an ask/tell loop, persisted in SQLite so that a killed process loses nothing.

``Study.ask()`` suggests parameters: scrambled Sobol points first, then the maximizer
of an acquisition over a GP (``bayeskit.gp.GPRegressor``, Matérn 5/2 with ARD on the
unit cube) fitted to every completed trial. ``Study.tell(trial, value)`` records the
outcome; a NaN, an infinite value or an exception marks the trial failed, and
``max_failures`` failures in a row stop the study with a clear error.

Storage (``storage="study.db"``): the standard library's ``sqlite3`` in WAL mode,
one row per trial written when it is asked for (state ``running``) and updated when
it is told. Reopening the file resumes: completed trials are kept, and a trial that
was running when its process died is handed out again, with the same parameters,
before anything new is suggested.

Three parts, each of its own: :class:`~bayeskit.optimize.storage.TrialStore` keeps the
trials, :class:`~bayeskit.optimize.suggest.Suggester` proposes the next point from them,
and :class:`Study` is the ask/tell loop that joins the two.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from bayeskit._validate import check_choice
from bayeskit.optimize.acquisition import ACQUISITIONS
from bayeskit.optimize.space import SearchSpace
from bayeskit.optimize.storage import TrialStore
from bayeskit.optimize.suggest import Suggester

__all__ = ["Study", "StudyFailedError", "Trial", "minimize"]


class Trial(NamedTuple):
    """A suggestion: its number in the study and its parameters."""

    number: int
    params: dict[str, Any]


class StudyFailedError(RuntimeError):
    """Too many trials failed in a row."""


def _space_signature(space: SearchSpace) -> str:
    return json.dumps({name: repr(dimension) for name, dimension in space.parameters.items()}, sort_keys=True)


class Study:
    """An ask/tell Bayesian optimization of one objective (minimized unless ``direction="maximize"``).

    Parameters
    ----------
    space
        The :class:`~bayeskit.optimize.SearchSpace`.
    storage
        A SQLite file to persist (and resume) the study, or None for memory only.
    direction
        ``"minimize"`` or ``"maximize"``.
    acquisition
        ``"logei"`` (default), ``"ei"``, ``"pi"``, ``"ucb"`` or ``"thompson"``.
    num_initial
        Sobol points before the GP takes over (default ``max(5, 2 * dimension)``).
    noisy
        Whether the objective is noisy: the GP then learns a noise variance and the
        incumbent is the best posterior mean at a tried point, not the best observed value.
    max_failures
        Failed trials in a row that stop the study.
    num_candidates
        Points scored per suggestion (Sobol, plus perturbations of the best trials).
    seed
        Seeds the Sobol sequence, the GP restarts and the candidates.

    Examples
    --------
    >>> from bayeskit.optimize import Float, SearchSpace
    >>> study = Study(SearchSpace({"x": Float(-2.0, 2.0)}), seed=0)
    >>> for _ in range(12):
    ...     trial = study.ask()
    ...     study.tell(trial, (trial.params["x"] - 0.5) ** 2)
    >>> abs(study.best_params["x"] - 0.5) < 0.05
    True
    """

    def __init__(
        self,
        space: SearchSpace,
        storage: str | Path | None = None,
        direction: str = "minimize",
        acquisition: str = "logei",
        num_initial: int | None = None,
        noisy: bool = False,
        max_failures: int = 5,
        num_candidates: int = 2000,
        seed: int = 0,
    ):
        check_choice(direction, "direction", ("minimize", "maximize"))
        check_choice(acquisition, "acquisition", ACQUISITIONS)
        if not isinstance(space, SearchSpace):
            raise TypeError(f"`space` must be a SearchSpace; got {type(space).__name__}.")
        self.space, self.direction, self.acquisition = space, direction, acquisition
        self.num_initial = num_initial if num_initial is not None else max(5, 2 * space.dimension)
        self.noisy, self.max_failures, self.num_candidates, self.seed = noisy, max_failures, num_candidates, seed
        self.storage = None if storage is None else Path(storage)
        self._store = TrialStore(storage, {"space": _space_signature(space), "direction": direction})
        self._suggester = Suggester(space, direction, acquisition, self.num_initial, noisy, num_candidates, seed)
        self._issued: set[int] = set()
        self.worker_losses = 0  # trials resubmitted because their worker died
        self.last_workers = 1  # how many trials the last optimize() ran at once

    def _rows(self, state: str | None = None) -> list[tuple]:
        return self._store.rows(state)

    def close(self) -> None:
        """Close the database connection."""
        self._store.close()

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> Trial:
        """The next trial: an interrupted one first (same parameters), else a new suggestion."""
        for number, params, *_ in self._rows("running"):
            if number not in self._issued:
                self._issued.add(number)
                return Trial(number, json.loads(params))
        params = self._suggester.suggest(self._rows())  # one read: completed, pending and the count
        number = self._store.start(params)
        self._issued.add(number)
        return Trial(number, params)

    def ask_batch(self, size: int) -> list[Trial]:
        """``size`` trials to run in parallel (kriging believer: each pretends the last came out at its mean)."""
        return [self.ask() for _ in range(size)]

    def tell(self, trial: Trial | int, value: Any = None, error: str | None = None) -> None:
        """Record a trial's value; NaN, infinite, None or an ``error`` message marks it failed."""
        number = trial.number if isinstance(trial, Trial) else int(trial)
        state = self._store.state(number)
        if state is None:
            raise ValueError(f"trial {number} is not in this study; tell only trials that ask returned.")
        if state != "running":
            raise ValueError(f"trial {number} is already {state}; each trial is told once.")
        try:
            number_value = float(value) if value is not None else math.nan
        except (TypeError, ValueError):
            number_value, error = math.nan, error or f"the objective returned {value!r}, not a number"
        failed = error is not None or not math.isfinite(number_value)
        if failed and error is None:
            error = f"the objective returned {value!r}"
        self._store.finish(number, None if failed else number_value, "failed" if failed else "complete", error)
        self._issued.discard(number)
        self._check_failures()

    def _check_failures(self) -> None:
        finished = [row for row in self._rows() if row[3] != "running"]
        streak = 0
        for row in reversed(finished):
            if row[3] != "failed":
                break
            streak += 1
        if streak >= self.max_failures:
            last = finished[-1][4]
            raise StudyFailedError(
                f"{streak} trials failed in a row (max_failures={self.max_failures}); the last said: {last}. "
                "Fix the objective, or widen max_failures if failures are expected."
            )

    # ------------------------------------------------------------------ results
    def _completed(self) -> tuple[list[dict[str, Any]], np.ndarray]:
        rows = self._rows("complete")
        return [json.loads(row[1]) for row in rows], np.array([row[2] for row in rows], dtype=float)

    @property
    def best_params(self) -> dict[str, Any]:
        """Parameters of the best completed trial."""
        params, values = self._completed()
        if not params:
            raise ValueError("no trial has completed yet.")
        index = int(np.argmin(values) if self.direction == "minimize" else np.argmax(values))
        return params[index]

    @property
    def best_value(self) -> float:
        """The best completed value."""
        _, values = self._completed()
        if values.size == 0:
            raise ValueError("no trial has completed yet.")
        return float(values.min() if self.direction == "minimize" else values.max())

    def trials(self) -> Any:
        """A pandas table of every trial: number, state, value, error and one column per parameter."""
        import pandas as pd

        records = []
        for number, params, value, state, error in self._rows():
            records.append({"number": number, "state": state, "value": value, "error": error, **json.loads(params)})
        return pd.DataFrame.from_records(records)

    # ------------------------------------------------------------------ the loop
    def optimize(
        self,
        objective: Callable[[dict[str, Any]], float],
        num_trials: int,
        progress: bool = False,
        workers: int | None = None,
        executor: Any = None,
        address: str | None = None,
        max_retries: int = 3,
    ):
        """Run ``objective`` until the study holds ``num_trials`` finished trials (resumed ones count).

        Parameters
        ----------
        objective
            Takes a dict of parameters, returns the number to optimize; an exception or a
            non-finite value marks the trial failed (and the study goes on).
        num_trials
            Finished trials (complete or failed) the study should hold.
        progress
            A progress bar on stderr.
        workers
            Trials evaluated at once, each in a worker process (``executor="process"``, the
            default for ``workers > 1``) or a Ray task. Asking and telling stay here, on the
            study's storage; pending trials count by the kriging believer, so parallel
            suggestions do not collide. With workers the objective must be importable by them
            (a top-level ``def`` in a module); that is checked before any trial starts.
        executor
            ``"serial"``, ``"process"``, ``"ray"`` or a :class:`bayeskit.parallel.Executor`
            (which is left running afterwards).
        address
            A Ray cluster's address (implies ``executor="ray"``); checked before any trial starts.
        max_retries
            Times a trial is resubmitted, with the same parameters, when the worker running
            it dies (killed, out of memory); after that the trial is marked failed. A trial is
            told once, so a retried one is never counted twice.

        Returns
        -------
        Study
            This study.

        Raises
        ------
        bayeskit.parallel.ExecutorError
            The executor cannot start (no Ray, an unreachable address) or its workers cannot
            load the objective; nothing has run.
        StudyFailedError
            ``max_failures`` trials failed in a row; every finished trial is kept.
        """
        from bayeskit._progress import progress_bar
        from bayeskit.parallel import Executor, check_loadable, get_executor

        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"`max_retries` must be an int >= 0; got {max_retries!r}.")
        owned = not isinstance(executor, Executor)
        pool = get_executor(executor, workers, address)
        self.last_workers = pool.workers
        finished = sum(1 for row in self._rows() if row[3] != "running")
        label = "optimizing" if pool.workers == 1 else f"optimizing ({pool.workers} workers)"
        try:
            check_loadable(pool, objective, "the objective")
            with progress_bar(label, num_trials, progress, done=min(finished, num_trials)) as advance:
                self._run_trials(objective, num_trials - finished, pool, max_retries, advance)
        except BaseException:  # Ctrl-C, a failed study: stop the workers; running trials resume next time
            if owned:
                pool.shutdown(cancel=True)
            raise
        if owned:
            pool.shutdown()
        return self

    def _run_trials(self, objective: Callable, remaining: int, pool: Any, max_retries: int, advance: Callable) -> None:
        """Keep ``pool.workers`` trials in flight until ``remaining`` more have finished."""
        from concurrent.futures import FIRST_COMPLETED, wait

        from bayeskit.parallel.executors import worker_lost
        from bayeskit.parallel.tasks import evaluate_trial

        in_flight: dict[Any, tuple[Trial, int]] = {}  # future -> (trial, attempts so far)
        while remaining > 0:
            while len(in_flight) < pool.workers and len(in_flight) < remaining:
                trial = self.ask()
                in_flight[pool.submit(evaluate_trial, objective, dict(trial.params))] = (trial, 0)
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda item: in_flight[item][0].number):
                trial, attempts = in_flight.pop(future)
                try:
                    value, error = future.result()
                except Exception as lost:  # the worker died (same trial, same parameters, again), or the call broke
                    if worker_lost(lost) and attempts < max_retries:
                        self.worker_losses += 1
                        in_flight[pool.submit(evaluate_trial, objective, dict(trial.params))] = (trial, attempts + 1)
                        continue
                    last = f"{type(lost).__name__}: {lost}"
                    lost_text = f"the worker running it was lost {attempts + 1} times; the last: {last}"
                    value, error = None, lost_text if worker_lost(lost) else f"the call did not complete: {last}"
                self.tell(trial, value, error)
                remaining -= 1
                advance(1)


def minimize(
    objective: Callable[[dict[str, Any]], float], space: SearchSpace, num_trials: int, seed: int = 0, **options: Any
) -> Study:
    """Minimize ``objective(params)`` over ``space`` in ``num_trials`` evaluations; returns the :class:`Study`.

    ``options`` go to :class:`Study` (``storage``, ``acquisition``, ``noisy``, ...).
    """
    return Study(space, seed=seed, **options).optimize(objective, num_trials)
