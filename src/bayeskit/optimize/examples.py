"""A bundled tuning problem: a deep ensemble's learning rate, weight decay and width on the bundled table.

``tune_ensemble(params)`` trains ``bayeskit.nn.DeepEnsemble`` on 60% of the bundled
``uq_regression`` rows and returns the mean negative log predictive density of
another 20% (lower is better). ``ENSEMBLE_SPACE`` is its search space. Run it with
``bayeskit optimize`` (no target), or as ``bayeskit.optimize.examples:tune_ensemble``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayeskit.optimize.space import Categorical, Float, SearchSpace

__all__ = ["ENSEMBLE_SPACE", "tune_ensemble"]

ENSEMBLE_SPACE = SearchSpace(
    {
        "learning_rate": Float(1e-4, 3e-1, log=True),
        "weight_decay": Float(1e-6, 1e-1, log=True),
        "width": Categorical((16, 64)),
    }
)


def tune_ensemble(params: dict[str, Any]) -> float:
    """Held-out NLL of a 3-member deep ensemble trained with ``params`` (early stopping inside the training rows)."""
    from bayeskit.datasets import load_dataset
    from bayeskit.nn import DeepEnsemble

    frame = load_dataset("uq_regression")
    order = np.random.default_rng(0).permutation(len(frame))
    train, valid = order[: int(0.6 * len(frame))], order[int(0.6 * len(frame)) : int(0.8 * len(frame))]
    features = ["x1", "x2"]
    model = DeepEnsemble(
        members=3,
        hidden=(int(params["width"]),),
        learning_rate=float(params["learning_rate"]),
        weight_decay=float(params["weight_decay"]),
        epochs=150,
        patience=20,
    ).fit(frame.iloc[train][features], frame["y"].iloc[train])
    return float(-np.mean(model.predictive(frame.iloc[valid][features]).log_prob(frame["y"].iloc[valid])))
