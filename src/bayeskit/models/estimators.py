"""Ready Bayesian regressions as scikit-learn-style estimators over bayeskit's engines.

``fit`` returns self; fitted attributes end in ``_``; ``posterior_`` has the posterior
API; ``predict(X, return_std=True)``, ``predict_interval(X, prob)`` and
``sample_posterior_predictive(X)`` integrate over the parameters. DataFrames keep
their column names in ``summary()``; the caller's data are copied, never changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from bayeskit._design import design_matrix, group_index, target_vector
from bayeskit._estimator import _Estimator
from bayeskit._validate import check_choice, check_prob
from bayeskit.models._glm import (
    FAMILIES,
    POOLINGS,
    PRIORS,
    family_mean,
    glm,
    linear_predictor,
    map_estimate,
    sample_outcome,
)

__all__ = [
    "METHODS",
    "BayesianGLM",
    "BayesianLinearRegression",
    "BayesianLogisticRegression",
    "BayesianPoissonRegression",
    "HierarchicalRegression",
    "RobustRegression",
]

METHODS = ("nuts", "laplace", "advi")


class BayesianGLM(RegressorMixin, _Estimator):
    """A Bayesian generalized linear model, optionally with group intercepts, fitted by NUTS, Laplace or ADVI.

    Parameters
    ----------
    family
        ``"gaussian"``, ``"bernoulli"`` (logistic), ``"poisson"`` (log link) or ``"student"`` (robust).
    method
        ``"nuts"`` (default), ``"laplace"`` or ``"advi"``.
    group
        Column of ``X`` (a DataFrame) holding group labels, or None; ``fit(..., groups=)`` also works.
    pooling
        With groups: ``"partial"`` (hierarchical intercepts, the default), ``"complete"``
        (one intercept) or ``"none"`` (independent intercepts).
    centered
        Parameterization of partial pooling; non-centered (False) avoids the funnel
        that makes NUTS diverge when groups are small.
    prior, prior_scale, autoscale
        Coefficient prior (``"normal"`` or ``"laplace"``) and its scale; with
        ``autoscale`` the scale is divided by each feature's sd (and multiplied by
        sd(y) for Gaussian and Student-t targets). See ``priors_`` after fitting.
    intercept_scale
        The intercept's prior sd (default: 2.5 sd(y) for Gaussian/Student-t, 2.5 otherwise).
    fit_intercept
        Whether to fit an intercept (ignored with groups: group intercepts are the point).
    key
        An int seed or JAX key for the engine and for predictive draws.
    num_chains, num_warmup, num_samples, target_accept
        NUTS settings.
    num_steps
        ADVI steps.
    progress
        Progress bars on stderr.
    checkpoint
        A NUTS checkpoint file (see :func:`bayeskit.infer.nuts`).
    mass_matrix
        NUTS warmup (see :func:`bayeskit.infer.nuts`): ``"numpyro"`` (NumPyro's own), or bayeskit's
        ``"variance"``, ``"diag"``, ``"lowrank"`` or ``"auto"``, which restart stuck chains.
    init
        NUTS starting points: ``"auto"`` (default: Pathfinder with one of bayeskit's ``mass_matrix`` warmups,
        uniform with NumPyro's), ``"uniform"`` (uniform in [-2, 2] on the unconstrained scale, a point per
        chain), ``"prior"`` (a prior draw per chain) or ``"pathfinder"`` (a draw from each chain's Pathfinder
        Gaussian, which also gives the first metric); the last two need one of bayeskit's ``mass_matrix``
        warmups. Starts are checked for a finite density and gradient.
    precision
        ``"float32"`` (default) or ``"float64"``: the fit (NUTS, Laplace or ADVI) runs inside ``jax.enable_x64``
        without touching JAX's global setting. float32 is risky for large data sets, long series and
        ill-conditioned posteriors; a finding says when the run's log density was too large for it.
    """

    def __init__(
        self,
        family: str = "gaussian",
        method: str = "nuts",
        group: str | None = None,
        pooling: str = "partial",
        centered: bool = False,
        prior: str = "normal",
        prior_scale: float = 2.5,
        autoscale: bool = True,
        intercept_scale: float | None = None,
        fit_intercept: bool = True,
        key: Any = 0,
        num_chains: int = 4,
        num_warmup: int = 1000,
        num_samples: int = 1000,
        target_accept: float = 0.9,
        num_steps: int = 10_000,
        progress: bool = False,
        checkpoint: Any = None,
        mass_matrix: str = "numpyro",
        init: str = "auto",
        precision: str = "float32",
    ):
        self.family = family
        self.method = method
        self.group = group
        self.pooling = pooling
        self.centered = centered
        self.prior = prior
        self.prior_scale = prior_scale
        self.autoscale = autoscale
        self.intercept_scale = intercept_scale
        self.fit_intercept = fit_intercept
        self.key = key
        self.num_chains = num_chains
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.target_accept = target_accept
        self.num_steps = num_steps
        self.progress = progress
        self.checkpoint = checkpoint
        self.mass_matrix = mass_matrix
        self.init = init
        self.precision = precision

    # ------------------------------------------------------------------ fitting
    def _split_groups(self, X: Any, groups: Any) -> tuple[Any, Any]:
        import pandas as pd

        if self.group is not None:
            if not isinstance(X, pd.DataFrame) or self.group not in X.columns:
                raise ValueError(
                    f"group column {self.group!r} not found in X: pass X as a DataFrame with that column, "
                    "or pass groups= to fit."
                )
            return X.drop(columns=[self.group]), X[self.group]
        return X, groups

    def _priors(self, x: np.ndarray, y: np.ndarray, fit_intercept: bool) -> dict[str, np.ndarray]:
        continuous = self.family in ("gaussian", "student")
        sd_y = float(np.std(y)) if continuous else 1.0
        sd_y = sd_y if sd_y > 0 else 1.0
        sd_x = np.std(x, axis=0)
        sd_x = np.where(sd_x > 0, sd_x, 1.0)
        scale = float(self.prior_scale)
        beta_scale = scale * sd_y / sd_x if self.autoscale else np.full(x.shape[1], scale)
        if continuous:
            intercept_loc = float(np.mean(y))  # the outcome at the mean features
        elif self.family == "poisson":
            intercept_loc = float(np.log(max(np.mean(y), 1e-3)))
        else:
            intercept_loc = 0.0
        intercept_scale = self.intercept_scale if self.intercept_scale is not None else 2.5 * sd_y
        return {
            "x_mean": np.mean(x, axis=0) if fit_intercept else np.zeros(x.shape[1]),
            "beta_scale": np.asarray(beta_scale, dtype=float),
            "intercept_loc": np.asarray(intercept_loc),
            "intercept_scale": np.asarray(float(intercept_scale)),
            "tau_scale": np.asarray(sd_y),
            "sigma_scale": np.asarray(sd_y),
        }

    def _validate_settings(self) -> None:
        check_choice(self.family, "family", FAMILIES)
        check_choice(self.method, "method", METHODS)
        check_choice(self.pooling, "pooling", POOLINGS)
        check_choice(self.prior, "prior", PRIORS)
        if not (isinstance(self.prior_scale, int | float) and self.prior_scale > 0 and np.isfinite(self.prior_scale)):
            raise ValueError(f"`prior_scale` must be a positive number, e.g. 2.5; got {self.prior_scale!r}.")

    def fit(self, X: Any, y: Any, groups: Any = None, exposure: Any = None):
        """Fit the posterior; returns self.

        Parameters
        ----------
        X
            ``(n, d)`` features: a DataFrame (names kept) or an array.
        y
            ``(n,)`` target: 0/1 for bernoulli, counts for poisson.
        groups
            ``(n,)`` group labels, when ``group`` does not name a column of X.
        exposure
            Poisson only: ``(n,)`` positive exposures (time, population); the rate is per unit.
        """
        self._validate_settings()
        X, groups = self._split_groups(X, groups)
        design = design_matrix(X)
        x = design.values
        target = target_vector(y, x.shape[0], self.family)
        offset = self._offset(exposure, x.shape[0])
        if groups is not None:
            codes, levels = group_index(groups, x.shape[0])
            pooling = self.pooling
        else:
            codes, levels, pooling = np.zeros(x.shape[0], dtype=np.int32), [], "complete"
        fit_intercept = True if groups is not None else bool(self.fit_intercept)
        if pooling == "partial" and self.method == "laplace":
            raise ValueError(
                "method='laplace' does not apply to partial pooling: the joint posterior of a hierarchical model "
                "has no interior mode (it grows without bound as tau -> 0), so there is no MAP to expand around. "
                "Use method='nuts' (or 'advi', or pooling='none'/'complete')."
            )
        priors = self._priors(x, target, fit_intercept)
        self.feature_names_in_ = design.names
        self.n_features_in_ = x.shape[1]
        self.groups_ = levels
        self.pooling_ = pooling
        self.priors_ = {k: np.asarray(v).copy() for k, v in priors.items()}
        self._static = {
            "family": self.family,
            "pooling": pooling,
            "num_groups": max(len(levels), 1),
            "centered": bool(self.centered),
            "prior": self.prior,
            "fit_intercept": fit_intercept,
        }
        self.posterior_ = self._infer(x, codes, offset, priors, target)
        if self.method == "laplace":
            self.log_evidence_ = float(self.posterior_.details["log_evidence"])
        if pooling == "complete" and self.family in ("bernoulli", "poisson"):
            self.intercept_map_, self.coef_map_ = map_estimate(
                x, target, offset, priors, self.family, self.prior, fit_intercept
            )
        self._codes_ = codes
        return self

    def _offset(self, exposure: Any, num_rows: int) -> np.ndarray:
        if exposure is None:
            return np.zeros(num_rows)
        if self.family != "poisson":
            raise ValueError(f"`exposure` applies to the poisson family only; this model is {self.family!r}.")
        values = np.array(exposure, dtype=float).reshape(-1)
        if values.shape[0] != num_rows or not np.all(np.isfinite(values) & (values > 0)):
            raise ValueError(f"`exposure` must be {num_rows} positive finite numbers (one per row).")
        return np.log(values)

    def _infer(self, x, codes, offset, priors, target):
        import jax.numpy as jnp

        from bayeskit.infer import advi, laplace, nuts

        # float64 data stay NumPy until the engine's x64 scope (jnp.asarray would round them to float32 here)
        as_data = jnp.asarray if self.precision == "float32" else np.asarray
        real = jnp.float32 if self.precision == "float32" else np.float64
        data = (
            as_data(x, dtype=real),
            jnp.asarray(codes),
            as_data(offset, dtype=real),
            {k: as_data(v, dtype=real) for k, v in priors.items()},
        )
        observed = as_data(target, dtype=real)
        key = self._jax_key()
        if self.method == "nuts":
            return nuts(
                glm,
                *data,
                **self._static,
                y=observed,
                key=key,
                num_chains=self.num_chains,
                num_warmup=self.num_warmup,
                num_samples=self.num_samples,
                target_accept=self.target_accept,
                progress=self.progress,
                checkpoint=self.checkpoint,
                mass_matrix=self.mass_matrix,
                init=self.init,
                precision=self.precision,
            )
        common = {"y": observed, "key": key, "progress": self.progress, "precision": self.precision}
        if self.method == "laplace":
            return laplace(glm, *data, **self._static, **common)
        return advi(glm, *data, **self._static, **common, num_steps=self.num_steps)

    # --------------------------------------------------------------- predicting
    def _prepare(self, X: Any, groups: Any, exposure: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._check_fitted()
        X, groups = self._split_groups(X, groups)
        x = design_matrix(X, expected=self.feature_names_in_, owner=type(self).__name__).values
        if self.pooling_ != "complete":
            if groups is None:
                raise ValueError("this model has group intercepts: pass groups= (or the group column in X).")
            codes, _ = group_index(groups, x.shape[0], levels=self.groups_)
        else:
            codes = np.zeros(x.shape[0], dtype=np.int32)
        return x, codes, self._offset(exposure, x.shape[0])

    def _draws(self) -> dict[str, np.ndarray]:
        return {k: v.reshape(-1, *v.shape[2:]) for k, v in self.posterior_.draws.items()}

    def _eta(self, X, groups, exposure, rng) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        x, codes, offset = self._prepare(X, groups, exposure)
        draws = self._draws()
        return linear_predictor(draws, x, codes, offset, rng), draws

    def sample_posterior_predictive(
        self, X: Any, groups: Any = None, exposure: Any = None, key: Any = None
    ) -> np.ndarray:
        """``(num_draws, n)`` outcomes drawn from the posterior predictive (one per parameter draw).

        ``key`` (a JAX key, Generator or int) picks the draws; by default a sub-stream of the
        estimator's own ``key``, so repeated calls agree.
        """
        from bayeskit._rng import as_generator

        generator = as_generator(key) if key is not None else _prediction_stream(self.key)
        eta, draws = self._eta(X, groups, exposure, generator)
        return sample_outcome(self.family, eta, draws, generator)

    def predictive(self, X: Any, groups: Any = None, exposure: Any = None, max_components: int = 200) -> Any:
        """The posterior predictive at ``X``, with the posterior API, ``decompose()`` and ``evaluate(y)``.

        Gaussian family: a ``GaussianMixturePredictive`` with one component per posterior
        draw (thinned evenly to ``max_components``), so aleatoric is the noise variance and
        epistemic the spread of the draws' means. Logistic: a ``CategoricalPredictive`` over
        the draws' class probabilities. Poisson and Student-t outcomes have no Gaussian or
        categorical predictive: use ``sample_posterior_predictive`` there.
        """
        from bayeskit.predictive import CategoricalPredictive, GaussianMixturePredictive

        eta, draws = self._eta(X, groups, exposure, _prediction_stream(self.key))
        keep = np.unique(np.linspace(0, eta.shape[0] - 1, min(max_components, eta.shape[0])).astype(int))
        means = family_mean(self.family, eta[keep])
        label = f"{type(self).__name__} ({self.method})"
        if self.family == "gaussian":
            noise = np.broadcast_to((draws["sigma"][keep] ** 2)[:, None], means.shape)
            return GaussianMixturePredictive(means, np.array(noise), label)
        if self.family == "bernoulli":
            return CategoricalPredictive(np.stack([1 - means, means], axis=-1), np.array([0, 1]), label)
        raise ValueError(
            f"predictive() covers Gaussian and logistic outcomes; the {self.family!r} family's predictive is neither "
            "Gaussian nor categorical. Use sample_posterior_predictive(X) for its draws."
        )

    def predict(self, X: Any, groups: Any = None, exposure: Any = None, return_std: bool = False):
        """Posterior predictive mean E[y | X, data] (and its sd with ``return_std``: epistemic plus noise)."""
        eta, draws = self._eta(X, groups, exposure, _prediction_stream(self.key))
        means = family_mean(self.family, eta)
        prediction = means.mean(axis=0)
        if not return_std:
            return prediction
        if self.family == "gaussian":
            noise = np.mean(draws["sigma"] ** 2)
        elif self.family == "student":
            nu = draws["nu"]
            noise = np.mean(np.where(nu > 2, draws["sigma"] ** 2 * nu / np.maximum(nu - 2, 1e-12), np.inf))
        elif self.family == "bernoulli":
            noise = np.mean(means * (1 - means), axis=0)
        else:
            noise = np.mean(means, axis=0)
        return prediction, np.sqrt(means.var(axis=0) + noise)

    def predict_interval(self, X: Any, prob: float = 0.95, groups: Any = None, exposure: Any = None):
        """Central posterior predictive interval ``(low, high)`` for new outcomes at ``X``."""
        prob = check_prob(prob)
        draws = self.sample_posterior_predictive(X, groups, exposure)
        low, high = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
        return low, high

    def summary(self, prob: float = 0.95):
        """The posterior summary with feature and group names in the index (R-hat, ESS, MCSE for draws)."""
        self._check_fitted()
        table = self.posterior_.summary(prob)
        return table.rename(index=self._label)

    def _label(self, name: str) -> str:
        if "[" not in name:
            return name
        site, rest = name.split("[", 1)
        index = int(rest.rstrip("]").split(",")[0])
        if site == "beta" and index < len(self.feature_names_in_):
            return self.feature_names_in_[index]
        if site in ("alpha", "z") and index < len(self.groups_):
            return f"{site}[{self.groups_[index]}]"
        return name


def _prediction_stream(key: Any) -> np.random.Generator:
    """The estimator's prediction sub-stream: ``fold_in(key, 1)``, independent of the fit's own stream."""
    import jax

    from bayeskit._rng import as_generator, as_jax_key

    return as_generator(jax.random.fold_in(as_jax_key(key), 1))


class BayesianLogisticRegression(ClassifierMixin, BayesianGLM):
    """Bayesian logistic regression (Laplace by default; NUTS or ADVI on request).

    With ``prior="normal"``, ``autoscale=False`` and scale s, the MAP (``coef_map_``)
    is scikit-learn's L2 logistic regression with ``C = s**2``; with ``prior="laplace"``
    it is the L1 one with ``C = s``. (The intercept's wide Normal prior corresponds to
    scikit-learn's unpenalized intercept.)

    ``predict_proba`` gives posterior predictive class probabilities; ``predict`` the
    class with the higher one.
    """

    def __init__(
        self,
        method: str = "laplace",
        prior: str = "normal",
        prior_scale: float = 2.5,
        autoscale: bool = True,
        intercept_scale: float | None = None,
        fit_intercept: bool = True,
        key: Any = 0,
        num_chains: int = 4,
        num_warmup: int = 1000,
        num_samples: int = 1000,
        target_accept: float = 0.9,
        num_steps: int = 10_000,
        progress: bool = False,
        checkpoint: Any = None,
        mass_matrix: str = "numpyro",
        init: str = "auto",
        precision: str = "float32",
    ):
        super().__init__(
            family="bernoulli",
            method=method,
            prior=prior,
            prior_scale=prior_scale,
            autoscale=autoscale,
            intercept_scale=intercept_scale,
            fit_intercept=fit_intercept,
            key=key,
            num_chains=num_chains,
            num_warmup=num_warmup,
            num_samples=num_samples,
            target_accept=target_accept,
            num_steps=num_steps,
            progress=progress,
            checkpoint=checkpoint,
            mass_matrix=mass_matrix,
            init=init,
            precision=precision,
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, 2)`` posterior predictive probabilities of class 0 and class 1."""
        p = BayesianGLM.predict(self, X)
        return np.column_stack([1 - p, p])

    def predict(self, X: Any, return_std: bool = False):
        """Predicted class (0/1); with ``return_std`` also the posterior sd of P(y = 1) (epistemic only)."""
        eta, _ = self._eta(X, None, None, np.random.default_rng(0))
        p = family_mean("bernoulli", eta)
        labels = (p.mean(axis=0) > 0.5).astype(int)
        return (labels, p.std(axis=0)) if return_std else labels


class BayesianPoissonRegression(BayesianGLM):
    """Bayesian Poisson regression with a log link and optional exposure (``fit(X, y, exposure=...)``)."""

    def __init__(
        self, method: str = "nuts", prior_scale: float = 2.5, autoscale: bool = True, key: Any = 0, **kwargs: Any
    ):
        super().__init__(
            family="poisson", method=method, prior_scale=prior_scale, autoscale=autoscale, key=key, **kwargs
        )

    _fixed = ("family",)


class RobustRegression(BayesianGLM):
    """Linear regression with Student-t noise: outliers widen the tails instead of dragging the line."""

    def __init__(
        self, method: str = "nuts", prior_scale: float = 2.5, autoscale: bool = True, key: Any = 0, **kwargs: Any
    ):
        super().__init__(
            family="student", method=method, prior_scale=prior_scale, autoscale=autoscale, key=key, **kwargs
        )

    _fixed = ("family",)


class HierarchicalRegression(BayesianGLM):
    """Group intercepts with partial pooling (non-centered by default), and the two extremes for comparison.

    ``fit`` fits the chosen pooling; ``fit_pooling_comparison`` also fits complete and
    no pooling (same engine and priors) into ``pooling_fits_`` for the shrinkage plot.
    """

    def __init__(self, group: str | None = None, family: str = "gaussian", method: str = "nuts", **kwargs: Any):
        super().__init__(family=family, method=method, group=group, **kwargs)

    def fit_pooling_comparison(self, X: Any, y: Any, groups: Any = None):
        """Fit partial, complete and no pooling; returns self with ``pooling_fits_`` (a dict of fitted copies)."""
        fits = {}
        others = [pooling for pooling in POOLINGS if pooling != self.pooling]
        for pooling in (self.pooling, *others):
            params = {**self.get_params(), "pooling": pooling}
            if pooling != self.pooling:  # the comparison fits: labelled, and never in the chosen fit's checkpoint
                number = others.index(pooling) + 1
                params["checkpoint"] = None
                name = "no" if pooling == "none" else pooling
                params["progress"] = self.progress and f"{name} pooling (comparison {number} of {len(others)})"
            fits[pooling] = HierarchicalRegression(**params).fit(X, y, groups)
        chosen = fits[self.pooling]
        self.__dict__.update({k: v for k, v in chosen.__dict__.items() if k.endswith("_")})
        self.pooling_fits_ = fits
        return self

    def group_intercepts(self) -> Any:
        """Per group: size, and the posterior mean and sd of its intercept under each fitted pooling (a DataFrame).

        Intercepts are taken at the mean features (``alpha_g + mean(x) @ beta``): the
        group's expected outcome for a typical row, comparable across poolings even
        when their slopes differ.
        """
        import pandas as pd

        self._check_fitted()
        fits = getattr(self, "pooling_fits_", {self.pooling: self})
        sizes = np.bincount(self._codes_, minlength=len(self.groups_))
        table = pd.DataFrame({"n": sizes}, index=pd.Index(self.groups_, name="group"))
        for pooling, fit in fits.items():
            draws = fit._draws()
            at_mean = draws["beta"] @ fit.priors_["x_mean"]
            if "alpha" in draws:
                values = draws["alpha"] + at_mean[:, None]
            else:
                values = np.repeat((draws["intercept"] + at_mean)[:, None], len(self.groups_), axis=1)
            table[f"{pooling}_mean"] = values.mean(axis=0)
            table[f"{pooling}_sd"] = values.std(axis=0)
        return table

    def plot_shrinkage(self):
        """No-pooling estimates pulled toward the population mean by partial pooling, small groups the most."""
        from matplotlib.figure import Figure

        table = self.group_intercepts()
        if not {"none_mean", "partial_mean"} <= set(table.columns):
            raise ValueError("the shrinkage plot needs fit_pooling_comparison(X, y) first.")
        figure = Figure(figsize=(7, 4.5), layout="constrained")
        axis = figure.subplots()
        for _, row in table.iterrows():
            axis.plot([0, 1], [row["none_mean"], row["partial_mean"]], color="0.6", linewidth=0.8)
        axis.scatter(np.zeros(len(table)), table["none_mean"], s=10 + 3 * table["n"], label="no pooling", zorder=3)
        axis.scatter(
            np.ones(len(table)), table["partial_mean"], s=10 + 3 * table["n"], label="partial pooling", zorder=3
        )
        if "complete_mean" in table:
            axis.axhline(table["complete_mean"].iloc[0], color="k", linestyle="--", label="complete pooling")
        axis.set_xticks([0, 1], ["no pooling", "partial pooling"])
        axis.set_ylabel("group intercept at mean features (posterior mean)")
        axis.set_title("shrinkage: marker size = group size")
        axis.set_xlim(-0.25, 1.25)
        axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # beside the points
        return figure


class BayesianLinearRegression(RegressorMixin, _Estimator):
    """Bayesian linear regression: exact (Normal-Inverse-Gamma) by default, or the same model by NUTS/Laplace/ADVI.

    Prior: ``sigma^2 ~ InvGamma(alpha, beta)``, ``w | sigma^2 ~ N(0, sigma^2 / precision)``
    (the intercept, if fitted, gets ``intercept_precision``). The MAP weights are ridge
    regression with penalty ``precision``. ``method="nuts"`` samples the identical
    model, so the two agree up to Monte Carlo error (a test shows it).
    """

    def __init__(
        self,
        method: str = "exact",
        precision: float = 1.0,
        alpha: float = 1.0,
        beta: float = 1.0,
        fit_intercept: bool = True,
        intercept_precision: float = 1e-4,
        key: Any = 0,
        num_chains: int = 4,
        num_warmup: int = 1000,
        num_samples: int = 1000,
        num_draws: int = 4000,
    ):
        self.method = method
        self.precision = precision
        self.alpha = alpha
        self.beta = beta
        self.fit_intercept = fit_intercept
        self.intercept_precision = intercept_precision
        self.key = key
        self.num_chains = num_chains
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.num_draws = num_draws

    def _design(self, X: Any, expected: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
        design = design_matrix(X, expected=expected, owner=type(self).__name__)
        x = design.values
        if self.fit_intercept:
            x = np.column_stack([np.ones(x.shape[0]), x])
        return x, design.names

    def fit(self, X: Any, y: Any):
        """Fit the posterior; returns self."""
        from bayeskit.conjugate import BayesianLinearRegression as Conjugate

        check_choice(self.method, "method", ("exact", *METHODS))
        x, names = self._design(X)
        target = target_vector(y, x.shape[0], "gaussian")
        precision = np.full(x.shape[1], float(self.precision))
        if self.fit_intercept:
            precision[0] = float(self.intercept_precision)
        prior = Conjugate(mean=np.zeros(x.shape[1]), precision=precision, alpha=self.alpha, beta=self.beta)
        self.feature_names_in_ = names
        self.n_features_in_ = len(names)
        self.exact_posterior_ = prior.update(x, target)
        self.log_evidence_ = float(prior.log_marginal_likelihood(x, target))
        if self.method == "exact":
            self.posterior_ = self.exact_posterior_
        else:
            self.posterior_ = self._infer(x, target, precision)
        weights = self._weight_draws().mean(axis=0)
        self.intercept_ = float(weights[0]) if self.fit_intercept else 0.0
        self.coef_ = weights[1:] if self.fit_intercept else weights
        return self

    def _infer(self, x, target, precision):
        import jax.numpy as jnp

        from bayeskit.infer import advi, laplace, nuts

        key = self._jax_key()
        args = (
            jnp.asarray(x, jnp.float32),
            jnp.asarray(precision, jnp.float32),
            jnp.asarray(float(self.alpha), jnp.float32),
            jnp.asarray(float(self.beta), jnp.float32),
        )
        y = jnp.asarray(target, jnp.float32)
        if self.method == "nuts":
            return nuts(
                _nig_model,
                *args,
                y=y,
                key=key,
                num_chains=self.num_chains,
                num_warmup=self.num_warmup,
                num_samples=self.num_samples,
            )
        if self.method == "laplace":
            return laplace(_nig_model, *args, y=y, key=key, num_draws=self.num_draws)
        return advi(_nig_model, *args, y=y, key=key, num_draws=self.num_draws)

    def _weight_draws(self) -> np.ndarray:
        if self.method == "exact":
            return np.atleast_2d(self.exact_posterior_.mean()["weights"])
        draws = self.posterior_.draws["weights"]
        return draws.reshape(-1, draws.shape[-1])

    def _check_x(self, X: Any) -> np.ndarray:
        self._check_fitted()
        return self._design(X, expected=self.feature_names_in_)[0]

    def predictive(self, X: Any, max_components: int = 200) -> Any:
        """The posterior predictive at ``X``: exact Student-t for ``method="exact"``, else a mixture over draws.

        Both have the posterior API, ``decompose()`` (noise vs weight uncertainty) and ``evaluate(y)``.
        """
        from bayeskit.predictive import GaussianMixturePredictive

        x = self._check_x(X)
        if self.method == "exact":
            return self.exact_posterior_.predictive(x)
        draws = self._flat_draws()
        keep = np.unique(np.linspace(0, draws["weights"].shape[0] - 1, max_components).astype(int))
        means = draws["weights"][keep] @ x.T
        noise = np.broadcast_to(draws["noise_variance"][keep][:, None], means.shape)
        return GaussianMixturePredictive(means, np.array(noise), f"BayesianLinearRegression ({self.method})")

    def predict(self, X: Any, return_std: bool = False):
        """Posterior predictive mean (and sd with ``return_std``, parameter uncertainty plus noise)."""
        x = self._check_x(X)
        if self.method == "exact":
            predictive = self.exact_posterior_.predictive(x)
            return (predictive.mean(), predictive.std()) if return_std else predictive.mean()
        draws = self._flat_draws()
        means = draws["weights"] @ x.T
        if not return_std:
            return means.mean(axis=0)
        return means.mean(axis=0), np.sqrt(means.var(axis=0) + draws["noise_variance"].mean())

    def _flat_draws(self) -> dict[str, np.ndarray]:
        return {k: v.reshape(-1, *v.shape[2:]) for k, v in self.posterior_.draws.items()}

    def predict_interval(self, X: Any, prob: float = 0.95):
        """Central posterior predictive interval ``(low, high)`` (exact Student-t quantiles for ``exact``)."""
        prob = check_prob(prob)
        x = self._check_x(X)
        if self.method == "exact":
            predictive = self.exact_posterior_.predictive(x)
            return predictive.ppf((1 - prob) / 2), predictive.ppf((1 + prob) / 2)
        draws = self.sample_posterior_predictive(X)
        return tuple(np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0))

    def sample_posterior_predictive(self, X: Any, num_samples: int = 4000, key: Any = None) -> np.ndarray:
        """``(num_samples, n)`` outcomes from the posterior predictive."""
        from bayeskit._rng import as_generator

        x = self._check_x(X)
        generator = as_generator(key) if key is not None else _prediction_stream(self.key)
        if self.method == "exact":
            draws = self.exact_posterior_.sample(generator, num_samples)
        else:
            flat = self._flat_draws()
            index = generator.integers(0, flat["weights"].shape[0], size=num_samples)
            draws = {k: v[index] for k, v in flat.items()}
        means = draws["weights"] @ x.T
        return means + np.sqrt(draws["noise_variance"])[:, None] * generator.standard_normal(means.shape)

    def summary(self, prob: float = 0.95):
        """Posterior summary with the intercept and feature names as the index."""
        self._check_fitted()
        table = self.posterior_.summary(prob)
        names = (["intercept"] if self.fit_intercept else []) + list(self.feature_names_in_)

        def label(name: str) -> str:
            if name.startswith("weights[") and name.endswith("]"):
                index = int(name[len("weights[") : -1])
                return names[index] if index < len(names) else name
            return name

        return table.rename(index=label)


def _nig_model(x, precision, alpha, beta, y=None):
    """The Normal-Inverse-Gamma regression of :class:`bayeskit.conjugate.BayesianLinearRegression`, in NumPyro."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    noise_variance = numpyro.sample("noise_variance", dist.InverseGamma(alpha, beta))
    weights = numpyro.sample(
        "weights", dist.Normal(jnp.zeros(x.shape[1]), jnp.sqrt(noise_variance / precision)).to_event(1)
    )
    with numpyro.plate("rows", x.shape[0]):
        numpyro.sample("y", dist.Normal(x @ weights, jnp.sqrt(noise_variance)), obs=y)
