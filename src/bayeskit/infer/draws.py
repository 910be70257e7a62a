"""Posteriors represented by MCMC draws, with the posterior API of DESIGN.md and mandatory diagnostics."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bayeskit._rng import as_generator, as_jax_key
from bayeskit.infer.diagnostics import banner
from bayeskit.posterior import Finding, Interval, check_interval_args, check_num_samples

__all__ = ["DiagnosticsWarning", "DrawsPosterior", "side_by_side"]


def pick_observed_site(observed: dict[str, Any], site: str | None) -> str:
    """The observed site to use: ``site`` if it is one, or the only one; otherwise a clear error."""
    if site is None:
        if len(observed) != 1:
            raise ValueError(f"the model has observed sites {sorted(observed)}: pass `site=` naming one.")
        return next(iter(observed))
    if site not in observed:
        raise ValueError(f"`site` must be an observed site, one of {sorted(observed)}; got {site!r}.")
    return site


class DiagnosticsWarning(UserWarning):
    """Emitted when a posterior that failed its convergence checks is summarized."""


@dataclass(frozen=True, eq=False)
class DrawsPosterior:
    """Draws ``(chain, draw, *shape)`` per site, the InferenceData behind them and their diagnostics.

    ``mean``, ``std`` and ``var`` return dicts keyed by site (as the multi-parameter
    exact posteriors do), ``interval`` an ``Interval`` of such dicts. ``summary()`` is
    ArviZ's table (``mean, sd, <kind>_<low>%, <kind>_<high>%``, MCSE, ESS bulk/tail,
    R-hat); while any check fails it warns and carries the findings. ``idata`` is the
    ArviZ ``DataTree``.
    """

    draws: dict[str, np.ndarray]
    idata: Any = field(repr=False)
    findings: tuple[Finding, ...]
    method: str
    timings: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict, repr=False)
    notes: tuple[str, ...] = ()
    model: Any = field(default=None, repr=False)
    model_args: tuple = field(default=(), repr=False)
    model_kwargs: dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        status = "healthy" if self.is_healthy else f"{len(self.findings)} FAILED CHECK(S)"
        sites = ", ".join(f"{k} {v.shape[2:]}" for k, v in self.draws.items())
        chains, draws = next(iter(self.draws.values())).shape[:2]
        return f"DrawsPosterior({self.method}, {chains} chains x {draws} draws, sites: {sites}; {status})"

    @property
    def is_healthy(self) -> bool:
        """True when every convergence check passed."""
        return not self.findings

    def check(self) -> tuple[Finding, ...]:
        """The failed checks with advice (empty when healthy)."""
        return self.findings

    def log_evidence(self) -> float:
        """The log evidence ``log p(y)`` where the engine gives one (Laplace in unconstrained space).

        Raises
        ------
        ValueError
            For NUTS and ADVI draws, which do not estimate the evidence.

        """
        value = self.details.get("log_evidence")
        if value is None or not np.isfinite(value):
            raise ValueError(
                f"this {self.method} posterior has no log evidence: laplace(..., space='unconstrained') gives one; "
                "NUTS and ADVI draws do not. Compare such fits by PSIS-LOO with bayeskit.compare.compare."
            )
        return float(value)

    def _flat(self) -> dict[str, np.ndarray]:
        return {k: v.reshape(-1, *v.shape[2:]) for k, v in self.draws.items()}

    def mean(self) -> dict[str, np.ndarray]:
        """Posterior mean of every site."""
        return {k: v.mean(axis=0) for k, v in self._flat().items()}

    def var(self) -> dict[str, np.ndarray]:
        """Posterior variance of every site."""
        return {k: v.var(axis=0, ddof=1) for k, v in self._flat().items()}

    def std(self) -> dict[str, np.ndarray]:
        """Posterior standard deviation of every site."""
        return {k: np.sqrt(v) for k, v in self.var().items()}

    def interval(self, prob: float = 0.95, kind: str = "eti") -> Interval:
        """Equal-tailed (quantiles) or highest-density (ArviZ) interval of every site, as dicts by site."""
        from bayeskit._arviz import hdi

        prob, kind = check_interval_args(prob, kind)
        low, high = {}, {}
        for name, values in self._flat().items():
            if kind == "eti":
                bounds = np.quantile(values, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
            else:
                bounds = hdi(values, prob)
            low[name], high[name] = np.asarray(bounds[0]), np.asarray(bounds[1])
        return Interval(low, high)

    def sample(self, key: Any, num_samples: int) -> dict[str, np.ndarray]:
        """``num_samples`` joint draws resampled (with replacement) from the chains, by an explicit key."""
        flat = self._flat()
        total = next(iter(flat.values())).shape[0]
        index = as_generator(key).integers(0, total, size=check_num_samples(num_samples))
        return {k: v[index] for k, v in flat.items()}

    def _require_model(self, what: str) -> None:
        if self.model is None:
            raise ValueError(f"{what} needs the model: this posterior was built from draws alone.")

    def predictive(
        self, key: Any, *args: Any, num_samples: int | None = None, site: str | None = None, **kwargs: Any
    ) -> Any:
        """The posterior predictive, integrating over the parameter draws: a ``DrawsPredictive``.

        With no ``args``/``kwargs`` the model's own data are used (observed sites are
        re-drawn, for posterior predictive checks); pass new inputs (e.g. ``X_new``,
        with the observed keyword left out) to predict. It maps every sampled site to its
        draws (leading axis ``num_samples``, default every draw, chains flattened), and
        describes the observed ``site`` (the only one by default) with the posterior API,
        ``log_prob``, ``evaluate`` and ``decompose()`` into noise and parameter uncertainty
        (from each draw's mean and variance: Normal, Student-t, Bernoulli, Poisson, ...;
        entropies for a categorical site).
        """
        import jax
        from numpyro.infer import Predictive

        from bayeskit.predictive import DrawsPredictive

        self._require_model("predictive()")
        key = as_jax_key(key)
        flat = self._flat()
        if num_samples is not None:
            flat = self.sample(key, num_samples)
            key = jax.random.fold_in(key, 1)
        if not args and not kwargs:
            args = self.model_args
            kwargs = {k: (None if k in self._observed_names() else v) for k, v in self.model_kwargs.items()}
        out = Predictive(self.model, posterior_samples=flat, batch_ndims=1)(key, *args, **kwargs)
        draws = {k: np.asarray(v) for k, v in out.items() if k not in flat}
        site = pick_observed_site(self._observed_sites(), site)
        laws = _site_laws(self.model, flat, site, jax.random.fold_in(key, 2), args, kwargs)
        return DrawsPredictive(draws, site, method=self.method, **laws)

    def _observed_sites(self) -> dict[str, np.ndarray]:
        from numpyro import handlers

        trace = handlers.trace(handlers.seed(self.model, 0)).get_trace(*self.model_args, **self.model_kwargs)
        return {name: site["value"] for name, site in trace.items() if site["type"] == "sample" and site["is_observed"]}

    def _observed_names(self) -> set[str]:
        """The keyword arguments that carry observations (by identity with an observed site's value, or by name)."""
        observed = self._observed_sites()
        return {k for k, v in self.model_kwargs.items() if any(v is value for value in observed.values())} | (
            set(observed) & set(self.model_kwargs)
        )

    def _replicate(self, key: Any, site: str | None, num_samples: int) -> tuple[np.ndarray, np.ndarray]:
        observed = self._observed_sites()
        site = pick_observed_site(observed, site)
        replicated = self.predictive(key, num_samples=num_samples)[site]
        return replicated, np.asarray(observed[site])

    def predictive_check(self, key: Any, site: str | None = None, num_samples: int = 500):
        """Posterior predictive check: observed vs replicated statistics with Bayesian p-values (a DataFrame)."""
        from bayeskit.infer.checks import predictive_check

        return predictive_check(*self._replicate(key, site, num_samples))

    def plot_predictive_check(self, key: Any, site: str | None = None, num_samples: int = 500):
        """The posterior predictive check as a figure: data over replicated data, and the statistics."""
        from bayeskit.infer.checks import plot_predictive_check

        return plot_predictive_check(*self._replicate(key, site, num_samples), kind="posterior")

    def plot_trace(self, var_names: list[str] | None = None, labels: dict[str, list[str]] | None = None):
        """ArviZ trace plot of the draws (a matplotlib Figure); ``labels`` name a vector site's entries."""
        from bayeskit.infer.checks import plot_trace

        return plot_trace(self, var_names, labels=labels)

    def plot_rank(self, var_names: list[str] | None = None, labels: dict[str, list[str]] | None = None):
        """ArviZ rank plot: flat per-chain histograms when the chains agree; ``labels`` as in ``plot_trace``."""
        from bayeskit.infer.checks import plot_rank

        return plot_rank(self, var_names, labels=labels)

    def log_likelihood(self) -> dict[str, np.ndarray]:
        """Pointwise log-likelihood ``(chain, draw, *obs_shape)`` of every observed site (for WAIC and LOO)."""
        from numpyro.infer import log_likelihood

        self._require_model("log_likelihood()")
        flat = self._flat()
        chains, draws = next(iter(self.draws.values())).shape[:2]
        values = log_likelihood(self.model, flat, *self.model_args, **self.model_kwargs)
        return {k: np.asarray(v).reshape(chains, draws, *np.shape(v)[1:]) for k, v in values.items()}

    def to_arviz(self, key: Any = None, num_draws: int | None = None, *, log_likelihood: bool = False):
        """The ArviZ ``DataTree``: posterior and sample stats, with ``log_likelihood=True`` that group too.

        The draws are the sampler's own, so ``key`` and ``num_draws`` are not needed
        (they are accepted so that every posterior's ``to_arviz`` can be called alike).
        """
        if not log_likelihood or "log_likelihood" in self.idata.children:
            return self.idata
        from bayeskit._arviz import from_dict

        tree = self.idata.copy()
        tree["log_likelihood"] = from_dict({"log_likelihood": self.log_likelihood()})["log_likelihood"]
        return tree

    def summary(self, prob: float = 0.95, kind: str = "eti"):
        """ArviZ's summary: ``mean, sd, <kind>_<low>%, <kind>_<high>%``, MCSE, ESS bulk/tail, R-hat.

        Warns (``DiagnosticsWarning``) while any check fails, and carries the findings
        in ``table.attrs["diagnostics"]``.
        """
        from bayeskit._arviz import summary

        prob, kind = check_interval_args(prob, kind)
        table = summary(self.idata, prob, kind)
        table.attrs["diagnostics"] = [str(f) for f in self.findings]
        table.attrs["notes"] = list(self.notes)
        if self.findings:
            warnings.warn(banner(self.findings), DiagnosticsWarning, stacklevel=2)
        return table


def _site_laws(model: Any, flat: dict[str, np.ndarray], site: str, key: Any, args: tuple, kwargs: dict) -> dict:
    """Each draw's law of ``site`` (vectorized over draws): moments, log density, CDF or class probabilities."""
    import jax
    import jax.numpy as jnp
    import numpyro.distributions as dist
    from numpyro import handlers

    def law(sample):
        conditioned = handlers.substitute(handlers.seed(model, key), data=sample)
        fn = handlers.trace(conditioned).get_trace(*args, **kwargs)[site]["fn"]
        while isinstance(fn, dist.Independent):  # per-element laws: log_prob per observation, not summed
            fn = fn.base_dist
        return fn

    def per_draw(function, *extra):
        return lambda y=None: np.asarray(
            jax.vmap(lambda sample: function(law(sample), *((jnp.asarray(y),) if extra else ())))(flat)
        )

    first = law({k: v[0] for k, v in flat.items()})
    out: dict[str, Any] = {"log_prob_fn": per_draw(lambda fn, y: fn.log_prob(y), True)}
    if isinstance(first, dist.CategoricalProbs | dist.CategoricalLogits):
        out["probs"] = per_draw(lambda fn: fn.probs)()
        return out
    try:
        _ = (first.mean, first.variance)
    except NotImplementedError:
        return out
    out["component_means"] = per_draw(lambda fn: jnp.broadcast_to(fn.mean, fn.batch_shape))().astype(float)
    out["component_variances"] = per_draw(lambda fn: jnp.broadcast_to(fn.variance, fn.batch_shape))().astype(float)
    try:
        first.cdf(first.mean)
    except NotImplementedError:
        return out
    out["cdf_fn"] = per_draw(lambda fn, y: fn.cdf(y), True)
    return out


def side_by_side(posteriors: dict[str, Any], prob: float = 0.95):
    """One table comparing engines (or any posteriors with the API): mean, sd and interval per parameter.

    Parameters
    ----------
    posteriors
        Name -> posterior (``DrawsPosterior`` or an exact posterior with dict-valued ``mean``).
    prob
        Credible mass of the equal-tailed intervals.

    Returns
    -------
    pandas.DataFrame
        Rows are scalar parameters (``name[i]`` for vectors); columns are
        ``(engine, statistic)`` pairs. Engines whose checks failed are marked with
        ``" (FAILED CHECKS)"`` in their column name.
    """
    import pandas as pd

    prob, _ = check_interval_args(prob, "eti")
    columns = {}
    for label, posterior in posteriors.items():
        means, stds, bounds = posterior.mean(), posterior.std(), posterior.interval(prob)
        if not isinstance(means, dict):
            means, stds = {"value": means}, {"value": stds}
            bounds = Interval({"value": bounds.low}, {"value": bounds.high})
        if posterior.check():
            label = f"{label} (FAILED CHECKS)"
        values: dict[tuple[str, str], dict[str, float]] = {}
        for name, mean in means.items():
            flat_mean = np.ravel(mean)
            low, high = np.ravel(bounds.low[name]), np.ravel(bounds.high[name])
            for j, value in enumerate(flat_mean):
                row = name if flat_mean.size == 1 else f"{name}[{j}]"
                values.setdefault((label, "mean"), {})[row] = float(value)
                values.setdefault((label, "sd"), {})[row] = float(np.ravel(stds[name])[j])
                values.setdefault((label, "low"), {})[row] = float(low[j])
                values.setdefault((label, "high"), {})[row] = float(high[j])
        columns.update(values)
    table = pd.DataFrame(columns)
    table.columns = pd.MultiIndex.from_tuples(table.columns, names=["engine", "statistic"])
    return table
