"""Simulation-based calibration: checks that an inference engine recovers parameters drawn from the prior.

Draw theta from the prior and data y from the model given theta, fit the engine to
y, and record the rank of theta among L posterior draws. If the engine is exact,
the rank is uniform on {0, ..., L} (Talts, Betancourt, Simpson, Vehtari & Gelman,
2018). Too many ranks at both ends means the engine's posteriors are too narrow; a
hump in the middle, too wide; a slope, biased.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bayeskit._rng import raw_key
from bayeskit.infer.draws import DrawsPosterior
from bayeskit.parallel import fan_out

__all__ = ["ENGINES", "SBCResult", "sbc"]

ENGINES = ("nuts", "laplace", "advi")


@dataclass(frozen=True)
class SBCResult:
    """Ranks ``(num_simulations, *site_shape)`` per parameter site and their uniformity tests.

    ``pvalues`` holds, per site, the chi-square uniformity p-value of every scalar
    component (ranks grouped into ``num_bins`` equal bins). ``passed`` is True when
    the smallest p-value over all components is above ``alpha`` divided by their
    number (Bonferroni). ``failed_checks`` counts, per diagnostic (R-hat,
    divergences, ...), the fits that failed it: an engine whose fits fail their
    own checks is not calibrated even if its ranks look uniform.
    """

    ranks: dict[str, np.ndarray]
    num_draws: int
    num_bins: int
    pvalues: dict[str, np.ndarray]
    alpha: float
    failed_checks: dict[str, int]
    engine: str
    notes: tuple[str, ...] = field(default=())

    @property
    def min_pvalue(self) -> float:
        """The smallest uniformity p-value over every scalar parameter."""
        return float(min(np.min(p) for p in self.pvalues.values()))

    @property
    def num_tests(self) -> int:
        """How many scalar parameters were tested."""
        return int(sum(np.size(p) for p in self.pvalues.values()))

    @property
    def passed(self) -> bool:
        """True when no component's ranks depart from uniform at level alpha / num_tests."""
        return self.min_pvalue > self.alpha / self.num_tests

    def summary(self):
        """One row per scalar parameter: p-value, and the share of ranks in the outer and central bins."""
        import pandas as pd

        rows = []
        for name, ranks in self.ranks.items():
            flat = ranks.reshape(ranks.shape[0], -1)
            pvalues = np.asarray(self.pvalues[name]).reshape(-1)
            for j in range(flat.shape[1]):
                label = name if flat.shape[1] == 1 else f"{name}[{j}]"
                scaled = flat[:, j] / self.num_draws
                rows.append(
                    {
                        "parameter": label,
                        "pvalue": pvalues[j],
                        "outer_10pct": float(np.mean((scaled < 0.05) | (scaled > 0.95))),
                        "central_50pct": float(np.mean((scaled > 0.25) & (scaled < 0.75))),
                        "mean_rank": float(scaled.mean()),
                    }
                )
        table = pd.DataFrame(rows).set_index("parameter")
        table.attrs["passed"] = self.passed
        return table

    def plot(self, max_panels: int = 12):
        """Rank histograms with the 99% band of a uniform histogram (a ``matplotlib.figure.Figure``)."""
        from matplotlib.figure import Figure
        from scipy import stats

        panels = []
        for name, ranks in self.ranks.items():
            flat = ranks.reshape(ranks.shape[0], -1)
            for j in range(flat.shape[1]):
                panels.append((name if flat.shape[1] == 1 else f"{name}[{j}]", flat[:, j]))
        panels = panels[:max_panels]
        columns = min(4, len(panels))
        rows = -(-len(panels) // columns)
        figure = Figure(figsize=(3.2 * columns, 2.4 * rows), layout="constrained")
        axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
        num_sims = next(iter(self.ranks.values())).shape[0]
        band = stats.binom(num_sims, 1 / self.num_bins).ppf([0.005, 0.995])
        edges = np.linspace(0, self.num_draws + 1, self.num_bins + 1)
        for axis, (label, values) in zip(axes, panels, strict=False):
            axis.axhspan(band[0], band[1], color="0.85", label="99% if uniform")
            axis.hist(values, bins=edges, color="C0", edgecolor="white")
            axis.set_title(label, fontsize=9)
            axis.set_xlabel("rank")
        for axis in axes[len(panels) :]:
            axis.set_visible(False)
        figure.suptitle(f"SBC rank histograms ({self.engine}): {'pass' if self.passed else 'FAIL'}")
        return figure


def _latent_sites(model: Any, args: tuple, kwargs: dict) -> list[str]:
    from numpyro import handlers

    trace = handlers.trace(handlers.seed(model, 0)).get_trace(*args, **kwargs)
    return [
        name
        for name, site in trace.items()
        if site["type"] == "sample" and not site["is_observed"] and not site.get("infer", {}).get("enumerate")
    ]


def _engine(engine: str | Callable) -> Callable[..., DrawsPosterior]:
    if callable(engine):
        return engine
    from bayeskit.infer.approximate import advi, laplace
    from bayeskit.infer.nuts import nuts

    table = {"nuts": nuts, "laplace": laplace, "advi": advi}
    if engine not in table:
        raise ValueError(f"`engine` must be one of {ENGINES} or a callable; got {engine!r}.")
    return table[engine]


@dataclass(frozen=True)
class _Simulation:
    """One SBC replicate: fit the engine to one simulated data set and rank the truth among the draws.

    A picklable callable, so that worker processes and Ray tasks run exactly what the serial loop runs.
    """

    model: Any
    args: tuple
    kwargs: dict
    observed: str
    latent: tuple[str, ...]
    engine: str | Callable
    options: dict
    num_draws: int

    def __call__(self, replicate: tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]):
        """``(ranks per latent site, the names of the checks the fit failed)``."""
        key, data, truth = replicate
        posterior = _engine(self.engine)(
            self.model, *self.args, key=key, **self.options, **{**self.kwargs, self.observed: data}
        )
        ranks = {}
        for name in self.latent:
            draws = np.asarray(posterior.draws[name])
            draws = draws.reshape(-1, *draws.shape[2:])
            index = np.linspace(0, draws.shape[0] - 1, self.num_draws).round().astype(int)
            ranks[name] = np.sum(draws[index] < truth[name], axis=0)
        return ranks, sorted({finding.check for finding in posterior.findings})


