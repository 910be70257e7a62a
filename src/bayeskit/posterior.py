"""The posterior protocol: one shape for every rung of the ladder, and the result types it speaks in.

Every object a rung returns (an exact conjugate posterior, NUTS, Laplace or ADVI draws, a
GP's or a network's predictive, a Kalman or particle state estimate) satisfies
:class:`Posterior`; predictives also satisfy :class:`Predictive`. Both are
runtime-checkable ``typing.Protocol`` classes, so ``isinstance(x, Posterior)`` holds for
every result, and ``tests/test_posterior_protocol.py`` checks the *behaviour* the protocol
promises over every rung, not only the method names.

The shared pieces live here too, so that no rung imports another's helpers:

- :class:`Interval` ``(low, high)``: the one interval type (arrays, or dicts of arrays
  keyed by parameter for multi-parameter posteriors);
- :class:`Finding`: one failed check, with advice; ``check()`` returns a tuple of them;
- :class:`Decomposition`: ``total = aleatoric + epistemic``;
- :func:`as_generator`: the one way a key is read (a JAX key, a NumPy ``Generator`` or an
  int; never defaulted), and :func:`require_key` for methods whose key is optional in
  the signature but needed by the object;
- :func:`interval_columns`: ArviZ's names for interval columns (``eti_2.5%``, ``hdi_97.5%``).

Examples
--------
>>> import numpy as np
>>> from bayeskit.conjugate import BetaBinomial
>>> from bayeskit.posterior import Posterior, Interval
>>> posterior = BetaBinomial(2, 2).update(successes=3, trials=10)
>>> isinstance(posterior, Posterior), isinstance(posterior.interval(0.9), Interval)
(True, True)
>>> list(posterior.summary(0.9).columns[:4])
['mean', 'sd', 'eti_5%', 'eti_95%']

"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from bayeskit._rng import as_generator, as_jax_key

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "INTERVAL_KINDS",
    "Decomposition",
    "Finding",
    "Interval",
    "Posterior",
    "Predictive",
    "as_generator",
    "as_jax_key",
    "check_interval_args",
    "check_num_samples",
    "has_evidence",
    "interval_columns",
    "require_key",
]

INTERVAL_KINDS = ("eti", "hdi")


class Interval(NamedTuple):
    """A credible (or predictive) interval: bounds with the quantity's shape, or dicts of them by name."""

    low: Any
    high: Any


class Decomposition(NamedTuple):
    """Per-prediction uncertainty: ``total = aleatoric + epistemic`` exactly."""

    total: np.ndarray
    aleatoric: np.ndarray
    epistemic: np.ndarray


@dataclass(frozen=True)
class Finding:
    """One failed check: what, how bad, against which threshold, and what to do."""

    check: str
    value: float
    threshold: float
    where: str
    advice: str

    def __str__(self) -> str:
        return f"{self.check} = {self.value:.4g} (threshold {self.threshold:g}) {self.where}: {self.advice}"


@runtime_checkable
class Posterior(Protocol):
    """What every result of every rung provides.

    ``interval`` returns :class:`Interval`; ``sample`` takes an explicit key (a JAX key,
    a ``numpy.random.Generator`` or an int) and stacks draws on a new leading axis;
    ``summary`` is a DataFrame whose first columns are ``mean, sd, <kind>_<low>%,
    <kind>_<high>%``; ``to_arviz`` returns an ArviZ ``DataTree`` (objects that have to
    draw first require ``key``); ``check`` returns the failed checks (empty when healthy).
    """

    def mean(self) -> Any:
        """Posterior mean."""

    def var(self) -> Any:
        """Posterior variance."""

    def std(self) -> Any:
        """Posterior standard deviation."""

    def interval(self, prob: float = 0.95, kind: str = "eti") -> Interval:
        """Equal-tailed (``"eti"``) or highest-density (``"hdi"``) interval holding ``prob``."""

    def sample(self, key: Any, num_samples: int) -> Any:
        """``num_samples`` draws, stacked on a new leading axis."""

    def summary(self, prob: float = 0.95, kind: str = "eti") -> pd.DataFrame:
        """Table of ``mean, sd, <kind>_<low>%, <kind>_<high>%`` (and more) per scalar quantity."""

    def to_arviz(self, key: Any = None, num_draws: int = 1000) -> Any:
        """An ArviZ ``DataTree``."""

    def check(self) -> tuple[Finding, ...]:
        """Failed checks, with advice (empty when nothing is wrong)."""


@runtime_checkable
class Predictive(Posterior, Protocol):
    """A posterior predictive: a :class:`Posterior` over new observations that can also score them."""

    def log_prob(self, y: Any) -> Any:
        """Log predictive density (or mass) of observed ``y``."""

    def decompose(self) -> Decomposition:
        """Aleatoric and epistemic parts of the predictive uncertainty; they sum to the total."""

    def evaluate(self, y: Any) -> dict[str, float]:
        """Held-out metrics of ``y`` under this predictive."""


def has_evidence(obj: Any) -> bool:
    """True when ``obj`` has a log evidence (marginal likelihood) to compare with, e.g. in ``bayes_factor``."""
    return callable(getattr(obj, "log_evidence", None))


def check_interval_args(prob: Any, kind: Any) -> tuple[float, str]:
    """Validate ``prob`` in (0, 1) and ``kind`` in :data:`INTERVAL_KINDS`."""
    from bayeskit._validate import check_choice, check_prob

    prob = check_prob(prob)
    check_choice(kind, "interval kind", INTERVAL_KINDS)
    return prob, kind


def interval_columns(prob: float, kind: str = "eti") -> tuple[str, str]:
    """ArviZ's column names for an interval holding ``prob``: e.g. ``("eti_2.5%", "eti_97.5%")``."""
    return f"{kind}_{100 * (1 - prob) / 2:g}%", f"{kind}_{100 * (1 + prob) / 2:g}%"


def check_num_samples(num_samples: Any, name: str = "num_samples") -> int:
    """A positive int count of draws, or a clear error naming ``name``."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, int | np.integer):
        raise TypeError(f"`{name}` must be an int; got {type(num_samples).__name__}.")
    if num_samples < 1:
        raise ValueError(f"`{name}` must be >= 1; got {num_samples}.")
    return int(num_samples)


def require_key(key: Any, what: str) -> Any:
    """Return ``key``, or raise the standard error saying that ``what`` needs one."""
    if key is None:
        raise TypeError(
            f"{what} draws exact samples and needs `key`: pass a JAX key, a numpy.random.Generator "
            "or an int, e.g. key=0 (randomness is never defaulted)."
        )
    return key
