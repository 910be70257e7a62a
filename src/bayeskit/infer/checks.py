"""Looking at a fit: trace and rank plots (ArviZ), prior and posterior predictive checks with plots.

A predictive check compares the observed data with data replicated from the model
(from the prior before fitting, from the posterior after). For each test statistic
T the Bayesian p-value is P(T(y_rep) >= T(y)); values near 0 or 1 say the model
cannot reproduce that feature of the data (Gelman, Meng & Stern, 1996).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "STATISTICS",
    "plot_predictive_check",
    "plot_rank",
    "plot_trace",
    "predictive_check",
    "prior_predictive",
]

STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": lambda y: y.mean(axis=-1),
    "std": lambda y: y.std(axis=-1),
    "min": lambda y: y.min(axis=-1),
    "max": lambda y: y.max(axis=-1),
}
_EXTREME = 0.01


def _components(idata: Any, var_names: list[str] | None, limit: int) -> list[str]:
    names = var_names or list(idata.posterior.data_vars)
    chosen, count = [], 0
    for name in names:
        size = int(np.prod(idata.posterior[name].shape[2:]))
        if count + size > limit and chosen:
            break
        chosen.append(name)
        count += size
    return chosen


def _figure(collection: Any, title: str):
    """The matplotlib Figure behind an arviz-plots ``PlotCollection``, detached from pyplot's registry."""
    import matplotlib.pyplot as plt

    figure = collection.viz["figure"].item()
    plt.close(figure)
    figure.suptitle(title)
    return figure


MAX_TRACE_ROWS = 8


def _labelled(idata: Any, labels: dict[str, list[str]] | None) -> Any:
    """``idata`` with the first non-chain, non-draw dimension of each site in ``labels`` named by those labels."""
    if not labels:
        return idata
    data = idata.posterior.to_dataset()
    for site, names in labels.items():
        if site in data and data[site].ndim > 2 and data[site].shape[2] == len(names):
            data = data.assign_coords({data[site].dims[2]: [str(name) for name in names]})
    idata = idata.copy()
    idata["posterior"] = data
    return idata


def plot_trace(
    posterior: Any, var_names: list[str] | None = None, max_sites: int = 6, labels: dict[str, list[str]] | None = None
):
    """ArviZ trace plot (densities per chain, left; draws in order, right) of up to ``max_sites`` sites.

    Up to ``MAX_TRACE_ROWS`` scalar components get a row each, labelled (``beta age``); more are
    overlaid per site. ``labels`` names the entries of vector sites, e.g. ``{"beta": ["age", "dose"]}``
    (column names, not 0, 1).
    """
    from arviz_plots import plot_trace_dist

    from bayeskit._arviz import quiet

    idata = _labelled(posterior.to_arviz(), labels)
    names = (var_names or list(idata.posterior.data_vars))[:max_sites]
    rows = sum(int(np.prod(idata.posterior[name].shape[2:])) for name in names)
    with quiet():
        collection = plot_trace_dist(idata, var_names=names, compact=rows > MAX_TRACE_ROWS, backend="matplotlib")
    return _figure(collection, f"trace ({posterior.method})")


def plot_rank(
    posterior: Any, var_names: list[str] | None = None, max_panels: int = 8, labels: dict[str, list[str]] | None = None
):
    """ArviZ rank plot: per-chain ECDFs of pooled ranks, inside the band when the chains agree (Vehtari et al. 2021).

    ``labels`` names the entries of vector sites, as in :func:`plot_trace`.
    """
    from arviz_plots import plot_rank as _plot_rank

    from bayeskit._arviz import quiet

    idata = _labelled(posterior.to_arviz(), labels)
    names = _components(idata, var_names, max_panels)
    with quiet():
        collection = _plot_rank(idata, var_names=names, backend="matplotlib")
    return _figure(collection, f"rank ({posterior.method})")


