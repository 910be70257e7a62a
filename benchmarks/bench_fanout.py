"""Independent fits fanned out over worker processes: SBC replicates and ensemble members, beside joblib.

- SBC of NUTS on a logistic regression (3,000 rows, 16 features; about 0.5 s a fit), ``--simulations`` replicates: bayeskit's
  ``sbc(...)`` in this process, ``sbc(..., workers=N)`` (spawned worker processes; their start-up and their
  own JAX compilation are timed), and the same replicate function run by ``joblib.Parallel(n_jobs=N)``
  (loky processes: what a user would otherwise write around a fitting loop). The ranks of every run are
  checked equal to the serial run's. The persistent compilation cache is on (as in the ``bayeskit`` command),
  so the workers load the programs this process compiled rather than compiling them again.
- A deep ensemble of ``--members`` networks on ``--rows`` rows: the one vectorized program (the default)
  against members trained apart in N worker processes (``DeepEnsemble(workers=N)``).

Usage::

    .venv/bin/python benchmarks/bench_fanout.py [--simulations 40] [--workers 2] [--members 8]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import numpyro
import numpyro.distributions as dist


def logistic(x, y=None):
    w = numpyro.sample("w", dist.Normal(0.0, 1.0).expand([x.shape[1]]).to_event(1))
    b = numpyro.sample("b", dist.Normal(0.0, 1.0))
    numpyro.sample("y", dist.Bernoulli(logits=x @ w + b), obs=y)


X = np.random.default_rng(0).normal(size=(3000, 16)).astype(np.float32)
NUTS = {"num_chains": 2, "num_warmup": 1000, "num_samples": 1000}  # about 0.5 s a fit on one core


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def sbc_rows(simulations: int, workers: int) -> list[dict]:
    import jax
    from joblib import Parallel, delayed

    from bayeskit.infer import sbc

    sbc_module = sys.modules["bayeskit.infer.sbc"]  # the module (its name is shadowed by the function)

    options = {"key": jax.random.key(0), "observed": "y", "engine": "nuts", "num_simulations": simulations,
               "engine_kwargs": NUTS}  # fmt: skip
    sbc(logistic, X, **{**options, "num_simulations": 2})  # compiles this process's programs
    serial_s, serial = timed(lambda: sbc(logistic, X, **options))
    parallel_s, parallel = timed(lambda: sbc(logistic, X, workers=workers, **options))
    assert np.array_equal(serial.ranks["w"], parallel.ranks["w"])

    # joblib around the same replicate function (bayeskit.infer.sbc's own), with the same keys and data
    calls = []
    original = sbc_module.fan_out

    def joblib_fan_out(fn, items, **_):
        calls.append(1)
        return Parallel(n_jobs=workers)(delayed(fn)(item) for item in items)

    sbc_module.fan_out = joblib_fan_out
    try:
        joblib_s, joblib_result = timed(lambda: sbc(logistic, X, **options))
    finally:
        sbc_module.fan_out = original
    assert calls and np.array_equal(serial.ranks["w"], joblib_result.ranks["w"])
    return [
        {"task": f"SBC, NUTS, {simulations} fits", "method": "bayeskit sbc()", "workers": 1, "seconds": serial_s},
        {"task": f"SBC, NUTS, {simulations} fits", "method": "bayeskit sbc(workers=N)", "workers": workers,
         "seconds": parallel_s, "vs": serial_s},
        {"task": f"SBC, NUTS, {simulations} fits", "method": "joblib.Parallel (loky)", "workers": workers,
         "seconds": joblib_s, "vs": serial_s},
    ]  # fmt: skip


def ensemble_rows(members: int, rows: int, workers: int) -> list[dict]:
    from bayeskit.nn import DeepEnsemble

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 8))
    y = np.sin(x[:, 0]) + x[:, 1] ** 2 / 4 + 0.1 * rng.normal(size=rows)
    settings = {"members": members, "hidden": (64, 64), "epochs": 60, "validation_fraction": 0.0}
    DeepEnsemble(**{**settings, "epochs": 2}).fit(x, y)  # compiles the vectorized program
    together_s, together = timed(lambda: DeepEnsemble(**settings).fit(x, y))
    apart_s, apart = timed(lambda: DeepEnsemble(**settings, workers=workers).fit(x, y))
    x_test = rng.normal(size=(2000, 8))
    y_test = np.sin(x_test[:, 0]) + x_test[:, 1] ** 2 / 4 + 0.1 * rng.normal(size=2000)
    nll = [-float(np.mean(m.predictive(x_test).log_prob(y_test))) for m in (together, apart)]
    task = f"deep ensemble, {members} members, {rows} rows, 60 epochs"
    return [
        {"task": task, "method": "bayeskit DeepEnsemble (one vmap program)", "workers": 1, "seconds": together_s},
        {"task": task, "method": "bayeskit DeepEnsemble(workers=N), members apart", "workers": workers,
         "seconds": apart_s, "vs": together_s, "note": f"test NLL {nll[1]:.3f} (one program: {nll[0]:.3f})"},
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--simulations", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    import bayeskit.compilation_cache

    bayeskit.compilation_cache.enable_compilation_cache()  # as the CLI does; workers share it (and each still traces)
    results = sbc_rows(args.simulations, args.workers) + ensemble_rows(args.members, args.rows, args.workers)
    print("| task | method | workers | wall time (s) | speed-up | note |\n|---|---|---|---|---|---|")
    for row in results:
        print(json.dumps(row), file=sys.stderr)
        speedup = f"{row['vs'] / row['seconds']:.2f}x" if "vs" in row else ""
        print(f"| {row['task']} | {row['method']} | {row['workers']} | {row['seconds']:.2f} | {speedup} "
              f"| {row.get('note', '')} |")  # fmt: skip


if __name__ == "__main__":
    main()
