"""The GP surrogate of a study along each numeric parameter, the others held at the best trial.

Computed here, rendered by ``bayeskit.report.optimize``: reports draw results and never fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["gp_slices"]


def gp_slices(study: Any, num_points: int = 200) -> list[dict[str, Any]]:
    """Posterior mean and sd of a GP fitted to the complete trials, along each numeric parameter.

    Returns
    -------
    list of dict
        One per numeric parameter: ``name``, ``values`` (the grid in the parameter's
        units), ``mean`` and ``std`` of the objective there, ``trial_values`` and
        ``trial_objectives`` (the complete trials) and ``log`` (a log-scale parameter).
        Empty with fewer than 3 complete trials or no numeric parameter.
    """
    from bayeskit.gp import GPRegressor, Matern52
    from bayeskit.optimize.space import Categorical

    table = study.trials()
    complete = table[table["state"] == "complete"]
    numeric = [(n, d) for n, d in study.space.parameters.items() if not isinstance(d, Categorical)]
    if len(complete) < 3 or not numeric:
        return []
    params = complete[list(study.space.parameters)].to_dict(orient="records")
    x = np.stack([study.space.encode(p) for p in params])
    y = complete["value"].to_numpy(dtype=float)
    model = GPRegressor(Matern52(np.full(x.shape[1], 0.5)), noise_variance=1e-4, restarts=1).fit(x, y)
    best = study.space.encode(study.best_params)
    offsets, start = {}, 0
    for name, dimension in study.space.parameters.items():
        offsets[name] = start
        start += dimension.width
    slices = []
    grid = np.linspace(0, 1, num_points)
    for name, dimension in numeric:
        points = np.repeat(best[None], grid.size, axis=0)
        points[:, offsets[name]] = grid
        mean, std = model.predict(points, return_std=True)
        slices.append(
            {
                "name": name,
                "values": np.array([dimension.decode(np.array([g])) for g in grid], dtype=float),
                "mean": np.asarray(mean),
                "std": np.asarray(std),
                "trial_values": complete[name].to_numpy(dtype=float),
                "trial_objectives": y,
                "log": bool(getattr(dimension, "log", False)),
            }
        )
    return slices
