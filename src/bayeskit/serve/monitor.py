"""Live views of files another process is writing: an optimize study (SQLite) and a NUTS checkpoint.

Both are read without locking or changing them: the study through a read-only SQLite
connection (WAL mode lets a reader and the writer work at once), the checkpoint by reading
the whole file, which the sampler replaces atomically (so a read sees the old or the new
checkpoint, never half of one). A file that cannot be read right now (missing, being
created, from another program) gives a message in the payload, not an error page.
"""

from __future__ import annotations

import ast
import json
import math
import sqlite3
import threading
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["RunFile", "StudyFile", "parse_space"]

_MAX_TRACE_POINTS = 400  # per chain and parameter, evenly thinned
_MAX_TRACED = 6  # scalar parameters shown in the trace figure
_MAX_ROWS = 2_000  # trials listed in the table (the newest)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# ----------------------------------------------------------------------------------------------
# Optimize studies
# ----------------------------------------------------------------------------------------------
def parse_space(signature: str) -> Any:
    """The :class:`~bayeskit.optimize.SearchSpace` of a study file's ``space`` entry, parsed, never evaluated.

    The entry maps each name to the ``repr`` of its dimension, e.g.
    ``"Float(low=0.0001, high=0.1, log=True)"``; only calls of ``Float``, ``Integer`` and
    ``Categorical`` with literal arguments are accepted.

    Examples
    --------
    >>> space = parse_space('{"lr": "Float(low=0.001, high=0.1, log=True)", "act": "Categorical(choices=(1, 2))"}')
    >>> sorted(space.parameters)
    ['act', 'lr']
    """
    from bayeskit.optimize import Categorical, Float, Integer, SearchSpace

    kinds = {"Float": Float, "Integer": Integer, "Categorical": Categorical}
    parameters = {}
    for name, text in json.loads(signature).items():
        node = ast.parse(text, mode="eval").body
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in kinds):
            raise ValueError(f"parameter {name!r} has an unknown kind: {text!r}")
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        parameters[name] = kinds[node.func.id](*args, **kwargs)
    return SearchSpace(parameters)


class _Snapshot:
    """What :func:`bayeskit.optimize.slices.gp_slices` reads of a study: its space, trials and best trial."""

    def __init__(self, space: Any, direction: str, rows: list[dict[str, Any]]):
        self.space, self.direction, self._rows = space, direction, rows

    def trials(self) -> Any:
        import pandas as pd

        return pd.DataFrame.from_records(
            [{**{k: v for k, v in r.items() if k != "params"}, **r["params"]} for r in self._rows]
        )

    @property
    def best_params(self) -> dict[str, Any]:
        complete = [r for r in self._rows if r["state"] == "complete"]
        pick = min if self.direction == "minimize" else max
        return pick(complete, key=lambda r: r["value"])["params"]


