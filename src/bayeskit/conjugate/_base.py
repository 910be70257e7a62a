"""The posterior API shared by every exact conjugate family."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bayeskit._validate import as_float_array, check_finite, check_positive
from bayeskit.conjugate._intervals import equal_tailed, highest_density
from bayeskit.posterior import (
    Finding,
    Interval,
    as_generator,
    check_interval_args,
    check_num_samples,
    interval_columns,
    require_key,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ExactPosterior"]

_MAX_PENDING_TERMS = 16


@dataclasses.dataclass(frozen=True, eq=False, repr=False, init=False)
class ExactPosterior(ABC):
    """Abstract base of the exact posteriors: closed-form beliefs over named parameters.

    Subclasses are frozen dataclasses of float64 arrays broadcast to a common
    batch shape, so one object may hold a million independent posteriors. They
    provide the closed forms (``mean``, ``var``, ``mode``, ``log_prob``,
    ``update``, ``log_marginal_likelihood``) and the univariate marginal of each
    parameter as a frozen ``scipy.stats`` distribution; this base turns those
    into intervals, draws, summaries and ArviZ data.

    Single-parameter families return arrays; families with several parameters
    (``NormalInverseGamma``, ``BayesianLinearRegression``) return dicts keyed by
    parameter name, as draws-based posteriors do (``interval`` then returns one
    ``Interval`` whose ``low`` and ``high`` are such dicts).

    Every ``update`` also carries the log evidence forward by the chain rule,
    ``log p(D_1, D_2) = log p(D_1) + log p(D_2 | D_1)``, so ``log_evidence()`` is the
    exact log marginal likelihood of all the data conditioned on (0 for a prior), and
    sequential updating gives the same evidence as one batch update.
    """

    parameter_names: ClassVar[tuple[str, ...]]
    _repr_names: ClassVar[dict[str, str]] = {}

    # -- construction helpers -------------------------------------------------------------
    def _assign(self, **fields: Any) -> None:
        """Store fields as owned, read-only float64 arrays (a copy: the caller's arrays stay theirs)."""
        for name, value in fields.items():
            array = np.array(value, dtype=np.float64)
            array.flags.writeable = False
            object.__setattr__(self, name, array)

    @classmethod
    def _make(cls, **fields: Any):
        """Build without validation (for results of the core, which are valid by construction)."""
        obj = object.__new__(cls)
        obj._assign(**fields)
        return obj

    @staticmethod
    def _positive(value: Any, name: str) -> np.ndarray:
        return check_positive(as_float_array(value, name), name)

    def _then(self, posterior: Any, log_evidence_increment: Any) -> Any:
        """``posterior``, carrying this object's evidence terms plus ``log p(new data | data so far)``.

        ``log_evidence_increment`` is an array or a zero-argument callable (a picklable
        ``functools.partial``): callables are evaluated only when ``log_evidence()`` is asked
        for, so one update costs no more than before. Every ``_MAX_PENDING_TERMS`` updates the
        terms are summed into one array, so a long stream keeps few data batches alive.
        """
        terms = (*getattr(self, "_evidence_terms", ()), log_evidence_increment)
        if len(terms) > _MAX_PENDING_TERMS:
            terms = (sum(_value(term) for term in terms),)
        object.__setattr__(posterior, "_evidence_terms", terms)
        return posterior

    def _evidence_so_far(self) -> np.ndarray:
        total = np.zeros(self.batch_shape)
        for term in getattr(self, "_evidence_terms", ()):
            total = total + _value(term)
        return np.broadcast_to(total, self.batch_shape)

    def log_evidence(self) -> np.ndarray:
        """Exact log marginal likelihood of every batch of data this posterior was conditioned on.

        It is ``log p(D)`` under the prior this object started from: 0 for a prior,
        and ``log_marginal_likelihood(D)`` of the prior after ``update(D)``; updates in
        turn add ``log p(D_k | D_1..D_{k-1})``, so any order or split of the data gives
        the same value. ``compare.bayes_factor`` takes two such posteriors.

        Raises
        ------
        ValueError
            After ``update_from_statistics`` with statistics that do not determine the
            evidence (they are not sufficient for the likelihood's normalizer).

        """
        value = self._evidence_so_far()
        if np.isnan(value).any():
            raise ValueError(
                f"{type(self).__name__}.log_evidence() is not defined after update_from_statistics(): "
                "those statistics do not determine the likelihood's normalizer. Condition with update(data) instead."
            )
        return value

    def check(self) -> tuple[Finding, ...]:
        """Exact posteriors have no sampling or optimization to fail: always ``()``."""
        return ()

    # -- what subclasses provide ----------------------------------------------------------
    @property
    @abstractmethod
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the batch of independent posteriors held by this object."""

    @abstractmethod
    def marginals(self) -> dict[str, Any]:
        """Univariate marginal of each parameter, as frozen ``scipy.stats`` distributions."""

    @abstractmethod
    def _sample(self, rng: np.random.Generator, num_samples: int) -> dict[str, np.ndarray]:
        """Exact joint draws, each of shape ``(num_samples, *batch_shape, *event_shape)``."""

    def _hdi_is_defined(self, name: str) -> np.ndarray:
        """Where a marginal is unimodal so that its HDI is one interval (override if not always)."""
        return np.ones(np.shape(self.marginals()[name].ppf(0.5)), dtype=bool)

    # -- the posterior API ----------------------------------------------------------------
    def _unwrap(self, values: dict[str, Any]) -> Any:
        return values[self.parameter_names[0]] if len(self.parameter_names) == 1 else values

    def mean(self) -> Any:
        """Posterior mean of each parameter (``inf`` where it does not exist)."""
        return self._unwrap({k: np.asarray(d.mean()) for k, d in self.marginals().items()})

    def var(self) -> Any:
        """Posterior variance of each parameter (``inf`` where it does not exist)."""
        return self._unwrap({k: np.asarray(d.var()) for k, d in self.marginals().items()})

    def std(self) -> Any:
        """Posterior standard deviation of each parameter."""
        variance = self.var()
        if isinstance(variance, dict):
            return {k: np.sqrt(v) for k, v in variance.items()}
        return np.sqrt(variance)

    @abstractmethod
    def mode(self) -> Any:
        """The posterior mode (MAP estimate)."""

    def interval(self, prob: float = 0.95, kind: str = "eti") -> Any:
        """Credible interval of each parameter's marginal.

        Parameters
        ----------
        prob
            Posterior probability inside the interval.
        kind
            ``"eti"``: equal tails, ``(1 - prob) / 2`` on each side. ``"hdi"``: the
            shortest interval holding ``prob`` (exact to machine precision for
            unimodal marginals; NaN, with a warning, where a marginal is bimodal).

        Returns
        -------
        Interval
            ``(low, high)`` arrays with the parameter's shape; for several parameters
            ``low`` and ``high`` are dicts keyed by parameter name.

        """
        prob, kind = check_interval_args(prob, kind)
        out = {}
        for name, dist in self.marginals().items():
            if kind == "eti":
                out[name] = self._equal_tailed(name, dist, prob)
            else:
                out[name] = self._highest_density(name, dist, prob)
        if len(self.parameter_names) == 1:
            return out[self.parameter_names[0]]
        return Interval({k: v.low for k, v in out.items()}, {k: v.high for k, v in out.items()})

    def _equal_tailed(self, name: str, dist: Any, prob: float) -> Interval:
        return equal_tailed(dist, prob)

    def _shortest(self, name: str, dist: Any, prob: float) -> Interval:
        """The HDI of a unimodal marginal (families with a faster exact solver override this)."""
        return highest_density(dist, prob)

    def _highest_density(self, name: str, dist: Any, prob: float) -> Interval:
        interval = self._shortest(name, dist, prob)
        defined = self._hdi_is_defined(name)
        if not defined.all():
            import warnings

            warnings.warn(
                f"the marginal of `{name}` is bimodal at {int((~defined).sum())} batch entries, "
                "so its highest-density region is not one interval; those bounds are NaN. "
                "Use kind='eti' there.",
                RuntimeWarning,
                stacklevel=3,
            )
            interval = Interval(np.where(defined, interval.low, np.nan), np.where(defined, interval.high, np.nan))
        return interval

    def sample(self, key: Any, num_samples: int) -> Any:
        """Exact independent draws from the posterior.

        Parameters
        ----------
        key
            A JAX key, a ``numpy.random.Generator`` or an int seed; never defaulted.
        num_samples
            Number of draws; they stack on a new leading axis.

        Returns
        -------
        ndarray or dict of ndarray
            Shape ``(num_samples, *batch_shape, *event_shape)``.

        """
        return self._unwrap(self._sample(as_generator(key), check_num_samples(num_samples)))

    def summary(self, prob: float = 0.95, kind: str = "eti") -> pd.DataFrame:
        """A table of mean, sd, the credible interval and the mode, one row per scalar parameter.

        Columns are ``mean, sd, <kind>_<low>%, <kind>_<high>%, mode``. Rows are labelled
        ``name`` for a scalar posterior, ``name[i, j]`` over batch and event indices
        otherwise (ArviZ's convention).
        """
        prob, kind = check_interval_args(prob, kind)
        mean, std, mode = (self._as_dict(f()) for f in (self.mean, self.std, self.mode))
        bounds = self.interval(prob, kind)
        low, high = self._as_dict(bounds.low), self._as_dict(bounds.high)
        low_label, high_label = interval_columns(prob, kind)
        rows: dict[str, list] = {"mean": [], "sd": [], low_label: [], high_label: [], "mode": []}
        labels: list[str] = []
        for name in self.parameter_names:
            shape = np.shape(mean[name])
            for index in np.ndindex(*shape):
                labels.append(name if not index else f"{name}[{', '.join(map(str, index))}]")
                rows["mean"].append(mean[name][index])
                rows["sd"].append(std[name][index])
                rows["mode"].append(np.broadcast_to(mode[name], shape)[index])
                rows[low_label].append(low[name][index])
                rows[high_label].append(high[name][index])
        import pandas as pd

        return pd.DataFrame(rows, index=pd.Index(labels, name="parameter"))

    def _as_dict(self, value: Any) -> dict[str, Any]:
        return value if isinstance(value, dict) else {self.parameter_names[0]: value}

    def to_arviz(self, key: Any = None, num_draws: int = 1000, *, num_chains: int = 4):
        """Exact draws as an ArviZ ``DataTree`` (its diagnostics then read ideal values).

        Parameters
        ----------
        key
            A JAX key, a ``numpy.random.Generator`` or an int seed: required, since the
            draws are random.
        num_draws, num_chains
            Draws per chain and number of independent chains.

        """
        from bayeskit._arviz import from_dict

        require_key(key, f"{type(self).__name__}.to_arviz()")
        num_draws, num_chains = check_num_samples(num_draws, "num_draws"), check_num_samples(num_chains, "num_chains")
        draws = self._as_dict(self.sample(key, num_draws * num_chains))
        posterior = {k: v.reshape(num_chains, num_draws, *v.shape[1:]) for k, v in draws.items()}
        return from_dict({"posterior": posterior})

    def __repr__(self) -> str:
        parts = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            label = self._repr_names.get(field.name, field.name)
            if np.ndim(value) == 0:
                parts.append(f"{label}={float(value)!r}")
            else:
                parts.append(f"{label}=<array {np.shape(value)}>")
        return f"{type(self).__name__}({', '.join(parts)})"


def _value(term: Any) -> Any:
    return term() if callable(term) else term


def broadcast_parameters(**arrays: np.ndarray) -> dict[str, np.ndarray]:
    """Broadcast prior parameters to one batch shape, raising a clear error if they disagree."""
    try:
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"`{k}` {np.shape(v)}" for k, v in arrays.items())
        raise ValueError(
            f"prior parameters must broadcast to one batch shape; got {shapes}. Give them equal shapes or scalars."
        ) from None
    return {k: np.broadcast_to(v, shape) for k, v in arrays.items()}


def broadcast_data(batch_shape: tuple[int, ...], **arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Broadcast data against a batch shape, naming the arguments if they do not fit."""
    try:
        shape = np.broadcast_shapes(batch_shape, *(np.shape(a) for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"`{k}` {np.shape(v)}" for k, v in arrays.items())
        raise ValueError(
            f"data must broadcast against the posterior's batch shape {batch_shape}; got {shapes}."
        ) from None
    return tuple(np.broadcast_to(v, shape) for v in arrays.values())


def observations(x: Any, batch_shape: tuple[int, ...], name: str = "x") -> np.ndarray:
    """Validate real observations stacked on the last axis, leading axes matching the batch.

    A scalar is one observation; a 1-D array is ``n_obs`` observations shared by
    every model in the batch; ``(*batch_shape, n_obs)`` gives each model its own.
    """
    array = check_finite(as_float_array(x, name), name)
    if array.ndim == 0:
        array = array[None]
    try:
        shape = np.broadcast_shapes(batch_shape, array.shape[:-1])
    except ValueError:
        raise ValueError(
            f"`{name}` must have shape (n_obs,) or (*batch_shape, n_obs) with batch shape "
            f"{batch_shape}; got {array.shape}. Observations go on the last axis."
        ) from None
    return np.broadcast_to(array, (*shape, array.shape[-1]))
