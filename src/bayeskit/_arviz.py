"""ArviZ 1.x (arviz-base, arviz-stats, arviz-plots) behind the few calls bayeskit makes.

Every conversion to a ``DataTree``, every diagnostics table and every information
criterion of the package goes through here, so that one module knows ArviZ's API and
its column names, and no third-party warning reaches a user who did nothing wrong.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from bayeskit.posterior import interval_columns

__all__ = ["diagnostics", "from_dict", "hdi", "quiet", "summary"]


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence ArviZ's own warnings where bayeskit reports the same facts as findings or notes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def from_dict(groups: dict[str, dict[str, Any]], dims: dict[str, list[str]] | None = None) -> Any:
    """A ``DataTree`` from ``{group: {variable: array (chain, draw, ...)}}`` (observed data without sample dims)."""
    from arviz_base import from_dict as _from_dict

    groups = {name: values for name, values in groups.items() if values is not None}
    with quiet():
        return _from_dict(groups, dims=dims)


def summary(tree: Any, prob: float, kind: str = "eti", var_names: list[str] | None = None) -> Any:
    """ArviZ's summary with bayeskit's columns: ``mean, sd, <kind>_<low>%, <kind>_<high>%``, MCSE, ESS, R-hat.

    ArviZ 1.x names interval columns ``eti95_lb``/``eti95_ub``; bayeskit keeps one
    schema for every rung, the ``eti_2.5%``/``eti_97.5%`` form.
    """
    import pandas as pd
    from arviz_stats import summary as _summary

    with quiet():
        table = _summary(tree, var_names=var_names, ci_prob=prob, ci_kind=kind, round_to="none")
    low, high = interval_columns(prob, kind)
    renamed = {c: low for c in table.columns if str(c).endswith("_lb")}
    renamed.update({c: high for c in table.columns if str(c).endswith("_ub")})
    table = pd.DataFrame(table).rename(columns=renamed)
    order = ["mean", "sd", low, high, "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat"]
    return table[[c for c in order if c in table.columns] + [c for c in table.columns if c not in order]]


def diagnostics(tree: Any) -> Any:
    """ESS bulk/tail, R-hat and MCSE per scalar parameter (ArviZ's diagnostics table)."""
    import pandas as pd
    from arviz_stats import summary as _summary

    with quiet():
        return pd.DataFrame(_summary(tree, kind="diagnostics", round_to="none"))


def hdi(values: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Highest-density interval of draws ``(num_draws, *shape)`` over the first axis, per entry."""
    from arviz_stats.base import array_stats

    flat = np.moveaxis(np.asarray(values, dtype=float), 0, -1)
    with quiet():
        bounds = np.asarray(array_stats.hdi(flat, prob, axis=-1))
    return bounds[..., 0], bounds[..., 1]


def bfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI per chain from the sampler's energy ``(chain, draw)``."""
    from arviz_stats.base import array_stats

    with quiet():
        return np.atleast_1d(np.asarray(array_stats.bfmi(np.asarray(energy, dtype=float), chain_axis=0, draw_axis=1)))


def loo(log_likelihood: np.ndarray) -> Any:
    """PSIS-LOO of a pointwise log-likelihood ``(chain, draw, n_obs)`` (ArviZ's ``ELPDData``)."""
    from arviz_stats import loo as _loo

    tree = from_dict({"posterior": {"_": np.zeros(log_likelihood.shape[:2])}, "log_likelihood": {"y": log_likelihood}})
    with quiet():
        return _loo(tree, pointwise=True, var_name="y")


def compare(log_likelihoods: dict[str, np.ndarray]) -> Any:
    """ArviZ's LOO comparison with stacking weights over named pointwise log-likelihoods ``(chain, draw, n_obs)``."""
    from arviz_stats import compare as _compare

    trees = {
        name: from_dict({"posterior": {"_": np.zeros(values.shape[:2])}, "log_likelihood": {"y": values}})
        for name, values in log_likelihoods.items()
    }
    with quiet():
        return _compare(trees, method="stacking", var_name="y", round_to="none")
