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
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from bayeskit._validate import check_choice
from bayeskit.optimize.acquisition import (
    ACQUISITIONS,
    expected_improvement,
    log_expected_improvement,
    lower_confidence_bound,
    probability_of_improvement,
)
from bayeskit.optimize.space import SearchSpace

__all__ = ["Study", "StudyFailedError", "Trial", "minimize"]


class Trial(NamedTuple):
    """A suggestion: its number in the study and its parameters."""

    number: int
    params: dict[str, Any]


class StudyFailedError(RuntimeError):
    """Too many trials failed in a row."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    number INTEGER PRIMARY KEY,
    params TEXT NOT NULL,
    value REAL,
    state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'failed')),
    started REAL NOT NULL,
    finished REAL,
    error TEXT
);
"""


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
        self._connection = sqlite3.connect(":memory:" if storage is None else str(self.storage), timeout=30.0)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.executescript(_SCHEMA)
        self._check_meta()
        self._issued: set[int] = set()
        self._warm: tuple | None = None  # the last fit's kernel and noise: the next fit starts there

    # ------------------------------------------------------------------ storage
    def _check_meta(self) -> None:
        wanted = {"space": _space_signature(self.space), "direction": self.direction}
        with self._connection:
            for key, value in wanted.items():
                row = self._connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
                if row is None:
                    self._connection.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
                elif row[0] != value:
                    raise ValueError(
                        f"the study in {self.storage} was created with another {key} ({row[0]}); "
                        f"this call has {value}. Use a new --study file or the original {key}."
                    )

    def _rows(self, state: str | None = None) -> list[tuple]:
        query = "SELECT number, params, value, state, error FROM trials"
        if state is not None:
            return self._connection.execute(query + " WHERE state = ? ORDER BY number", (state,)).fetchall()
        return self._connection.execute(query + " ORDER BY number").fetchall()

    def close(self) -> None:
        """Close the database connection."""
        self._connection.close()

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> Trial:
        """The next trial: an interrupted one first (same parameters), else a new suggestion."""
        for number, params, *_ in self._rows("running"):
            if number not in self._issued:
                self._issued.add(number)
                return Trial(number, json.loads(params))
        params = self._suggest()
        with self._connection:
            cursor = self._connection.execute(
                "INSERT INTO trials (params, state, started) VALUES (?, 'running', ?)",
                (json.dumps(params), time.time()),
            )
        self._issued.add(int(cursor.lastrowid))
        return Trial(int(cursor.lastrowid), params)

    def ask_batch(self, size: int) -> list[Trial]:
        """``size`` trials to run in parallel (kriging believer: each pretends the last came out at its mean)."""
        return [self.ask() for _ in range(size)]

    def tell(self, trial: Trial | int, value: Any = None, error: str | None = None) -> None:
        """Record a trial's value; NaN, infinite, None or an ``error`` message marks it failed."""
        number = trial.number if isinstance(trial, Trial) else int(trial)
        row = self._connection.execute("SELECT state FROM trials WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise ValueError(f"trial {number} is not in this study; tell only trials that ask returned.")
        if row[0] != "running":
            raise ValueError(f"trial {number} is already {row[0]}; each trial is told once.")
        try:
            number_value = float(value) if value is not None else math.nan
        except (TypeError, ValueError):
            number_value, error = math.nan, error or f"the objective returned {value!r}, not a number"
        failed = error is not None or not math.isfinite(number_value)
        if failed and error is None:
            error = f"the objective returned {value!r}"
        with self._connection:
            self._connection.execute(
                "UPDATE trials SET value = ?, state = ?, finished = ?, error = ? WHERE number = ?",
                (None if failed else number_value, "failed" if failed else "complete", time.time(), error, number),
            )
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

    # ------------------------------------------------------------------ suggestions
    def _suggest(self) -> dict[str, Any]:
        rows = self._rows()  # one read: completed, pending and the count all come from it
        complete = [row for row in rows if row[3] == "complete"]
        params = [json.loads(row[1]) for row in complete]
        values = np.array([row[2] for row in complete], dtype=float)
        pending = [json.loads(row[1]) for row in rows if row[3] == "running"]
        if len(params) < max(self.num_initial, 2) or len(rows) < self.num_initial:
            return self._sobol_point(len(rows))
        return self._model_point(params, values, pending, len(rows))

    def _sobol_point(self, index: int) -> dict[str, Any]:
        from scipy.stats import qmc

        sampler = qmc.Sobol(self.space.dimension, scramble=True, seed=self.seed)
        points = sampler.random(2 ** max(5, int(np.ceil(np.log2(index + 64)))))
        for offset in range(points.shape[0]):
            candidate = self.space.decode(points[(index + offset) % points.shape[0]])
            if self.space.feasible(candidate):
                return candidate
        raise ValueError("no point of the search space satisfies the constraints; check them.")

    def _model_point(self, params: list[dict], values: np.ndarray, pending: list[dict], count: int) -> dict[str, Any]:
        from scipy.stats import qmc

        from bayeskit.gp import GPRegressor, Matern52

        x = np.stack([self.space.encode(p) for p in params])
        y = values if self.direction == "minimize" else -values
        pad = 32 * int(np.ceil((x.shape[0] + len(pending)) / 32))
        # Warm start from the previous fit (one L-BFGS-B run from there converges in a few steps); a fresh
        # start with a random restart every 5th trial keeps it from settling in a poor optimum.
        fresh = self._warm is None or len(params) % 5 == 0
        kernel, noise = (Matern52(np.full(x.shape[1], 0.5)), 1e-2 if self.noisy else 1e-4) if fresh else self._warm
        model = GPRegressor(
            kernel,
            noise_variance=noise,
            restarts=1 if fresh else 0,
            min_noise_variance=1e-4 if self.noisy else 1e-6,
            key=self.seed + len(params),
            pad_to=pad,
        ).fit(x, y)
        self._warm = (model.kernel_, max(float(model.state_.noise_variance), 1e-6))
        if pending:  # kriging believer: pending trials count as if they came out at the posterior mean
            from bayeskit.gp import condition

            x_pending = np.stack([self.space.encode(p) for p in pending])
            believed = np.concatenate([y, model.predict(x_pending)])
            model.state_ = condition(
                model.kernel_,
                model.state_.noise_variance,
                0.0,
                np.vstack([x, x_pending]),
                (believed - model.y_mean_) / model.y_std_,
                pad_to=pad,
            )
            x = np.vstack([x, x_pending])
        generator = np.random.default_rng(self.seed + len(params) + 7919 * len(pending))
        half = 2 ** int(np.ceil(np.log2(max(self.num_candidates // 2, 2))))
        sobol = qmc.Sobol(self.space.dimension, scramble=True, seed=generator).random(half)
        order = np.argsort(y)[:5]
        local = x[order][generator.integers(0, order.size, half)]
        local = np.clip(local + 0.05 * generator.standard_normal(local.shape), 0.0, 1.0)
        candidates = np.vstack([sobol, local])  # a fixed count, so the predictions reuse one compiled program
        if self.space.needs_snapping:
            candidates = np.stack([self.space.round_trip(c) for c in candidates])
        seen = {tuple(np.round(row, 9)) for row in x}
        allowed = np.array([tuple(np.round(c, 9)) not in seen for c in candidates])
        if self.space.constraints:
            allowed &= np.array([self.space.feasible(self.space.decode(c)) for c in candidates])
        if not allowed.any():
            return self._sobol_point(count)
        scores = np.where(allowed, self._score(model, candidates, y, generator), -np.inf)
        return self.space.decode(candidates[int(np.argmax(scores))])

    def _score(self, model: Any, candidates: np.ndarray, y: np.ndarray, generator: np.random.Generator):
        import jax

        if self.acquisition == "thompson":
            draw = model.sample_functions(candidates, jax.random.PRNGKey(int(generator.integers(2**31))), 1)[0]
            return -draw
        mean, std = model.predict(candidates, return_std=True)
        best = float(np.min(model.predict(np.asarray(model.state_.x[: y.size])))) if self.noisy else float(np.min(y))
        if self.acquisition == "logei":
            return log_expected_improvement(mean, std, best)
        if self.acquisition == "ei":
            return expected_improvement(mean, std, best)
        if self.acquisition == "pi":
            return probability_of_improvement(mean, std, best)
        return lower_confidence_bound(mean, std, beta=2.0)

    # ------------------------------------------------------------------ the simple loop
    def optimize(self, objective: Callable[[dict[str, Any]], float], num_trials: int, progress: bool = False):
        """Run ``objective`` until the study holds ``num_trials`` finished trials (resumed ones count)."""
        from bayeskit._progress import progress_bar

        finished = sum(1 for row in self._rows() if row[3] != "running")
        with progress_bar("optimizing", num_trials, progress, done=min(finished, num_trials)) as advance:
            while finished < num_trials:
                trial = self.ask()
                try:
                    value = objective(dict(trial.params))
                except Exception as error:  # the objective's failure is data: record it, go on
                    self.tell(trial, error=f"{type(error).__name__}: {error}")
                else:
                    self.tell(trial, value)
                finished += 1
                advance(1)
        return self


def minimize(
    objective: Callable[[dict[str, Any]], float], space: SearchSpace, num_trials: int, seed: int = 0, **options: Any
) -> Study:
    """Minimize ``objective(params)`` over ``space`` in ``num_trials`` evaluations; returns the :class:`Study`.

    ``options`` go to :class:`Study` (``storage``, ``acquisition``, ``noisy``, ...).
    """
    return Study(space, seed=seed, **options).optimize(objective, num_trials)
