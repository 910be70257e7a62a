"""The memory and time of one NUTS run, from its compiled program and a short calibration (``bayeskit.resources``).

Memory: the compiled programs' own peak (XLA's ``memory_analysis``: the sampler state, one
chunk of draws and scratch, per device), and on the host the draws kept as they come (the
unconstrained position and six sampler statistics per chain and draw, twice over while they
are joined at the end) and the posterior in constrained space (the transform's output, the
draws and ArviZ's copy: three times).

Time: the run's own program starts the chains and runs ``CALIBRATION_SKIPPED`` warmup
transitions untimed (the first, off-scale steps), then ``CALIBRATION_TIMED`` timed ones; the
estimate extrapolates their mean cost per transition, and the bound puts every tree at the
depth limit at the measured cost per gradient.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from bayeskit.resources import Need, ResourceEstimate, format_bytes, free_memory

__all__ = ["CALIBRATION_SKIPPED", "CALIBRATION_TIMED", "nuts_estimate", "sampled_bytes"]

CALIBRATION_SKIPPED = 40
CALIBRATION_TIMED = 20
_STAT_BYTES = 1 + 4  # diverging (bool) and num_steps (int32); energy, potential, acceptance, step size are reals
_STAT_REALS = 4


def sampled_bytes(numbers: int, itemsize: int) -> int:
    """Bytes of one chain's draw as sampled: the unconstrained position and the six sampler statistics."""
    return numbers * itemsize + _STAT_BYTES + _STAT_REALS * itemsize


def _draw_bytes(program: Any) -> tuple[int, int]:
    """Bytes per chain and draw: as sampled (with the statistics) and in constrained space."""
    return sampled_bytes(program.unconstrained_size, program.itemsize), program.constrained_size * program.itemsize


def nuts_estimate(
    program: Any,
    run: dict[str, Any],
    start: Any = None,
    calibrate: bool = False,
    finish: Any = None,
) -> ResourceEstimate:
    """The estimate of one run of ``program``.

    Parameters
    ----------
    program
        The compiled :class:`bayeskit.infer._program.Program`.
    run
        ``num_chains``, ``num_warmup``, ``num_samples``, ``done`` (transitions already in a
        checkpoint), ``chain_method``, ``devices``, ``max_tree_depth``.
    start
        ``() -> (state, dynamic)``: the chains' start, called only to calibrate.
    calibrate
        Run the calibration (a dry run); else memory only, and nothing runs.
    finish
        ``(state, pieces) -> None``: the run's post-processing (constraining, ArviZ, diagnostics)
        of the calibration's draws, timed as the estimate of the run's own.
    """
    chains, warmup, samples = run["num_chains"], run["num_warmup"], run["num_samples"]
    devices, method = run["devices"], run["chain_method"]
    raw, constrained = _draw_bytes(program)
    count = chains * samples
    free = free_memory()
    shared = "device" not in free  # a CPU: the devices are main memory, and all of them count
    compiled = program.device_bytes * (devices if shared else 1)
    needs = (
        Need(
            "compiled sampler (state, a chunk of draws, scratch)",
            compiled,
            "device",
            "XLA memory analysis"
            + (f", {devices} devices" if shared and devices > 1 else "")
            + (" per device" if not shared and devices > 1 else ""),
        ),
        Need(
            "draws as sampled, with sampler statistics",
            2 * count * raw,
            "host",
            f"{chains:,} chains x {samples:,} draws x {raw:,} B ({program.unconstrained_size:,} numbers and 6 "
            "statistics) x 2 while joined",
        ),
        Need(
            "posterior draws in constrained space",
            3 * count * constrained,
            "host",
            f"{chains:,} x {samples:,} x {program.constrained_size:,} numbers x {program.itemsize} B x 3 "
            "(transform, draws, ArviZ)",
        ),
    )
    fix = _fix(program, run, free, raw + 1.5 * constrained)
    label = (
        f"nuts: {chains:,} chains x ({warmup:,} warmup + {samples:,} draws), {method}"
        + (f" over {devices} devices" if devices > 1 else "")
        + (f", {run['done']:,} transitions already in the checkpoint" if run.get("done") else "")
    )
    result = ResourceEstimate(label, needs, free, fix=fix, devices=devices)
    if not calibrate:
        return result
    return _calibrated(result, program, run, start, finish)


def _fix(program: Any, run: dict[str, Any], free: dict[str, int | None], per_draw: float) -> str:
    """The largest ``num_samples`` that fits, and the other ways out."""
    host = free.get("host")
    shared = "device" not in free  # one pool on a CPU
    if host is None:
        return "Pass fewer num_samples or num_chains."
    fixed = program.device_bytes * run["devices"] if shared else 0
    most = int((host - fixed) // (2 * per_draw * run["num_chains"])) if host > fixed else 0
    if most < 1:
        return (
            f"The compiled sampler alone needs {format_bytes(program.device_bytes)}: fewer chains per device, "
            "a smaller model or data set, or a machine with more memory."
        )
    return (
        f"Pass num_samples={most:,} or fewer (draws grow as num_chains x num_samples), fewer chains, "
        "or run on a machine with more memory."
    )


def _calibrated(
    result: ResourceEstimate, program: Any, run: dict[str, Any], start: Any, finish: Any
) -> ResourceEstimate:
    total = run["num_warmup"] + run["num_samples"] - run.get("done", 0)
    if total <= 0:
        return dataclasses.replace(result, seconds=0.0, calibration="nothing left to run")
    state, dynamic = start()
    skipped = min(CALIBRATION_SKIPPED, max(0, total - 1))
    timed = max(1, min(CALIBRATION_TIMED, total - skipped))
    state = _advance(program, state, dynamic, skipped)[0]
    began = time.perf_counter()
    state, pieces = _advance(program, state, dynamic, timed)
    seconds = time.perf_counter() - began
    steps = np.concatenate([piece["num_steps"] for piece in pieces])
    began = time.perf_counter()
    if finish is not None:
        finish(state, pieces)
    post = time.perf_counter() - began
    per_transition = seconds / timed
    chains_per_device = run["num_chains"] // run["devices"]
    path = steps.sum(axis=1) if run["chain_method"] == "sequential" else steps.max(axis=1)
    per_gradient = seconds / max(1, int(path.sum()))
    deepest = 2 ** run["max_tree_depth"] - 1
    bound = per_gradient * deepest * (chains_per_device if run["chain_method"] == "sequential" else 1) * total
    mean_steps = float(steps.mean())
    text = (
        f"{skipped + timed} transitions of this program (the first {skipped} untimed): "
        f"{per_transition * 1000:.2f} ms per transition, {mean_steps:.1f} leapfrog steps per chain on average; "
        f"post-processing {post:.2f} s"
    )
    return dataclasses.replace(
        result,
        seconds=per_transition * total + post,
        seconds_at_most=max(bound, per_transition * total) + post,
        compile_seconds=program.compile_s,
        calibration=text,
        details={"seconds_per_transition": per_transition, "seconds_per_gradient": per_gradient},
    )


def _advance(program: Any, state: Any, dynamic: list[Any], count: int) -> tuple[Any, list[dict[str, Any]]]:
    """``count`` transitions in chunks of the program's size, and what each chunk produced (host copies)."""
    pieces = []
    while count > 0:
        num = min(program.chunk, count)
        state, produced = program.run_chunk(state, num, dynamic)
        pieces.append(produced)
        count -= num
    return state, pieces
