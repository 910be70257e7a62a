"""Parallel Bayesian optimization: wall time of a study with 1 and N workers, beside Optuna's threads.

The objective is Branin after ``--sleep`` seconds of waiting (a stand-in for a training run whose time
is spent elsewhere: a GPU, a service), so the speed-up measures the driver's scheduling, not the CPUs.
Every run reaches ``--trials`` finished trials from an empty in-memory study, after one untimed study of the
same size has compiled the suggester's programs (the first run would otherwise pay seconds of compilation
that later ones do not):

- bayeskit ``Study.optimize(workers=1)``: the plain loop in this process;
- bayeskit ``workers=N``: N spawned worker processes (their start-up, which imports bayeskit, is timed);
- bayeskit ``executor="ray"``: N Ray tasks at once on a local Ray instance started beforehand (its start-up
  is reported apart: a cluster is started once and serves many studies);
- Optuna TPE ``study.optimize(n_jobs=1)`` and ``n_jobs=N`` (threads, Optuna's own parallelism).

Then the quality of parallel suggestions, without waiting: over ``--quality-seeds`` seeds, the median best
value after ``--trials`` trials when N trials are always pending (ask N ahead, tell the oldest) against
one at a time, for bayeskit (kriging believer) and Optuna TPE (its ask/tell, which does not model pending
trials unless asked to).

Usage::

    .venv/bin/python benchmarks/bench_parallel.py [--trials 40] [--workers 4] [--sleep 1] [--quality-seeds 10]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time


def branin(x: float, y: float) -> float:
    """The Branin function (minimum 0.397887)."""
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


class SlowBranin:
    """Branin after ``sleep`` seconds; a picklable callable, so workers get the same wait."""

    def __init__(self, sleep: float):
        self.sleep = sleep

    def __call__(self, params: dict) -> float:
        time.sleep(self.sleep)
        return branin(params["x"], params["y"])


def bayeskit_run(trials: int, sleep: float, **options) -> tuple[float, float]:
    from bayeskit.optimize import Float, SearchSpace, Study

    study = Study(SearchSpace({"x": Float(-5.0, 10.0), "y": Float(0.0, 15.0)}), seed=0)
    start = time.perf_counter()
    study.optimize(SlowBranin(sleep), trials, **options)
    seconds = time.perf_counter() - start
    table = study.trials()
    assert len(table) == trials and (table["state"] == "complete").all(), table
    assert table["number"].is_unique
    return seconds, study.best_value


def pending_quality(trials: int, pending: int, seed: int) -> tuple[float, float | None]:
    """Best value after ``trials`` when ``pending`` trials are always outstanding: (bayeskit, Optuna)."""
    from bayeskit.optimize import Float, SearchSpace, Study

    study = Study(SearchSpace({"x": Float(-5.0, 10.0), "y": Float(0.0, 15.0)}), seed=seed)
    queue = []
    for _ in range(trials):
        queue.append(study.ask())
        if len(queue) == pending:
            trial = queue.pop(0)
            study.tell(trial, branin(trial.params["x"], trial.params["y"]))
    for trial in queue:
        study.tell(trial, branin(trial.params["x"], trial.params["y"]))
    try:
        import optuna
    except ImportError:
        return study.best_value, None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    peer = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    outstanding = []
    for _ in range(trials):
        trial = peer.ask()
        outstanding.append((trial, trial.suggest_float("x", -5, 10), trial.suggest_float("y", 0, 15)))
        if len(outstanding) == pending:
            trial, x, y = outstanding.pop(0)
            peer.tell(trial, branin(x, y))
    for trial, x, y in outstanding:
        peer.tell(trial, branin(x, y))
    return study.best_value, peer.best_value


def optuna_run(trials: int, sleep: float, jobs: int) -> tuple[float, float] | None:
    try:
        import optuna
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    objective = SlowBranin(sleep)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    start = time.perf_counter()
    study.optimize(lambda t: objective({"x": t.suggest_float("x", -5, 10), "y": t.suggest_float("y", 0, 15)}),
                   n_trials=trials, n_jobs=jobs)  # fmt: skip
    return time.perf_counter() - start, study.best_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sleep", type=float, default=1.0)
    parser.add_argument("--quality-seeds", type=int, default=10)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    n, trials, sleep = args.workers, args.trials, args.sleep
    rows = []

    def add(method, workers, result, serial=None):
        if result is None:
            print(f"{method}: skipped (not installed)", file=sys.stderr)
            return
        seconds, best = result
        ideal = trials * sleep / workers
        rows.append({"method": method, "workers": workers, "seconds": round(seconds, 2), "ideal": round(ideal, 2),
                     "speedup": None if serial is None else round(serial / seconds, 2), "best": round(best, 4)})  # fmt: skip
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    start = time.perf_counter()
    bayeskit_run(trials, 0.0)
    print(f"warm-up study (compiles the suggester): {time.perf_counter() - start:.1f} s", file=sys.stderr)
    serial = bayeskit_run(trials, sleep)
    add("bayeskit", 1, serial)
    add("bayeskit (processes)", n, bayeskit_run(trials, sleep, workers=n), serial[0])
    if not args.no_ray:
        import ray

        start = time.perf_counter()
        ray.init(num_cpus=n, include_dashboard=False, log_to_driver=False)
        print(f"ray.init: {time.perf_counter() - start:.1f} s", file=sys.stderr)
        add("bayeskit (Ray tasks)", n, bayeskit_run(trials, sleep, executor="ray", workers=n), serial[0])
        ray.shutdown()
    optuna_serial = optuna_run(trials, sleep, 1)
    add("Optuna TPE", 1, optuna_serial)
    if optuna_serial is not None:
        add("Optuna TPE (threads)", n, optuna_run(trials, sleep, n), optuna_serial[0])

    print("| method | workers | wall time (s) | trials x sleep / workers (s) | speed-up vs 1 worker | best value |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        speedup = "" if row["speedup"] is None else f"{row['speedup']:.2f}x"
        print(f"| {row['method']} | {row['workers']} | {row['seconds']:.2f} | {row['ideal']:.2f} | {speedup} "
              f"| {row['best']:.4f} |")  # fmt: skip

    if args.quality_seeds:
        import numpy as np

        print(f"\n| method | median best of {trials} (1 at a time) | median best ({n} pending) |\n|---|---|---|")
        runs = {k: np.array([pending_quality(trials, k, seed) for seed in range(args.quality_seeds)], dtype=float)
                for k in (1, n)}  # fmt: skip
        for column, method in enumerate(("bayeskit (kriging believer)", "Optuna TPE")):
            one, many = np.median(runs[1][:, column]), np.median(runs[n][:, column])
            print(f"| {method} | {one:.4f} | {many:.4f} |")


if __name__ == "__main__":
    main()
