"""``bayeskit track``: Kalman filter and RTS smoother on a table of noisy positions (constant-velocity model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bayeskit._table import line_label
from bayeskit.cli._errors import BadInput, bad_input_on_value_errors

__all__ = ["print_track", "run_track", "to_json"]

BUNDLED = "track"


def _positions(frame: Any, column: str) -> np.ndarray:
    """A coordinate column: numbers, with empty cells (or NA/NaN) as missed detections; text is named by row."""
    import pandas as pd

    from bayeskit._table import MISSING

    text = frame[column].astype(str).str.strip()
    missing = text.str.lower().isin(MISSING).to_numpy()
    numbers = pd.to_numeric(text.where(~missing, "nan"), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(numbers) & ~missing
    if bad.any():
        row = int(np.argmax(bad))
        raise BadInput(f"column {column!r} must be numeric; {line_label(frame, row)} has {text.iloc[row]!r}.")
    if np.isinf(numbers).any():
        row = int(np.argmax(np.isinf(numbers)))
        raise BadInput(
            f"column {column!r} has an infinite value at {line_label(frame, row)}; leave missed detections empty."
        )
    return numbers


def _time_step(frame: Any, time_col: str | None, dt: float | None) -> float:
    from bayeskit._table import numeric_column

    if time_col is None:
        return 1.0 if dt is None else dt
    if time_col not in frame.columns:
        raise BadInput(f"`--time-col` {time_col!r} is not in the data; columns are: {', '.join(frame.columns)}.")
    with bad_input_on_value_errors():
        times = numeric_column(frame, time_col)
    steps = np.diff(times)
    if len(steps) == 0:
        raise BadInput("the track needs at least 3 rows.")
    if np.any(steps <= 0):
        where = line_label(frame, int(np.argmax(steps <= 0)) + 1)
        raise BadInput(f"column {time_col!r} must increase; {where} does not. Sort the rows by time.")
    step = float(np.median(steps))
    if not np.allclose(steps, step, rtol=1e-6, atol=1e-9):
        where = line_label(frame, int(np.argmax(~np.isclose(steps, step, rtol=1e-6, atol=1e-9))) + 1)
        raise BadInput(
            f"time steps must be regular (the model is time-invariant); {where} breaks the step of {step:g}. "
            "Put the rows on a regular grid, with empty positions where nothing was detected."
        )
    if dt is not None and not np.isclose(dt, step):
        raise BadInput(f"`--dt` {dt:g} disagrees with the time column's step {step:g}; give one or the other.")
    return step


def run_track(
    data: Path | None,
    columns: list[str] | None,
    time_col: str | None,
    dt: float | None,
    process_noise: float | None,
    measurement_noise: float | None,
    prob: float = 0.95,
) -> dict[str, Any]:
    """Read the positions, fit the tracker (noises by maximum likelihood unless given), and summarize."""
    from bayeskit._table import read_table
    from bayeskit.datasets import dataset_path
    from bayeskit.sequential import fit_tracker

    if dt is not None and not dt > 0:
        raise BadInput(f"`--dt` must be positive; got {dt}.")
    for name, value in (("--process-noise", process_noise), ("--measurement-noise", measurement_noise)):
        if value is not None and not value > 0:
            raise BadInput(f"`{name}` must be a positive variance; got {value}.")
    if not 0 < prob < 1:
        raise BadInput(f"`--prob` must be between 0 and 1; got {prob}.")
    with bad_input_on_value_errors():
        frame = read_table(data if data is not None else dataset_path(BUNDLED))
    if data is None:
        columns, time_col = columns or ["x", "y"], time_col or "t"
    columns = columns or [c for c in ("x", "y", "z") if c in frame.columns]
    if not columns:
        raise BadInput(f"`--cols` is required: the position columns; columns are: {', '.join(frame.columns)}.")
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise BadInput(f"`--cols` {absent} not in the data; columns are: {', '.join(frame.columns)}.")
    step = _time_step(frame, time_col, dt)
    positions = np.column_stack([_positions(frame, c) for c in columns])
    with bad_input_on_value_errors():
        fit = fit_tracker(positions, step, process_noise, measurement_noise)
    truth_cols = [f"true_{c}" for c in columns]
    truth = None
    if all(c in frame.columns for c in truth_cols):
        truth = np.column_stack([_positions(frame, c) for c in truth_cols])
    dims = len(columns)
    findings = [str(finding) for finding in fit.check()]
    summary = {
        "source": str(data) if data is not None else "bundled track (vehicle, 1 Hz radar)",
        "columns": columns,
        "dt": step,
        "num_steps": len(positions),
        "num_missing": int(np.isnan(positions).any(axis=1).sum()),
        "process_noise": fit.process_noise,
        "measurement_noise": fit.measurement_noise,
        "noise_learned": {
            "process": process_noise is None and "process_noise" not in fit.on_bound,
            "measurement": measurement_noise is None and "measurement_noise" not in fit.on_bound,
        },
        "noise_on_bound": [name.removesuffix("_noise") for name in fit.on_bound],
        "trustworthy": not findings,
        "findings": findings,
        "log_likelihood": fit.log_likelihood,
        "prob": prob,
        "final_state": _final_state(fit.smoothed, columns, prob),
    }
    if truth is not None:
        summary["check_against_truth"] = _against_truth(fit, positions, truth, dims, prob)
    return {**summary, "_fit": fit, "_truth": truth, "_time": np.arange(len(positions)) * step}


def _final_state(estimate: Any, columns: list[str], prob: float) -> list[dict[str, Any]]:
    low, high = estimate.interval(prob)
    names = [*columns, *(f"velocity_{c}" for c in columns)]
    return [
        {"state": name, "mean": float(estimate.means[-1, i]), "low": float(low[-1, i]), "high": float(high[-1, i])}
        for i, name in enumerate(names)
    ]


def _against_truth(fit: Any, positions: np.ndarray, truth: np.ndarray, dims: int, prob: float) -> dict[str, Any]:
    out = {"rmse_raw": float(np.sqrt(np.nanmean((positions - truth) ** 2)))}
    for kind, estimate in (("filtered", fit.filtered), ("smoothed", fit.smoothed)):
        low, high = estimate.interval(prob)
        inside = (low[:, :dims] <= truth) & (truth <= high[:, :dims])
        out[f"rmse_{kind}"] = float(np.sqrt(np.mean((estimate.means[:, :dims] - truth) ** 2)))
        out[f"coverage_{kind}"] = float(np.mean(inside))
    return out


def to_json(result: dict[str, Any]) -> dict[str, Any]:
    """The machine-readable part, with the smoothed track per step."""
    out = {k: v for k, v in result.items() if not k.startswith("_")}
    smoothed = result["_fit"].smoothed
    low, high = smoothed.interval(result["prob"])
    out["smoothed"] = [
        {
            "t": float(t),
            **{c: float(smoothed.means[i, j]) for j, c in enumerate(result["columns"])},
            **{f"{c}_sd": float(smoothed.std()[i, j]) for j, c in enumerate(result["columns"])},
            **{f"{c}_low": float(low[i, j]) for j, c in enumerate(result["columns"])},
            **{f"{c}_high": float(high[i, j]) for j, c in enumerate(result["columns"])},
        }
        for i, t in enumerate(result["_time"])
    ]
    return out


def print_track(console: Any, result: dict[str, Any]) -> None:
    """Rich tables: the fitted noise levels and the final state; the check against truth when present."""
    from rich.table import Table

    table = Table(title=f"Constant-velocity tracker: {result['source']}")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("steps (missed detections)", f"{result['num_steps']} ({result['num_missing']})")
    table.add_row("time step", f"{result['dt']:g}")
    learned = result["noise_learned"]
    labels = {"process": "process noise (accel. density)", "measurement": "measurement noise (variance)"}
    for name, label in labels.items():
        stuck = name in result["noise_on_bound"]
        how = " (ML)" if learned[name] else (" (on its bound: NOT learned)" if stuck else " (given)")
        table.add_row(label, f"{result[f'{name}_noise']:.4g}{how}")
    table.add_row("log-likelihood", f"{result['log_likelihood']:.2f}")
    console.print(table)
    label = f"{100 * result['prob']:g}%"
    final = Table(title=f"Smoothed final state ({label} interval)")
    for name in ("state", "mean", "low", "high"):
        final.add_column(name, justify="left" if name == "state" else "right")
    for row in result["final_state"]:
        final.add_row(row["state"], *(f"{row[key]:.5g}" for key in ("mean", "low", "high")))
    console.print(final)
    check = result.get("check_against_truth")
    if check:
        truth = Table(title="Against the true path (columns true_*)")
        for name in ("", "RMSE", f"{label} coverage"):
            truth.add_column(name, justify="right" if name else "left")
        truth.add_row("raw detections", f"{check['rmse_raw']:.4g}", "")
        for kind in ("filtered", "smoothed"):
            truth.add_row(kind, f"{check[f'rmse_{kind}']:.4g}", f"{check[f'coverage_{kind}']:.3f}")
        console.print(truth)