def sbc(
    model: Any,
    *args: Any,
    key: Any,
    observed: str,
    engine: str | Callable = "nuts",
    num_simulations: int = 100,
    num_draws: int = 99,
    num_bins: int = 10,
    alpha: float = 0.01,
    site: str | None = None,
    engine_kwargs: dict[str, Any] | None = None,
    progress: bool = False,
    executor: Any = None,
    workers: int | None = None,
    **kwargs: Any,
) -> SBCResult:
    """Simulation-based calibration of an inference engine on a NumPyro model.

    Parameters
    ----------
    model
        A NumPyro model; its observations come in through the keyword ``observed``.
    *args, **kwargs
        The model's other inputs (covariates, sizes), fixed across simulations.
    key
        A JAX PRNG key.
    observed
        The name of the keyword argument that carries the observations.
    engine
        ``"nuts"``, ``"laplace"``, ``"advi"`` or a callable with the signature of
        :func:`bayeskit.infer.nuts` returning a :class:`DrawsPosterior`. The
        engines reuse one compiled program across all simulations.
    num_simulations
        Prior draws (data sets) to fit.
    num_draws
        L: each rank is among L posterior draws, thinned evenly from all the
        engine's draws (thinning reduces autocorrelation); ranks lie in 0..L.
    num_bins
        Histogram bins for the chi-square uniformity test; must divide L + 1.
    alpha
        The family-wise level of the uniformity test.
    site
        The sample site the observations feed, when it is not named like ``observed``.
    engine_kwargs
        Passed to the engine (e.g. ``{"num_warmup": 300, "num_samples": 300}``).
    progress
        A progress bar over simulations on stderr.
    executor, workers
        Where the fits run, as for :func:`bayeskit.parallel.fan_out`: ``workers=4`` fits four
        simulations at once in worker processes, ``executor="ray"`` as Ray tasks. Each
        simulation has its own key, so the ranks equal the serial run's. The model (and a
        callable engine) must be importable by the workers: a top-level ``def`` in a module or
        a script, not one defined in a notebook cell. Workers take this process's 64-bit
        setting and compilation cache; each compiles the engine's program once (or loads it
        from the cache), so fan out when fits take long against a few seconds of start-up.

    References
    ----------
    Talts, Betancourt, Simpson, Vehtari & Gelman (2018). Validating Bayesian inference
    algorithms with simulation-based calibration. arXiv:1804.06788.
    """
    import jax
    from numpyro.infer import Predictive
    from scipy import stats

    _engine(engine)  # a bad name fails here, before any prior draw
    for name, value, minimum in (("num_simulations", num_simulations, 2), ("num_draws", num_draws, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"`{name}` must be an int >= {minimum}; got {value!r}.")
    if (num_draws + 1) % num_bins:
        raise ValueError(f"`num_bins` must divide num_draws + 1 = {num_draws + 1}; got {num_bins}.")
    key = raw_key(key)
    site = site or observed
    prior_kwargs = {**kwargs, observed: None}
    key_prior, key_fits = jax.random.split(key)
    prior = Predictive(model, num_samples=num_simulations)(key_prior, *args, **prior_kwargs)
    if site not in prior:
        raise ValueError(
            f"the model has no sample site {site!r} for the observations passed as `{observed}`; "
            f"pass `site=` naming it (sample sites: {sorted(prior)})."
        )
    latent = _latent_sites(model, args, prior_kwargs)
    latent = [name for name in latent if name != site]
    fit_keys = np.asarray(jax.random.split(key_fits, num_simulations))
    simulate = _Simulation(model, args, kwargs, observed, tuple(latent), engine, dict(engine_kwargs or {}), num_draws)
    replicates = [
        (fit_keys[s], np.asarray(prior[site][s]), {name: np.asarray(prior[name][s]) for name in latent})
        for s in range(num_simulations)
    ]
    outcomes = fan_out(simulate, replicates, executor=executor, workers=workers, progress=progress, label="SBC")
    ranks = {name: [outcome[0][name] for outcome in outcomes] for name in latent}
    failed: dict[str, int] = {}
    for _, checks in outcomes:
        for check in checks:
            failed[check] = failed.get(check, 0) + 1
    stacked = {name: np.stack(values) for name, values in ranks.items()}
    pvalues = {}
    for name, values in stacked.items():
        flat = values.reshape(num_simulations, -1)
        bins = flat * num_bins // (num_draws + 1)
        counts = np.stack([np.bincount(bins[:, j], minlength=num_bins) for j in range(flat.shape[1])])
        pvalues[name] = stats.chisquare(counts, axis=1).pvalue.reshape(values.shape[1:])
    notes = tuple(f"{count} of {num_simulations} fits failed the {check} check." for check, count in failed.items())
    name = engine if isinstance(engine, str) else getattr(engine, "__name__", "custom")
    return SBCResult(stacked, num_draws, num_bins, pvalues, alpha, failed, name, notes)