class StudyFile:
    """A study file named on the command line, read afresh on every request."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._slices: dict[int, Any] = {}  # completed-trial count -> slices (or an error text)
        self._computing: set[int] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path} does not exist (yet): start the study, or check the path")
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)

    def read(self) -> dict[str, Any]:
        """Meta, trials (newest ``_MAX_ROWS``) and the best-so-far curve, or ``{"error": ...}``."""
        try:
            connection = self._connect()
            try:
                meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
                rows = connection.execute(
                    "SELECT number, params, value, state, started, finished, error FROM trials ORDER BY number"
                ).fetchall()
            finally:
                connection.close()
        except (OSError, sqlite3.Error) as error:
            return {"name": self.path.name, "error": f"cannot read {self.path.name} right now: {error}"}
        direction = meta.get("direction", "minimize")
        trials = [
            {
                "number": number,
                "params": json.loads(params),
                "value": _finite(value),
                "state": state,
                "seconds": None if finished is None else round(finished - started, 3),
                "error": error,
            }
            for number, params, value, state, started, finished, error in rows
        ]
        complete = [t for t in trials if t["state"] == "complete" and t["value"] is not None]
        sign = 1.0 if direction == "minimize" else -1.0  # lower sign * value is better
        best_trial, curve = None, []
        for trial in complete:
            value = trial["value"]
            if best_trial is None or sign * value < sign * best_trial["value"]:
                best_trial = trial
            curve.append({"number": trial["number"], "value": value, "best": best_trial["value"]})
        return {
            "name": self.path.name,
            "direction": direction,
            "space": json.loads(meta["space"]) if "space" in meta else {},
            "counts": {state: sum(t["state"] == state for t in trials) for state in ("complete", "running", "failed")},
            "best": best_trial,
            "curve": curve,
            "trials": trials[-_MAX_ROWS:],
            "meta": meta,
        }

    def slices(self) -> dict[str, Any]:
        """The GP slices for the current completed trials: ready, being computed (in a thread), or why not.

        Only the count of completed trials is read to look the slices up; the whole study is read
        when a new count starts a computation.
        """
        try:
            connection = self._connect()
            try:
                count = connection.execute("SELECT COUNT(*) FROM trials WHERE state = 'complete'").fetchone()[0]
            finally:
                connection.close()
        except (OSError, sqlite3.Error) as error:
            return {"status": "error", "error": f"cannot read {self.path.name} right now: {error}"}
        with self._lock:
            if count in self._slices:
                return self._slices[count]
            start = count not in self._computing
            self._computing.add(count)
        if start:
            state = self.read()
            if "error" in state:
                with self._lock:
                    self._computing.discard(count)
                return {"status": "error", "error": state["error"]}
            thread = threading.Thread(target=self._compute, args=(state, count), name=f"slices-{self.path.name}")
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()
        return {"status": "computing", "complete": count}

    def close(self) -> None:
        """Wait for slices still being computed (a thread inside XLA must not be killed at exit)."""
        for thread in self._threads:
            thread.join()

    def _compute(self, state: dict[str, Any], count: int) -> None:
        from bayeskit.optimize.slices import gp_slices

        try:
            space = parse_space(state["meta"]["space"])
            rows = [t for t in state["trials"] if t["state"] == "complete" and t["value"] is not None]
            slices = gp_slices(_Snapshot(space, state["direction"], rows))
            result = {
                "status": "ready",
                "complete": count,
                "slices": [
                    {k: np.asarray(v).tolist() if k != "name" and k != "log" else v for k, v in s.items()}
                    for s in slices
                ],
            }
        except Exception as error:  # a study this page cannot model is shown as a message, never a crash
            result = {"status": "error", "error": f"no GP slices: {type(error).__name__}: {error}"}
        with self._lock:
            self._slices = {count: result}  # keep only the newest
            self._computing.discard(count)


# ----------------------------------------------------------------------------------------------
# NUTS checkpoints
# ----------------------------------------------------------------------------------------------
class RunFile:
    """A NUTS checkpoint named on the command line: draws so far, R-hat and ESS so far, traces."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def read(self) -> dict[str, Any]:
        """The run's progress and diagnostics, or ``{"error": ...}`` while the file cannot be read."""
        from bayeskit.infer.checkpoint import CheckpointError, read_checkpoint

        try:
            meta, arrays = read_checkpoint(self.path)
        except (OSError, CheckpointError) as error:
            return {"name": self.path.name, "error": f"cannot read {self.path.name} right now: {error}"}
        draws = {name[2:]: value for name, value in arrays.items() if name.startswith("z/")}
        stats = {name[2:]: value for name, value in arrays.items() if name.startswith("s/")}
        kept = int(next(iter(draws.values())).shape[0]) if draws else 0
        num_chains = int(next(iter(draws.values())).shape[1]) if draws else None
        out = {
            "name": self.path.name,
            "done": int(meta.get("done", 0)),
            "num_warmup": meta.get("num_warmup"),
            "total": meta.get("total"),
            "draws": kept,
            "chains": num_chains,
            "divergences": int(np.sum(stats["diverging"])) if "diverging" in stats else 0,
            "mean_accept": _finite(np.mean(stats["accept_prob"])) if kept and "accept_prob" in stats else None,
            "parameters": [],
            "trace": [],
            "note": (
                "Values are on the sampler's unconstrained scale (a positive parameter shows as its log); "
                "R-hat and ESS are rank-based, so they are the same on either scale."
            ),
        }
        if kept >= 4 and num_chains:
            out["parameters"], out["trace"] = _diagnose(draws, kept)
        return out


def _scalars(draws: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each scalar component as ``(chain, draw)``: ``name`` or ``name[i,j]``."""
    out = {}
    for name, value in draws.items():
        value = np.swapaxes(np.asarray(value, dtype=float), 0, 1)  # (chain, draw, ...)
        flat = value.reshape(value.shape[0], value.shape[1], -1)
        shape = value.shape[2:]
        for i in range(flat.shape[2]):
            label = name if not shape else f"{name}[{', '.join(map(str, np.unravel_index(i, shape)))}]"
            out[label] = flat[:, :, i]
    return out


def _diagnose(draws: dict[str, np.ndarray], kept: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """R-hat and ESS so far (ArviZ, as ``DrawsPosterior.check()`` computes them) and thinned traces."""
    from bayeskit._arviz import diagnostics, from_dict

    scalars = _scalars(draws)
    table = diagnostics(from_dict({"posterior": {name: np.swapaxes(v, 0, 1) for name, v in draws.items()}}))
    rows = []
    for value, (label, row) in zip(list(scalars.values())[:200], table.iterrows(), strict=False):
        rows.append(
            {
                "name": str(label),
                "mean": _finite(value.mean()),
                "sd": _finite(value.std()),
                "r_hat": _finite(row.get("r_hat")),
                "ess_bulk": _finite(row.get("ess_bulk")),
                "ess_tail": _finite(row.get("ess_tail")),
            }
        )
    step = max(1, math.ceil(kept / _MAX_TRACE_POINTS))
    trace = []
    for label, value in list(scalars.items())[:_MAX_TRACED]:
        for chain in range(value.shape[0]):
            for index in range(0, kept, step):
                trace.append({"name": label, "chain": chain, "draw": index, "value": _finite(value[chain, index])})
    return rows, trace
