"""Bayesian optimization: bayeskit's Study (log-EI) vs random search vs Optuna's TPE, fixed budgets, many seeds.

Each method minimizes Branin (2-D), Hartmann-6 (6-D) and a real tuning problem (the bundled
``bayeskit.optimize.examples.tune_ensemble``: a deep ensemble's log learning rate, log weight
decay and width, scored by held-out NLL) with 50 evaluations per run, 20 seeds each; reported:
the median over seeds of the best value after 10, 20, 30 and 50 evaluations, and the gap to the
known minimum where there is one. Also the suggestion latency of a study holding 100 trials.
(Optuna's GP sampler needs PyTorch, which bayeskit does not use.)

Usage::

    .venv/bin/python benchmarks/bench_bo.py [--seeds 20] [--budget 50] [--problems Branin,...] [--json out.json]
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


def _box(bounds):
    from bayeskit.optimize import Float, SearchSpace

    return SearchSpace({f"x{i}": Float(low, high) for i, (low, high) in enumerate(bounds)})


def _problems() -> dict:
    """Name -> (function, search space, known minimum or None)."""
    from bayeskit.optimize.examples import ENSEMBLE_SPACE, tune_ensemble

    return {
        "Branin": (branin, _box([(-5.0, 10.0), (0.0, 15.0)]), 0.397887),
        "Hartmann-6": (hartmann6, _box([(0.0, 1.0)] * 6), -3.32237),
        "Ensemble tuning": (tune_ensemble, ENSEMBLE_SPACE, None),
    }


def _bayeskit(function, space, budget, seed):
    from bayeskit.optimize import minimize

    return minimize(function, space, budget, seed=seed).trials()["value"].to_numpy()


def _random(function, space, budget, seed):
    rng = np.random.default_rng(seed)
    return np.array([function(space.decode(rng.uniform(size=space.dimension))) for _ in range(budget)])


def _suggest(trial, name, dimension):
    from bayeskit.optimize import Categorical, Integer

    if isinstance(dimension, Categorical):
        return trial.suggest_categorical(name, list(dimension.choices))
    if isinstance(dimension, Integer):
        return trial.suggest_int(name, int(dimension.low), int(dimension.high), log=dimension.log)
    return trial.suggest_float(name, dimension.low, dimension.high, log=dimension.log)


def _tpe(function, space, budget, seed):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(
        lambda trial: function({name: _suggest(trial, name, dim) for name, dim in space.parameters.items()}),
        n_trials=budget,
    )
    return np.array([t.value for t in study.trials])


METHODS = {"bayeskit (log-EI)": _bayeskit, "random search": _random, "Optuna TPE": _tpe}


def run(seeds: int, budget: int, problems: list[str] | None = None, latency_check: bool = True) -> dict:
    results = {}
    for problem, (function, space, minimum) in _problems().items():
        if problems and problem not in problems:
            continue
        for method, runner in METHODS.items():
            start = time.perf_counter()
            curves = np.stack([np.minimum.accumulate(runner(function, space, budget, s)) for s in range(seeds)])
            seconds = time.perf_counter() - start
            checkpoints = {str(k): float(np.median(curves[:, k - 1])) for k in (10, 20, 30, budget)}
            results.setdefault(problem, {})[method] = {
                "median_best": checkpoints,
                "median_gap_final": None if minimum is None else float(np.median(curves[:, -1] - minimum)),
                "seconds": seconds,
                "curves": curves.tolist(),
            }
            print(problem, method, checkpoints, f"{seconds:.0f} s", file=sys.stderr, flush=True)
    if latency_check:
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
    parser.add_argument("--problems", help="comma-separated subset of: Branin, Hartmann-6, Ensemble tuning")
    parser.add_argument("--no-latency", action="store_true", help="skip the suggestion-latency measurement")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    problems = [p.strip() for p in args.problems.split(",")] if args.problems else None
    results = run(args.seeds, args.budget, problems, not args.no_latency)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle)


if __name__ == "__main__":
    main()
