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

from bayeskit._progress import progress_bar
from bayeskit._rng import raw_key
from bayeskit.infer.draws import DrawsPosterior

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

    References
    ----------
    Talts, Betancourt, Simpson, Vehtari & Gelman (2018). Validating Bayesian inference
    algorithms with simulation-based calibration. arXiv:1804.06788.
    """
    import jax
    from numpyro.infer import Predictive
    from scipy import stats

    fit = _engine(engine)
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
    ranks: dict[str, list[np.ndarray]] = {name: [] for name in latent}
    failed: dict[str, int] = {}
    fit_keys = jax.random.split(key_fits, num_simulations)
    options = dict(engine_kwargs or {})
    with progress_bar("SBC", num_simulations, progress) as advance:
        for s in range(num_simulations):
            data = {**kwargs, observed: prior[site][s]}
            posterior = fit(model, *args, key=fit_keys[s], **options, **data)
            for check in {finding.check for finding in posterior.findings}:
                failed[check] = failed.get(check, 0) + 1
            for name in latent:
                draws = posterior.draws[name].reshape(-1, *posterior.draws[name].shape[2:])
                index = np.linspace(0, draws.shape[0] - 1, num_draws).round().astype(int)
                ranks[name].append(np.sum(draws[index] < np.asarray(prior[name][s]), axis=0))
            advance(1)
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
