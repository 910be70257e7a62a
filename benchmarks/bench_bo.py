"""Bayesian optimization: bayeskit's Study (log-EI) vs random search vs Optuna's TPE, fixed budgets, many seeds.

Each method minimizes Branin (2-D) and Hartmann-6 (6-D) with 50 evaluations per run,
20 seeds each; reported: the median over seeds of the best value after 10, 20, 30 and 50
evaluations, and the gap to the known minimum. Also the suggestion latency of a study
holding 100 trials. (Optuna's GP sampler needs PyTorch, which bayeskit does not use.)

Usage::

    .venv/bin/python benchmarks/bench_bo.py [--seeds 20] [--budget 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

HARTMANN_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
HARTMANN_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def branin(p: dict) -> float:
    x1, x2 = p["x0"], p["x1"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(p: dict) -> float:
    x = np.array([p[f"x{i}"] for i in range(6)])
    return float(-np.sum(HARTMANN_ALPHA * np.exp(-np.sum(HARTMANN_A * (x - HARTMANN_P) ** 2, axis=1))))


PROBLEMS = {
    "Branin": (branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887),
    "Hartmann-6": (hartmann6, [(0.0, 1.0)] * 6, -3.32237),
}


def _bayeskit(function, bounds, budget, seed):
    from bayeskit.optimize import Float, SearchSpace, minimize

    space = SearchSpace({f"x{i}": Float(low, high) for i, (low, high) in enumerate(bounds)})
    return minimize(function, space, budget, seed=seed).trials()["value"].to_numpy()


def _random(function, bounds, budget, seed):
    rng = np.random.default_rng(seed)
    return np.array(
        [function({f"x{i}": rng.uniform(low, high) for i, (low, high) in enumerate(bounds)}) for _ in range(budget)]
    )


def _tpe(function, bounds, budget, seed):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(
        lambda trial: function(
            {f"x{i}": trial.suggest_float(f"x{i}", low, high) for i, (low, high) in enumerate(bounds)}
        ),
        n_trials=budget,
    )
    return np.array([t.value for t in study.trials])


METHODS = {"bayeskit (log-EI)": _bayeskit, "random search": _random, "Optuna TPE": _tpe}


def run(seeds: int, budget: int) -> dict:
    results = {}
    for problem, (function, bounds, minimum) in PROBLEMS.items():
        for method, runner in METHODS.items():
            start = time.perf_counter()
            curves = np.stack([np.minimum.accumulate(runner(function, bounds, budget, s)) for s in range(seeds)])
            seconds = time.perf_counter() - start
            checkpoints = {str(k): float(np.median(curves[:, k - 1])) for k in (10, 20, 30, budget)}
            results.setdefault(problem, {})[method] = {
                "median_best": checkpoints,
                "median_gap_final": float(np.median(curves[:, -1] - minimum)),
                "seconds": seconds,
                "curves": curves.tolist(),
            }
            print(problem, method, checkpoints, f"{seconds:.0f} s", file=sys.stderr, flush=True)
    results["latency"] = latency()
    return results


def latency(num_trials: int = 100) -> dict:
    """Seconds per ``ask`` of a Hartmann-6 study once it holds ``num_trials`` trials (median of 5 asks)."""
    from bayeskit.optimize import Float, SearchSpace, Study

    study = Study(SearchSpace({f"x{i}": Float(0.0, 1.0) for i in range(6)}), seed=0)
    study.optimize(hartmann6, num_trials)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        trial = study.ask()
        times.append(time.perf_counter() - start)
        study.tell(trial, hartmann6(trial.params))
    row = {"trials": num_trials, "median_ask_s": float(np.median(times)), "max_ask_s": float(np.max(times))}
    print("latency", row, file=sys.stderr, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    results = run(args.seeds, args.budget)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle)


if __name__ == "__main__":
    main()
