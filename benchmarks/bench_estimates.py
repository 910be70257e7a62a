"""How close ``bayeskit.resources.estimate`` comes to the run it estimates: memory and time, estimated vs measured.

No peer library estimates a run before it starts, so the comparison is with the run itself. Each case runs in
fresh processes:

1. ``estimate`` (the dry run: compile, calibrate, stop), which gives the estimated memory and time;
2. the run itself in a fresh process, timed (compilation included, and added to the estimate for the ratio);
3. the run twice in one process: the peak resident memory (``VmHWM``, reset with ``/proc/self/clear_refs``) over
   the resting size before each run. The first run's peak includes compilation; the second reuses every compiled
   program, so its peak is the run's own arrays, which is what the estimate counts.

Cases: NUTS on a 100-dimensional Gaussian with many draws (8 chains x (1,000 + 10,000)), where the draws
dominate memory; NUTS on eight schools (non-centered); exact GPs at n = 2,000 and 4,000 (d = 8, 2 starts); a deep
ensemble (16 members, (128, 128) hidden, 5,000 rows, 30 epochs, no early stopping).

Usage::

    .venv/bin/python benchmarks/bench_estimates.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CASES = ("nuts-gaussian-100d", "nuts-eight-schools", "gp-2000", "gp-4000", "ensemble-16")


def gaussian(y=None):
    import numpyro
    import numpyro.distributions as dist

    scales = np.linspace(0.5, 2.0, 100).astype(np.float32)
    numpyro.sample("x", dist.Normal(0.0, scales).to_event(1))


def eight_schools(sigma, y=None):
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("schools", 8):
        offset = numpyro.sample("offset", dist.Normal(0.0, 1.0))
        theta = numpyro.deterministic("theta", mu + tau * offset)
        numpyro.sample("y", dist.Normal(theta, sigma), obs=y)


def _case(name: str):
    """``(run, args, kwargs)`` of one case."""
    import jax

    if name == "nuts-gaussian-100d":
        from bayeskit.infer import nuts

        options = {"num_chains": 8, "num_warmup": 1000, "num_samples": 10000, "chain_method": "vectorized"}
        return nuts, (gaussian,), {"key": jax.random.key(0), **options}
    if name == "nuts-eight-schools":
        from bayeskit.infer import nuts

        sigma = np.array([15, 10, 16, 11, 9, 11, 10, 18], np.float32)
        y = np.array([28, 8, -3, 7, -1, 1, 18, 12], np.float32)
        return nuts, (eight_schools, sigma), {"y": y, "key": jax.random.key(0)}
    rng = np.random.default_rng(0)
    if name.startswith("gp-"):
        from bayeskit.gp import GPRegressor

        rows = int(name.split("-")[1])
        x = rng.normal(size=(rows, 8))
        y = np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2 - x[:, 2] + 0.1 * rng.normal(size=rows)
        return GPRegressor(restarts=1).fit, (x, y), {}
    from bayeskit.nn import DeepEnsemble

    x = rng.normal(size=(5000, 10))
    y = np.sin(x).sum(axis=1) + 0.1 * rng.normal(size=5000)
    model = DeepEnsemble(members=16, hidden=(128, 128), epochs=30, validation_fraction=0.0, key=0)
    return model.fit, (x, y), {}


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def worker(name: str, mode: str) -> dict:
    """One measurement in this process: ``estimate``, ``time`` (the run, fresh) or ``memory`` (after a dry run)."""
    import gc

    from bayeskit.resources import estimate

    run, args, kwargs = _case(name)
    if mode == "estimate":
        began = time.perf_counter()
        plan = estimate(run, *args, **kwargs)
        return {**plan.to_dict(), "dry_run_s": time.perf_counter() - began}
    if mode == "time":
        began = time.perf_counter()
        run(*args, **kwargs)
        return {"seconds": time.perf_counter() - began}
    peaks = []
    for _ in range(2):  # the first run compiles; the second reuses every compiled program
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM back to the resting size
        resting = _status("VmRSS")
        run(*args, **kwargs)
        peaks.append(_status("VmHWM") - resting)
        run, args, kwargs = _case(name)  # a fresh estimator
    return {"first_peak_bytes": peaks[0], "peak_bytes": peaks[1]}


def _in_fresh_process(name: str, mode: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--worker", name, mode], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    rows = []
    for name in CASES:
        plan = _in_fresh_process(name, "estimate")
        timed = _in_fresh_process(name, "time")
        memory = _in_fresh_process(name, "memory")
        estimated = sum(plan["memory_bytes"].values())
        seconds = plan["seconds"] + (plan["compile_seconds"] or 0.0)
        rows.append(
            (
                name,
                estimated / 2**20,
                memory["peak_bytes"] / 2**20,
                estimated / max(memory["peak_bytes"], 1),
                memory["first_peak_bytes"] / 2**20,
                seconds,
                timed["seconds"],
                seconds / timed["seconds"],
                plan["dry_run_s"],
            )
        )
        print(json.dumps({"case": name, "plan": plan, "timed": timed, "memory": memory}), file=sys.stderr)
    print(
        "| case | memory estimated (MiB) | peak, compiled run (MiB) | ratio | peak, first run (MiB) "
        "| time estimated (s) | measured (s) | ratio | dry run (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row[0]} | {row[1]:.1f} | {row[2]:.1f} | {row[3]:.2f} | {row[4]:.1f} | {row[5]:.1f} | {row[6]:.1f} "
            f"| {row[7]:.2f} | {row[8]:.1f} |"
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
    else:
        main()
