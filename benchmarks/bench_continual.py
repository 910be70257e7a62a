"""Continual learning on the bundled digits: online Laplace, EWC and VCL between fine-tuning and joint training.

Data: the 1,797 bundled 8x8 digits (pixels / 16), per seed a random 80/20 split of the rows.
Two sequences of five tasks, the standard protocols at the digits' scale:

- permuted pixels (domain-incremental, one shared output layer over the ten digits): task 0
  the images as they are, tasks 1-4 each with its own fixed random permutation of the 64 pixels;
- split classes (task-incremental, one output layer per task): digits 0/1, 2/3, 4/5, 6/7, 8/9.

Every method trains the same network (one hidden layer of 100 ReLUs), 40 epochs of Adam per task
(step 3e-3, cosine-decayed, batches of 64), prior N(0, 1) on every weight, VCL starting from a
posterior standard deviation of 0.1. ``strength`` (EWC's lambda, the online Laplace's curvature
scale) is chosen per method and sequence from 1, 3, 10, 30, 100 by the average accuracy on a
validation split (the last 20% of each task's training rows) of a separate seed (100), never on the test rows; the
five test seeds are 0-4. Reported: the average test accuracy over the five tasks after the last
one, the forgetting of the first task (its accuracy right after training it minus after the last
task), the share of the gap between fine-tuning (forgets) and joint training on every task so far (the
ceiling) that each method closes, and the predictive's expected calibration error after the last task
(mean over the tasks; the Laplace posteriors' prior precision chosen by their marginal likelihood).

Usage::

    .venv/bin/python benchmarks/bench_continual.py
"""

from __future__ import annotations

import time

import numpy as np

SEEDS = (0, 1, 2, 3, 4)
VALIDATION_SEED = 100
STRENGTHS = (1.0, 3.0, 10.0, 30.0, 100.0)
METHODS = ("finetune", "ewc", "online-laplace", "vcl", "joint")
SETTINGS = {"hidden": (100,), "epochs": 40, "batch_size": 64, "learning_rate": 3e-3, "init_std": 0.1}
PAIRS = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))


def sequence(kind: str, seed: int, validation: bool = False):
    """``(train_tasks, test_tasks)`` of one sequence (``bayeskit.datasets``) for one seed.

    ``validation``: the first 80% of each task's training rows to train, the rest to score (test rows unused).
    """
    from bayeskit.datasets import permuted_digits, split_digits

    train, test = permuted_digits(5, seed) if kind == "permuted" else split_digits(PAIRS, seed)
    if not validation:
        return train, test
    cuts = [int(0.8 * len(y)) for _, y in train]
    return [(x[:c], y[:c]) for (x, y), c in zip(train, cuts, strict=True)], [
        (x[c:], y[c:]) for (x, y), c in zip(train, cuts, strict=True)
    ]


def run(method: str, kind: str, train, test, seed: int, strength: float = 1.0, calibration: bool = False):
    """The accuracy matrix of one method on one sequence (and the final stage's mean ECE over the tasks)."""
    from bayeskit.nn import Continual

    heads = "shared" if kind == "permuted" else "per-task"
    model = Continual(method, heads=heads, strength=strength, key=seed, **SETTINGS)
    for task in train:
        model.fit_task(*task)
    matrix = model.accuracy_matrix(test)
    if not calibration:
        return matrix
    task = (lambda j: j) if heads == "per-task" else (lambda j: None)
    ece = [model.predictive(x, task=task(j)).evaluate(y)["ece"] for j, (x, y) in enumerate(test)]
    return matrix, float(np.mean(ece))


def choose_strength(method: str, kind: str) -> float:
    """The strength with the best validation average accuracy on the validation seed."""
    from bayeskit.nn import continual_metrics

    train, valid = sequence(kind, VALIDATION_SEED, validation=True)
    scores = {
        s: continual_metrics(run(method, kind, train, valid, VALIDATION_SEED, s))["average_accuracy"] for s in STRENGTHS
    }
    print(
        f"  {kind} {method}: validation accuracy by strength {', '.join(f'{s:g}: {v:.3f}' for s, v in scores.items())}"
    )
    return max(scores, key=scores.get)


def main() -> None:
    from bayeskit.nn import continual_metrics

    print(f"the bundled digits; seeds {SEEDS}; settings {SETTINGS}")
    for kind in ("permuted", "split"):
        strengths = {m: choose_strength(m, kind) for m in ("ewc", "online-laplace")}
        results: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
        calibration: dict[str, list[float]] = {m: [] for m in METHODS}
        seconds = dict.fromkeys(METHODS, 0.0)
        for seed in SEEDS:
            train, test = sequence(kind, seed)
            for method in METHODS:
                start = time.perf_counter()
                matrix, ece = run(method, kind, train, test, seed, strengths.get(method, 1.0), calibration=True)
                seconds[method] += time.perf_counter() - start
                results[method].append(continual_metrics(matrix))
                calibration[method].append(ece)
        average = {m: np.array([r["average_accuracy"] for r in results[m]]) for m in METHODS}
        low, high = average["finetune"], average["joint"]
        print(f"\n{kind}: strengths chosen {strengths}")
        print(
            "| method | strength | average accuracy | first-task forgetting | gap closed | ECE after the last task "
            "| seconds per sequence |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for method in METHODS:
            acc = average[method]
            forgetting = np.array([r["first_task_forgetting"] for r in results[method]])
            closed = (acc - low) / (high - low)
            strength = f"{strengths[method]:g}" if method in strengths else "-"
            print(
                f"| {method} | {strength} | {acc.mean():.3f} +- {acc.std(ddof=1):.3f} | {forgetting.mean():.3f} "
                f"+- {forgetting.std(ddof=1):.3f} | {closed.mean():.2f} (min {closed.min():.2f}) "
                f"| {np.mean(calibration[method]):.3f} | {seconds[method] / len(SEEDS):.1f} |"
            )


if __name__ == "__main__":
    main()
