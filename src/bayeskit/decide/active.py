"""Active learning: label next the pool points the model is most uncertain about, and check it beats random picks.

Any bayeskit model with ``fit(X, y)`` and ``predictive(X)`` works: a GP, a deep
ensemble, MC dropout, SWAG, Bayes-by-backprop. Strategies:

- ``"variance"``: the largest epistemic variance of the latent function (regression),
  or the largest predictive variance ``sum_c p_c (1 - p_c)`` (classification);
- ``"bald"``: the largest mutual information between the label and the model
  (Houlsby et al. 2011); for a Gaussian latent with Gaussian noise it is
  ``log(1 + epistemic / aleatoric) / 2``, for classes the epistemic part of the entropy;
- ``"random"``: uniform picks, the baseline.

:func:`compare_strategies` runs each strategy from the same random initial labels
over several seeds and returns learning curves (held-out RMSE and NLL, or accuracy
and NLL, against the number of labels).

References
----------
Houlsby, N., Huszár, F., Ghahramani, Z. & Lengyel, M. (2011). Bayesian active learning for classification
and preference learning. arXiv:1112.5745.
MacKay, D. J. C. (1992). Information-based objective functions for active data selection. Neural Computation 4(4).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayeskit._rng import as_generator
from bayeskit._validate import as_float_array, check_choice

__all__ = ["STRATEGIES", "ActiveLearningResult", "acquisition_scores", "compare_strategies"]

STRATEGIES = ("variance", "bald", "random")


def _is_classification(predictive: Any) -> bool:
    from bayeskit.predictive import CategoricalPredictive

    return isinstance(predictive, CategoricalPredictive)


def acquisition_scores(predictive: Any, strategy: str, rng: Any = None) -> np.ndarray:
    """Score each point of a predictive for labeling (larger = label sooner).

    Parameters
    ----------
    predictive
        A bayeskit predictive with ``decompose()`` (GP, network, mixture, categorical).
    strategy
        ``"variance"``, ``"bald"`` or ``"random"`` (needs ``rng``).
    rng
        NumPy Generator or seed, for ``"random"``.

    Examples
    --------
    >>> import numpy as np
    >>> from bayeskit.decide.active import acquisition_scores
    >>> from bayeskit.predictive import GaussianMixturePredictive
    >>> latent = np.array([0.1, 1.0, 0.5])
    >>> predictive = GaussianMixturePredictive.gaussian(np.zeros(3), latent + 0.5, latent)
    >>> np.round(acquisition_scores(predictive, "bald"), 3)
    array([0.091, 0.549, 0.347])

    """
    check_choice(strategy, "strategy", STRATEGIES)
    parts = predictive.decompose()
    size = np.asarray(parts.total).shape[0]
    if strategy == "random":
        if rng is None:
            raise ValueError("strategy 'random' needs `rng` (a NumPy Generator or an integer seed).")
        return as_generator(rng).random(size)
    if _is_classification(predictive):
        if strategy == "bald":
            return np.asarray(parts.epistemic, dtype=float)
        probabilities = np.asarray(predictive.mean())
        return np.sum(probabilities * (1.0 - probabilities), axis=1)
    epistemic = np.maximum(np.asarray(parts.epistemic, dtype=float), 0.0)
    if strategy == "variance":
        return epistemic
    aleatoric = np.maximum(np.asarray(parts.aleatoric, dtype=float), 1e-300)
    return 0.5 * np.log1p(epistemic / aleatoric)


def _metrics(predictive: Any, y: np.ndarray) -> dict[str, float]:
    if _is_classification(predictive):
        index = predictive.label_index(y)
        probabilities = np.asarray(predictive.mean())
        chosen = probabilities[np.arange(len(index)), index]
        return {
            "accuracy": float(np.mean(np.argmax(probabilities, axis=1) == index)),
            "nll": float(-np.mean(np.log(np.maximum(chosen, 1e-300)))),
        }
    return {
        "rmse": float(np.sqrt(np.mean((predictive.mean() - y) ** 2))),
        "nll": float(-np.mean(predictive.log_prob(y))),
    }


@dataclass(frozen=True)
class ActiveLearningResult:
    """Learning curves: ``curves[strategy][metric]`` is ``(num_seeds, rounds + 1)`` against ``num_labeled``."""

    num_labeled: np.ndarray
    curves: dict[str, dict[str, np.ndarray]]
    picked: dict[str, list[np.ndarray]]

    @property
    def metrics(self) -> list[str]:
        """The held-out metrics recorded (``rmse``/``accuracy`` and ``nll``)."""
        return list(next(iter(self.curves.values())))

    def summary(self) -> pd.DataFrame:
        """Mean and standard error of each metric per strategy, at the end and averaged over the curve."""
        rows = []
        for strategy, by_metric in self.curves.items():
            row = {"strategy": strategy}
            for metric, values in by_metric.items():
                seeds = values.shape[0]
                row[f"final {metric}"] = values[:, -1].mean()
                row[f"final {metric} se"] = values[:, -1].std(ddof=1) / math.sqrt(seeds) if seeds > 1 else np.nan
                row[f"mean {metric} over curve"] = values.mean()
            rows.append(row)
        return pd.DataFrame(rows).set_index("strategy")

    def plot(self, metric: str | None = None, ax=None):
        """Mean learning curve per strategy with ±2 standard errors; returns the axes."""
        import matplotlib.pyplot as plt

        metric = metric or self.metrics[0]
        check_choice(metric, "metric", tuple(self.metrics))
        if ax is None:
            _, ax = plt.subplots(figsize=(6.0, 4.0))
        for strategy, by_metric in self.curves.items():
            values = by_metric[metric]
            mean = values.mean(axis=0)
            se = values.std(axis=0, ddof=1) / math.sqrt(values.shape[0]) if values.shape[0] > 1 else 0 * mean
            ax.plot(self.num_labeled, mean, marker="o", label=strategy)
            ax.fill_between(self.num_labeled, mean - 2 * se, mean + 2 * se, alpha=0.2)
        ax.set_xlabel("labeled points")
        ax.set_ylabel(f"held-out {metric}")
        ax.set_title("active learning (band: ±2 SE over seeds)")
        ax.legend()
        return ax


def _check_data(x: Any, y: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(x, f"x_{name}")
    x = x[:, None] if x.ndim == 1 else x
    y = np.asarray(y)
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"`x_{name}` must be (n, n_features) and `y_{name}` (n,) with the same n; got {x.shape} and {y.shape}."
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`x_{name}` has NaN or inf values; impute or drop those rows first.")
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise ValueError(f"`y_{name}` has NaN or inf values; drop those rows first.")
    return x, y


def compare_strategies(
    make_model: Callable[[], Any],
    x_pool: Any,
    y_pool: Any,
    x_test: Any,
    y_test: Any,
    strategies: tuple[str, ...] | list[str] = STRATEGIES,
    initial: int = 10,
    batch_size: int = 5,
    rounds: int = 10,
    num_seeds: int = 5,
    seed: int = 0,
    progress: bool = False,
) -> ActiveLearningResult:
    """Run pool-based active learning with each strategy; return held-out learning curves.

    Parameters
    ----------
    make_model
        Returns a fresh unfitted model with ``fit(X, y)`` and ``predictive(X)`` (refitted each round).
    x_pool, y_pool
        The unlabeled pool and the labels an oracle would give.
    x_test, y_test
        Held-out data for the learning curves.
    strategies
        Any of ``"variance"``, ``"bald"``, ``"random"``.
    initial
        Random labels to start from (the same for every strategy in a seed).
    batch_size
        Points labeled per round.
    rounds
        Rounds of labeling.
    num_seeds
        Repetitions with different initial labels.
    seed
        Seed of the initial picks and of random picking.
    progress
        A progress bar over fits on stderr.

    Returns
    -------
    ActiveLearningResult

    Examples
    --------
    >>> import numpy as np
    >>> from bayeskit.decide.active import compare_strategies
    >>> from bayeskit.gp import GPRegressor
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-3, 3, (200, 1))
    >>> y = np.sin(2 * x[:, 0]) + rng.normal(0, 0.1, 200)
    >>> result = compare_strategies(lambda: GPRegressor(restarts=0, pad_to=32), x[:150], y[:150], x[150:], y[150:],
    ...                             strategies=("variance", "random"), initial=4, batch_size=2, rounds=4, num_seeds=2)
    >>> result.curves["variance"]["rmse"].shape
    (2, 5)

    """
    from bayeskit._progress import progress_bar

    if not callable(make_model):
        raise TypeError(f"`make_model` must be a function returning a new model; got {type(make_model).__name__}.")
    x_pool, y_pool = _check_data(x_pool, y_pool, "pool")
    x_test, y_test = _check_data(x_test, y_test, "test")
    if x_pool.shape[1] != x_test.shape[1]:
        raise ValueError(f"`x_pool` has {x_pool.shape[1]} features but `x_test` has {x_test.shape[1]}.")
    strategies = list(strategies)
    for strategy in strategies:
        check_choice(strategy, "strategy", STRATEGIES)
    for name, value in (("initial", initial), ("batch_size", batch_size), ("rounds", rounds), ("num_seeds", num_seeds)):
        if int(value) != value or value < 1:
            raise ValueError(f"`{name}` must be a whole number >= 1; got {value!r}.")
    needed = initial + batch_size * rounds
    if needed > len(x_pool):
        raise ValueError(
            f"the pool has {len(x_pool)} points but initial + batch_size * rounds = {needed}; "
            "use fewer rounds or a smaller batch."
        )
    curves = {s: {} for s in strategies}
    picked = {s: [] for s in strategies}
    fits = len(strategies) * num_seeds * (rounds + 1)
    with progress_bar("active learning fits", fits, progress) as advance:
        for repetition in range(num_seeds):
            start = np.random.default_rng([seed, repetition]).choice(len(x_pool), initial, replace=False)
            for strategy in strategies:
                rng = np.random.default_rng([seed, repetition, 1])
                labeled = list(start)
                history = []
                for round_index in range(rounds + 1):
                    model = make_model().fit(x_pool[labeled], y_pool[labeled])
                    history.append(_metrics(model.predictive(x_test), y_test))
                    advance(1)
                    if round_index == rounds:
                        break
                    unlabeled = np.setdiff1d(np.arange(len(x_pool)), labeled)
                    scores = acquisition_scores(model.predictive(x_pool[unlabeled]), strategy, rng)
                    labeled += unlabeled[np.argsort(-scores, kind="stable")[:batch_size]].tolist()
                picked[strategy].append(np.array(labeled))
                for metric in history[0]:
                    curves[strategy].setdefault(metric, []).append([h[metric] for h in history])
    curves = {s: {m: np.array(v) for m, v in by_metric.items()} for s, by_metric in curves.items()}
    num_labeled = initial + batch_size * np.arange(rounds + 1)
    return ActiveLearningResult(num_labeled, curves, picked)
