"""The memory and time of an exact GP fit (``bayeskit.resources``).

Memory: ``MATRICES`` float64 ``n x n`` matrices at the peak of a fit (the kernel matrix, its
Cholesky factor and inverse, the gradient's cotangent and the kernel's pull-back) and
``WORKING_BYTES`` besides. Measured as the peak over the resting size of a compiled fit (d = 8,
2 starts), fitted to n = 2,000 and 4,000 over two runs of benchmarks/bench_estimates.py: 4.9
matrices and 34 MB (the "Estimates before a run" section of benchmarks/RESULTS.md).

Time: L-BFGS-B's evaluations are counted on a fit of a random ``SUBSET`` rows with the same
starts, and one evaluation is timed at the full size; above ``TIMED_AT`` rows it is timed at
``TIMED_AT / 2`` and ``TIMED_AT`` rows and scaled by ``(n / TIMED_AT)^p``, the exponent ``p``
read off those two timings (between 2 and 3: LAPACK's cubic work runs faster per flop on
larger matrices, so a plain cube overstated a 4,000-row fit by 1.7x).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from bayeskit.resources import Need, ResourceEstimate, free_memory

__all__ = ["MATRICES", "SUBSET", "TIMED_AT", "WORKING_BYTES", "calibrate_fit", "gp_estimate"]

MATRICES = 5
WORKING_BYTES = 32 * 2**20
SUBSET = 300
TIMED_AT = 2000


def gp_estimate(num_points: int, num_features: int, calibration: Any = None) -> ResourceEstimate:
    """The estimate of an exact fit on ``num_points`` rows (padding included).

    ``calibration``: ``() -> (evaluations, seconds_per_evaluation_at_n, compile_seconds, text)``,
    called only in a dry run.
    """
    matrix = 8 * num_points**2
    needs = (
        Need(
            "kernel matrix, its factor, inverse and gradient",
            MATRICES * matrix,
            "device",
            f"{MATRICES} x {num_points:,} x {num_points:,} float64 (measured)",
        ),
        Need(
            "inputs and targets", 8 * num_points * (num_features + 1), "device", f"{num_points:,} x {num_features + 1}"
        ),
        Need("working buffers", WORKING_BYTES, "device", "the optimizer's and the conditioning's (measured)"),
    )
    free = free_memory()
    pool = free.get("device", free.get("host"))
    fix = "Fit on a random subset, or use SparseGPRegressor (inducing points: memory grows as n x m, not n^2)."
    if pool is not None:
        most = int(np.sqrt(max(0, pool - WORKING_BYTES) / (8 * MATRICES)))
        fix = f"Fit on at most {most:,} rows (a random subset), or use SparseGPRegressor (memory n x m, not n^2)."
    result = ResourceEstimate(f"exact GP fit on {num_points:,} points x {num_features} features", needs, free, fix=fix)
    if calibration is None:
        return result
    evaluations, each, compile_s, text = calibration()
    return dataclasses.replace(result, seconds=(evaluations + 1) * each, compile_seconds=compile_s, calibration=text)


def calibrate_fit(model: Any, kernel: Any, x: np.ndarray, ys: np.ndarray, noise: float) -> Any:
    """The calibration of :func:`gp_estimate` for ``model`` (a GPRegressor) on standardized ``(x, ys)``."""
    from bayeskit._rng import as_generator
    from bayeskit.gp.fit import fit_hyperparameters, time_evaluation

    def run() -> tuple[int, float, float, str]:
        size = min(x.shape[0], TIMED_AT)
        each, compile_s = time_evaluation(kernel, x[:size], ys[:size], noise)
        timed = f"one evaluation {each * 1000:.1f} ms at {size:,} rows"
        scale = 1.0
        if x.shape[0] > size:
            half, _ = time_evaluation(kernel, x[: size // 2], ys[: size // 2], noise)
            power = float(np.clip(np.log2(each / half), 2.0, 3.0))
            scale = (x.shape[0] / size) ** power
            timed += f" ({half * 1000:.1f} ms at {size // 2:,}), x {scale:.1f} for {x.shape[0]:,} (n^{power:.2f})"
        if model.optimizer is None:
            return 0, each * scale, compile_s, f"no optimizer: one factorization; {timed}"
        rows = as_generator(0).permutation(x.shape[0])[: min(SUBSET, x.shape[0])]
        fitted = fit_hyperparameters(
            kernel,
            x[rows],
            ys[rows],
            noise,
            0.0,
            restarts=model.restarts,
            key=model.key,
            min_noise_variance=model.min_noise_variance,
            learn_mean=False,
        )
        text = f"{fitted.evaluations} L-BFGS-B evaluations ({model.restarts + 1} starts) on {rows.size} random rows; "
        return fitted.evaluations, each * scale, compile_s, text + timed

    return run
