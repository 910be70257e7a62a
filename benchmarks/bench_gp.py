"""Exact GP hyperparameter fitting: bayeskit.gp.GPRegressor vs scikit-learn's GaussianProcessRegressor.

Same data (d = 8, a smooth function plus noise), same model (ARD Matérn 5/2 with a
signal variance and a learned noise variance, target standardized), one start each
(no restarts), both maximizing the log marginal likelihood with L-BFGS-B. Reported:
wall time of ``fit`` (bayeskit's includes compiling its objective, shown apart) and the
log marginal likelihood each reached, on the standardized target.

Usage::

    .venv/bin/python benchmarks/bench_gp.py [--sizes 500 1000 2000 4000] [--json out.json]
    .venv/bin/python benchmarks/bench_gp.py --first-fits --sizes 500 1000   # a fresh process's first fit,
                                                   # cold and then warm persistent compilation cache
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import numpy as np


def data(n: int, d: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, d))
    f = 10 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2 + 10 * x[:, 3] + 5 * x[:, 4]  # Friedman 1
    return x, f + rng.normal(size=n)


def run(sizes) -> list[dict]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    from bayeskit.gp import GPRegressor, Matern52

    rows = []
    for n in sizes:
        x, y = data(n)
        start = time.perf_counter()
        ours = GPRegressor(Matern52(np.ones(8)), restarts=0).fit(x, y)
        first = time.perf_counter() - start
        start = time.perf_counter()
        ours = GPRegressor(Matern52(np.ones(8)), restarts=0).fit(x, y)  # compiled objective reused
        steady = time.perf_counter() - start
        ours_lml = ours.log_marginal_likelihood_ + n * np.log(ours.y_std_)  # on the standardized target
        kernel = ConstantKernel(1.0) * Matern(np.ones(8), nu=2.5) + WhiteKernel(0.1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            theirs = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0).fit(x, y)
            their_time = time.perf_counter() - start
        row = {
            "n": n,
            "bayeskit_s": steady,
            "bayeskit_first_s": first,
            "sklearn_s": their_time,
            "speedup": their_time / steady,
            "bayeskit_lml": float(ours_lml),
            "sklearn_lml": float(theirs.log_marginal_likelihood_value_),
            "bayeskit_evaluations": int(ours.optimizer_result_.evaluations),
        }
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def _first_fit_child(n: int) -> None:
    """In a fresh process: the session's first fit, with bayeskit's persistent compilation cache on."""
    from bayeskit.compilation_cache import enable_compilation_cache
    from bayeskit.gp import GPRegressor, Matern52

    enable_compilation_cache()
    x, y = data(n)
    start = time.perf_counter()
    GPRegressor(Matern52(np.ones(8)), restarts=0).fit(x, y)
    print(json.dumps({"first_fit_s": time.perf_counter() - start}))


def first_fits(sizes) -> list[dict]:
    """A user's first fit of a session: a fresh process with an empty cache, then another with the cache warm."""
    import os
    import subprocess
    import tempfile

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as folder:
            env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
            env["BAYESKIT_CACHE_DIR"] = folder
            times = []
            for _ in ("cold", "warm"):
                out = subprocess.run(
                    [sys.executable, __file__, "--first-fit-child", str(n)], env=env, capture_output=True, text=True
                )
                times.append(json.loads(out.stdout.strip().splitlines()[-1])["first_fit_s"])
        x, y = data(n)
        kernel = ConstantKernel(1.0) * Matern(np.ones(8), nu=2.5) + WhiteKernel(0.1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            GaussianProcessRegressor(kernel, normalize_y=True, random_state=0).fit(x, y)
            their_time = time.perf_counter() - start
        row = {
            "n": n,
            "first_fit_cold_cache_s": times[0],
            "first_fit_warm_cache_s": times[1],
            "sklearn_s": their_time,
            "speedup_cold": their_time / times[0],
            "speedup_warm": their_time / times[1],
        }
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[500, 1000, 2000, 4000])
    parser.add_argument("--first-fits", action="store_true", help="time a fresh process's first fit instead")
    parser.add_argument("--first-fit-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    if args.first_fit_child:
        _first_fit_child(args.first_fit_child)
        return
    rows = first_fits(args.sizes) if args.first_fits else run(args.sizes)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