def prior_predictive(model: Any, *args: Any, key: Any, num_samples: int = 500, **kwargs: Any) -> dict[str, np.ndarray]:
    """Draws of every site from the prior (pass the observed keyword as ``None`` to simulate it)."""
    from numpyro.infer import Predictive

    from bayeskit._rng import as_jax_key

    key = as_jax_key(key)
    out = Predictive(model, num_samples=num_samples)(key, *args, **kwargs)
    return {name: np.asarray(value) for name, value in out.items()}


def _check_shapes(replicated: Any, observed: Any) -> tuple[np.ndarray, np.ndarray]:
    replicated = np.asarray(replicated, dtype=float)
    observed = np.asarray(observed, dtype=float)
    if observed.ndim == 0 and replicated.ndim == 1:  # one scalar observation (e.g. a binomial count)
        replicated, observed = replicated[:, None], observed[None]
    if replicated.ndim < 2 or replicated.shape[1:] != observed.shape:
        raise ValueError(
            f"`replicated` must have shape (num_draws, *observed.shape) = (n, {', '.join(map(str, observed.shape))}); "
            f"got {replicated.shape}."
        )
    return replicated.reshape(replicated.shape[0], -1), observed.reshape(-1)


def predictive_check(replicated: Any, observed: Any, statistics: dict[str, Callable] | None = None):
    """Observed vs replicated test statistics, with Bayesian p-values and a flag where the model misses.

    Parameters
    ----------
    replicated
        ``(num_draws, *observed.shape)`` data sets replicated from the prior or posterior predictive.
    observed
        The observed data.
    statistics
        Name -> function of a ``(..., n)`` array reducing the last axis (default:
        mean, std, min, max).

    Returns
    -------
    pandas.DataFrame
        One row per statistic: ``observed``, ``replicated_mean``, ``replicated_low``
        and ``replicated_high`` (2.5% and 97.5%), ``p_value`` and ``extreme``
        (p-value below 0.01 or above 0.99).
    """
    import pandas as pd

    replicated, observed = _check_shapes(replicated, observed)
    rows = []
    for name, statistic in (statistics or STATISTICS).items():
        t_rep, t_obs = np.asarray(statistic(replicated)), float(statistic(observed))
        p_value = float(np.mean(t_rep >= t_obs))
        rows.append(
            {
                "statistic": name,
                "observed": t_obs,
                "replicated_mean": float(t_rep.mean()),
                "replicated_low": float(np.quantile(t_rep, 0.025)),
                "replicated_high": float(np.quantile(t_rep, 0.975)),
                "p_value": p_value,
                "extreme": not (_EXTREME <= p_value <= 1 - _EXTREME),
            }
        )
    return pd.DataFrame(rows).set_index("statistic")


def plot_predictive_check(replicated: Any, observed: Any, kind: str = "posterior", num_lines: int = 50):
    """Observed data over ``num_lines`` replicated data sets (histograms), and the statistics' distributions."""
    from matplotlib.figure import Figure

    table = predictive_check(replicated, observed)
    replicated, observed = _check_shapes(replicated, observed)
    figure = Figure(figsize=(12, 3.2), layout="constrained")
    axes = figure.subplots(1, 1 + len(table))
    pooled = np.concatenate([observed, replicated[:num_lines].ravel()])
    low, high = np.quantile(pooled, [0.005, 0.995])
    bins = np.linspace(low, high, 30) if high > low else 10
    for row in replicated[:num_lines]:
        axes[0].hist(row, bins=bins, histtype="step", density=True, color="C0", alpha=0.15)
    axes[0].hist(observed, bins=bins, histtype="step", density=True, color="k", linewidth=2, label="observed")
    axes[0].set_title(f"{kind} predictive: data")
    axes[0].legend(loc="upper right", fontsize=8)
    for axis, (name, statistic) in zip(axes[1:], STATISTICS.items(), strict=True):
        axis.hist(statistic(replicated), bins=30, color="C0", alpha=0.7)
        axis.axvline(float(statistic(observed)), color="k", linewidth=2)
        axis.set_title(f"{name}: p = {table.loc[name, 'p_value']:.2f}", fontsize=9)
    return figure
