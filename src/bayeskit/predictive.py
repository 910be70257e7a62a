"""The predictive family every rung returns: a Gaussian mixture (a Gaussian is its one-component case) or classes.

Regression: each component is one ensemble member, dropout pass, SWAG, Laplace or
Bayes-by-backprop draw (times the components of a mixture-density head), one MCMC draw of
a GP's hyperparameters, or, with one component, a GP's or a conjugate regression's own
Gaussian: a mean and a variance per input, with a weight. The variance splits into
aleatoric (the expected variance within a member or draw) and epistemic (the variance
of the members' means, plus any latent-function variance) parts. Classification: class
probabilities per member or draw, with the entropy decomposition (BALD).

Exact conjugate models return :class:`ExactPredictive`: their closed-form predictive
(Student-t, beta-binomial, negative binomial, Normal) with its variance split exactly into
noise and parameter uncertainty. All three satisfy :class:`bayeskit.posterior.Predictive`.

Examples
--------
>>> import numpy as np
>>> from bayeskit.predictive import GaussianMixturePredictive
>>> latent = np.array([0.5, 1.5])
>>> gp_like = GaussianMixturePredictive.gaussian(np.zeros(2), latent + 0.5, latent_variance=latent)
>>> parts = gp_like.decompose()
>>> parts.aleatoric.tolist(), parts.epistemic.tolist()
([0.5, 0.5], [0.5, 1.5])
>>> gp_like.interval(0.95).high.round(3).tolist()
[1.96, 2.772]

"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from bayeskit.posterior import (
    Decomposition,
    Finding,
    Interval,
    as_generator,
    check_interval_args,
    check_num_samples,
    interval_columns,
    require_key,
)

__all__ = ["CategoricalPredictive", "DrawsPredictive", "ExactPredictive", "GaussianMixturePredictive"]


def _finite_findings(values: np.ndarray, what: str) -> tuple[Finding, ...]:
    bad = int(np.sum(~np.isfinite(values)))
    if not bad:
        return ()
    return (
        Finding(
            "non-finite predictions",
            bad,
            0,
            f"in {what}",
            "the model produced NaN or inf: check the inputs' scale, lower the learning rate, or refit.",
        ),
    )


@dataclass(frozen=True)
class GaussianMixturePredictive:
    """``means`` and ``variances`` of shape ``(K, n)``: K Gaussians for each of n inputs.

    ``weights`` ``(K, n)`` (summing to 1 over K) default to equal. ``groups`` ``(K,)``
    says which member or draw each component belongs to (a mixture-density head
    gives a member several components); by default every component is its own.
    The decomposition treats the spread within a group as aleatoric, except the
    part of each component's variance named in ``latent_variances`` ``(K, n)``
    (uncertainty about the function itself, as in a GP's predictive), which is
    epistemic. ``GaussianMixturePredictive.gaussian(mean, variance, latent_variance)``
    builds the one-component case.
    """

    means: np.ndarray
    variances: np.ndarray
    method: str = ""
    weights: np.ndarray | None = None
    groups: np.ndarray | None = None
    latent_variances: np.ndarray | None = None

    def __post_init__(self):
        if self.means.shape != self.variances.shape or self.means.ndim != 2:
            raise ValueError(
                f"`means` and `variances` must both be (K, n); got {self.means.shape} and {self.variances.shape}."
            )
        if self.weights is None:
            object.__setattr__(self, "weights", np.full(self.means.shape, 1.0 / self.means.shape[0]))
        elif self.weights.shape != self.means.shape or np.any(np.abs(self.weights.sum(axis=0) - 1.0) > 1e-6):
            raise ValueError(f"`weights` must be {self.means.shape} and sum to 1 over components.")
        if self.groups is None:
            object.__setattr__(self, "groups", np.arange(self.means.shape[0]))
        elif np.shape(self.groups) != (self.means.shape[0],):
            raise ValueError(f"`groups` must have one entry per component ({self.means.shape[0]}).")

    @classmethod
    def gaussian(
        cls, mean: Any, variance: Any, latent_variance: Any = None, method: str = ""
    ) -> GaussianMixturePredictive:
        """The one-component case: ``N(mean, variance)`` per input, ``latent_variance`` of it epistemic.

        Parameters
        ----------
        mean, variance
            Shape ``(n,)``: the predictive mean and the total variance of a new observation.
        latent_variance
            Shape ``(n,)``: the part of ``variance`` that is uncertainty about the function
            (a GP's latent variance, a regression's parameter uncertainty); the rest is noise.
        method
            A label for tables and reports.

        """
        mean = np.atleast_1d(np.asarray(mean, dtype=float))
        variance = np.broadcast_to(np.asarray(variance, dtype=float), mean.shape)
        latent = None
        if latent_variance is not None:
            latent = np.broadcast_to(np.asarray(latent_variance, dtype=float), mean.shape)[None]
        return cls(mean[None], np.array(variance)[None], method, latent_variances=latent)

    @property
    def is_gaussian(self) -> bool:
        """True for the one-component case, where intervals and the CRPS have closed forms."""
        return self.means.shape[0] == 1

    def mean(self) -> np.ndarray:
        """Predictive mean per input."""
        return np.sum(self.weights * self.means, axis=0)

    def var(self) -> np.ndarray:
        """Predictive variance per input (aleatoric + epistemic)."""
        return self.decompose().total

    def std(self) -> np.ndarray:
        """Predictive standard deviation per input."""
        return np.sqrt(self.var())

    def check(self) -> tuple[Finding, ...]:
        """A finding when any mean or variance is NaN or infinite (empty otherwise)."""
        return _finite_findings(np.concatenate([self.means, self.variances]), "the predictive means or variances")

    def decompose(self) -> Decomposition:
        """``total = aleatoric + epistemic`` variances per input (law of total variance over groups)."""
        if self.is_gaussian:
            latent = np.zeros_like(self.variances[0]) if self.latent_variances is None else self.latent_variances[0]
            return Decomposition(self.variances[0].copy(), self.variances[0] - latent, latent.copy())
        _, index = np.unique(self.groups, return_inverse=True)
        membership = np.eye(index.max() + 1)[index].T  # (groups, K)
        group_weight = membership @ self.weights
        safe = np.where(group_weight > 0, group_weight, 1.0)
        group_mean = membership @ (self.weights * self.means) / safe
        group_second = membership @ (self.weights * (self.variances + self.means**2)) / safe
        aleatoric = np.sum(group_weight * np.maximum(group_second - group_mean**2, 0.0), axis=0)
        epistemic = np.sum(group_weight * (group_mean - self.mean()) ** 2, axis=0)
        if self.latent_variances is not None:
            latent = np.sum(self.weights * self.latent_variances, axis=0)
            aleatoric, epistemic = aleatoric - latent, epistemic + latent
        return Decomposition(aleatoric + epistemic, aleatoric, epistemic)

    def cdf(self, y: Any) -> np.ndarray:
        """P(Y <= y) under the mixture, per input."""
        z = (np.asarray(y, dtype=float) - self.means) / np.sqrt(self.variances)
        return np.sum(self.weights * special.ndtr(z), axis=0)

    def log_prob(self, y: Any) -> np.ndarray:
        """Log predictive density of observed ``y`` (shape ``(n,)``), per input."""
        y = np.asarray(y, dtype=float)
        terms = stats.norm.logpdf(y, self.means, np.sqrt(self.variances))
        with np.errstate(divide="ignore"):
            return special.logsumexp(terms + np.log(self.weights), axis=0)

    def interval(self, prob: float = 0.95, kind: str = "eti") -> Interval:
        """Predictive interval per input: equal-tailed (``"eti"``) or the shortest one (``"hdi"``).

        Both are exact: closed-form Gaussian quantiles for one component (where the two
        coincide), bisection on the mixture's CDF otherwise. The HDI is the shortest
        single interval holding ``prob``; for a multi-modal mixture the highest-density
        *region* can be a union of intervals, which this does not split.
        """
        prob, kind = check_interval_args(prob, kind)
        if kind == "eti" or self.is_gaussian:
            return Interval(self.quantile((1 - prob) / 2), self.quantile((1 + prob) / 2))
        # Golden-section search over the lower tail mass a in [0, 1 - prob] for the shortest [Q(a), Q(a + prob)].
        ratio = (np.sqrt(5.0) - 1) / 2
        low = np.full(self.means.shape[1], 1e-9)
        high = np.full(self.means.shape[1], 1 - prob - 1e-9)

        def width(a):
            return self.quantile(a + prob) - self.quantile(a)

        for _ in range(30):
            left, right = high - ratio * (high - low), low + ratio * (high - low)
            shorter_left = width(left) < width(right)
            high = np.where(shorter_left, right, high)
            low = np.where(shorter_left, low, left)
        tail = 0.5 * (low + high)
        return Interval(self.quantile(tail), self.quantile(tail + prob))

    def summary(self, prob: float = 0.95, kind: str = "eti") -> Any:
        """A pandas table per input: ``mean, sd, <kind>_<low>%, <kind>_<high>%``, aleatoric and epistemic sd."""
        import pandas as pd

        prob, kind = check_interval_args(prob, kind)
        low, high = self.interval(prob, kind)
        parts = self.decompose()
        low_label, high_label = interval_columns(prob, kind)
        return pd.DataFrame(
            {
                "mean": self.mean(),
                "sd": np.sqrt(parts.total),
                low_label: low,
                high_label: high,
                "aleatoric_sd": np.sqrt(parts.aleatoric),
                "epistemic_sd": np.sqrt(parts.epistemic),
            }
        )

    def quantile(self, level: Any) -> np.ndarray:
        """The mixture's ``level`` quantile per input (a scalar level, or one per input), to 1e-10 of the spread."""
        if self.is_gaussian:
            return self.means[0] + np.sqrt(self.variances[0]) * special.ndtri(level)
        sd = np.sqrt(self.variances)
        low = (self.means - 10 * sd).min(axis=0)
        high = (self.means + 10 * sd).max(axis=0)
        for _ in range(60):
            middle = 0.5 * (low + high)
            below = self.cdf(middle) < level
            low, high = np.where(below, middle, low), np.where(below, high, middle)
        return 0.5 * (low + high)

    def sample(self, key: Any, num_samples: int) -> np.ndarray:
        """``(num_samples, n)`` independent draws of new observations: a random component, then its Gaussian."""
        generator = as_generator(key)
        num_samples = check_num_samples(num_samples)
        num_components, num_inputs = self.means.shape
        if np.allclose(self.weights, 1.0 / num_components):
            components = generator.integers(0, num_components, size=(num_samples, num_inputs))
        else:
            cumulative = np.cumsum(self.weights, axis=0)
            uniform = generator.uniform(size=(num_samples, num_inputs))
            components = np.stack([np.searchsorted(cumulative[:, j], uniform[:, j]) for j in range(num_inputs)], axis=1)
            components = np.minimum(components, num_components - 1)
        columns = np.arange(self.means.shape[1])
        mean, var = self.means[components, columns], self.variances[components, columns]
        return mean + np.sqrt(var) * generator.standard_normal(mean.shape)

    def crps(self, y: Any) -> np.ndarray:
        """Exact CRPS of each observation under the mixture, ``(n,)`` (no sampling).

        ``CRPS = sum_i w_i A(y - m_i, s_i^2) - 1/2 sum_ij w_i w_j A(m_i - m_j, s_i^2 + s_j^2)`` with
        ``A(m, v) = 2 sqrt(v) phi(m / sqrt(v)) + m (2 Phi(m / sqrt(v)) - 1)``, the expected absolute
        value of ``N(m, v)``; one component gives the Gaussian closed form.

        References
        ----------
        Grimit, Gneiting, Berrocal & Johnson (2006). The continuous ranked probability score for
        circular variables and its application to mesoscale forecast ensemble verification. QJRMS 132, eq. (5).

        """
        y = np.asarray(y, dtype=float)

        def expected_abs(m: np.ndarray, v: np.ndarray) -> np.ndarray:
            s = np.sqrt(v)
            z = m / s
            return 2 * s * np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi) + m * (2 * special.ndtr(z) - 1)

        to_target = np.sum(self.weights * expected_abs(y - self.means, self.variances), axis=0)
        spread = np.zeros_like(to_target)
        for i in range(self.means.shape[0]):
            pair = expected_abs(self.means[i] - self.means, self.variances[i] + self.variances)
            spread += self.weights[i] * np.sum(self.weights * pair, axis=0)
        return to_target - 0.5 * spread

    def evaluate(self, y: Any) -> dict[str, float]:
        """Held-out metrics from the exact mixture: RMSE, NLL, CRPS, coverage, calibration, decomposition.

        ``nll`` is the mean negative log predictive density, ``crps`` the exact mean CRPS,
        and calibration uses the mixture's PIT values; nothing is sampled.
        """
        from bayeskit.evaluate.regression import predictive_metrics

        y = np.asarray(y, dtype=float)
        if y.shape != (self.means.shape[1],):
            raise ValueError(f"`y` must have shape ({self.means.shape[1]},) like the predictions; got {y.shape}.")
        return predictive_metrics(self, y)

    def to_arviz(self, key: Any = None, num_draws: int = 1000, *, y: Any = None, name: str = "y") -> Any:
        """An ArviZ ``DataTree`` with ``num_draws`` predictive draws (and ``y`` as observed data).

        The draws sit in ``posterior_predictive`` as one chain, so ArviZ's predictive
        checks, ``hdi`` and ``summary`` apply. ``key`` is required: the draws are random.
        """
        from bayeskit._arviz import from_dict

        require_key(key, "GaussianMixturePredictive.to_arviz()")
        draws = {name: self.sample(key, check_num_samples(num_draws, "num_draws"))[None]}
        observed = None if y is None else {name: np.asarray(y, dtype=float)}
        return from_dict({"posterior_predictive": draws, "observed_data": observed})


@dataclass(frozen=True)
class CategoricalPredictive:
    """Class probabilities ``(K, n, C)`` from K members or draws; ``classes`` are the original labels.

    The predictive is their average; ``decompose()`` splits its entropy into the
    expected entropy (aleatoric) and the mutual information between label and
    weights (epistemic, BALD), in nats. ``mean()`` is the ``(n, C)`` predictive
    probabilities; ``var()``, ``std()`` and ``interval()`` describe the posterior
    uncertainty of each class probability across the K members or draws (epistemic).
    """

    probs: np.ndarray
    classes: np.ndarray
    method: str = ""

    def __post_init__(self):
        if self.probs.ndim != 3 or self.probs.shape[2] != len(self.classes):
            raise ValueError(f"`probs` must be (K, n, {len(self.classes)}); got {self.probs.shape}.")

    def mean(self) -> np.ndarray:
        """Predictive class probabilities ``(n, C)``."""
        return self.probs.mean(axis=0)

    def var(self) -> np.ndarray:
        """Variance of each class probability across members or draws, ``(n, C)`` (0 for one member)."""
        return self.probs.var(axis=0)

    def std(self) -> np.ndarray:
        """Standard deviation of each class probability across members or draws, ``(n, C)``."""
        return np.sqrt(self.var())

    def interval(self, prob: float = 0.95, kind: str = "eti") -> Interval:
        """Interval of each class probability across members or draws, ``(n, C)`` bounds."""
        from bayeskit._arviz import hdi

        prob, kind = check_interval_args(prob, kind)
        if kind == "eti":
            low, high = np.quantile(self.probs, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
            return Interval(low, high)
        if self.probs.shape[0] == 1:
            return Interval(self.probs[0].copy(), self.probs[0].copy())
        return Interval(*hdi(self.probs, prob))

    def predict(self) -> np.ndarray:
        """The most probable class per input, in the original labels."""
        return np.asarray(np.asarray(self.classes).tolist())[np.argmax(self.mean(), axis=1)]

    def check(self) -> tuple[Finding, ...]:
        """A finding when any probability is NaN or infinite (empty otherwise)."""
        return _finite_findings(self.probs, "the class probabilities")

    def decompose(self) -> Decomposition:
        """``total = aleatoric + epistemic`` entropies per input (nats)."""
        from bayeskit.evaluate.decompose import decompose_classification

        return decompose_classification(self.probs)

    def log_prob(self, y: Any) -> np.ndarray:
        """Log predictive probability of the observed labels ``y``, per input."""
        labels = self.label_index(y)
        if labels.shape != (self.probs.shape[1],):
            raise ValueError(f"`y` must have shape ({self.probs.shape[1]},) like the predictions; got {labels.shape}.")
        with np.errstate(divide="ignore"):
            return np.log(self.mean()[np.arange(labels.size), labels])

    def summary(self, prob: float = 0.95, kind: str = "eti") -> Any:
        """One row per input and class: ``mean, sd, <kind>_<low>%, <kind>_<high>%`` of its probability.

        Also the predicted class and the entropy decomposition of each input.
        """
        import pandas as pd

        prob, kind = check_interval_args(prob, kind)
        low, high = self.interval(prob, kind)
        low_label, high_label = interval_columns(prob, kind)
        num_inputs, num_classes = self.probs.shape[1:]
        parts = self.decompose()
        index = pd.MultiIndex.from_product(
            [range(num_inputs), np.asarray(self.classes).tolist()], names=["input", "class"]
        )
        return pd.DataFrame(
            {
                "mean": self.mean().ravel(),
                "sd": self.std().ravel(),
                low_label: low.ravel(),
                high_label: high.ravel(),
                "predicted": np.repeat(self.predict(), num_classes),
                "total_entropy": np.repeat(parts.total, num_classes),
                "aleatoric": np.repeat(parts.aleatoric, num_classes),
                "epistemic": np.repeat(parts.epistemic, num_classes),
            },
            index=index,
        )

    def label_index(self, labels: Any) -> np.ndarray:
        """Positions of ``labels`` in ``classes``; an unseen label is an error naming it."""
        labels = np.asarray(labels)
        lookup = {value: index for index, value in enumerate(np.asarray(self.classes).tolist())}
        unknown = [value for value in labels.tolist() if value not in lookup]
        if unknown:
            raise ValueError(
                f"`y` has the label {unknown[0]!r}, which the model never saw in training; "
                f"known classes: {list(lookup)}."
            )
        return np.array([lookup[value] for value in labels.tolist()], dtype=np.int64)

    def sample(self, key: Any, num_samples: int) -> np.ndarray:
        """``(num_samples, n)`` class indices: a random member or draw, then its categorical."""
        generator = as_generator(key)
        num_samples = check_num_samples(num_samples)
        num_members, num_inputs, _ = self.probs.shape
        members = generator.integers(0, num_members, size=(num_samples, num_inputs))
        probs = self.probs[members, np.arange(num_inputs)]  # (S, n, C)
        uniform = generator.uniform(size=(num_samples, num_inputs, 1))
        return np.minimum((uniform > np.cumsum(probs, axis=-1)).sum(axis=-1), probs.shape[-1] - 1)

    def evaluate(self, y: Any, n_bins: int = 15) -> dict[str, float]:
        """Held-out metrics: accuracy, NLL, Brier, top-label ECE and MCE, and the mean entropy decomposition."""
        from bayeskit.evaluate.classification import (
            brier_score,
            expected_calibration_error,
            maximum_calibration_error,
            negative_log_likelihood,
        )

        labels = self.label_index(y)
        if labels.shape != (self.probs.shape[1],):
            raise ValueError(f"`y` must have shape ({self.probs.shape[1]},) like the predictions; got {labels.shape}.")
        probs = np.clip(self.mean(), 1e-12, 1.0)
        probs = probs / probs.sum(axis=1, keepdims=True)
        parts = self.decompose()
        return {
            "n": float(labels.size),
            "accuracy": float(np.mean(np.argmax(probs, axis=1) == labels)),
            "nll": negative_log_likelihood(probs, labels),
            "brier": brier_score(probs, labels),
            "ece": expected_calibration_error(probs, labels, n_bins=n_bins),
            "mce": maximum_calibration_error(probs, labels, n_bins=n_bins),
            "mean_total_entropy": float(np.mean(parts.total)),
            "mean_aleatoric_entropy": float(np.mean(parts.aleatoric)),
            "mean_epistemic_mi": float(np.mean(parts.epistemic)),
        }

    def to_arviz(self, key: Any = None, num_draws: int = 1000, *, y: Any = None, name: str = "y") -> Any:
        """An ArviZ ``DataTree`` with predictive class-index draws (and ``y``'s indices as observed data)."""
        from bayeskit._arviz import from_dict

        require_key(key, "CategoricalPredictive.to_arviz()")
        draws = {name: self.sample(key, check_num_samples(num_draws, "num_draws"))[None]}
        observed = None if y is None else {name: self.label_index(y)}
        return from_dict({"posterior_predictive": draws, "observed_data": observed})


class _DiscreteAsDensity:
    """A discrete SciPy distribution seen through ``logpdf`` (its log pmf), for the HDI search."""

    def __init__(self, distribution: Any):
        self._distribution = distribution

    def ppf(self, q: Any) -> np.ndarray:
        return self._distribution.ppf(q)

    def isf(self, q: Any) -> np.ndarray:
        return self._distribution.isf(q)

    def logpdf(self, x: Any) -> np.ndarray:
        return self._distribution.logpmf(x)


@dataclass(frozen=True, eq=False)
class ExactPredictive:
    """The closed-form posterior predictive of an exact conjugate model, with its exact decomposition.

    ``distribution`` is a frozen SciPy distribution (Student-t, beta-binomial, negative
    binomial, Normal) with the model's batch shape; ``aleatoric`` is the expected noise
    variance and ``epistemic`` the variance of the predictive mean over the posterior,
    so that ``aleatoric + epistemic`` is the predictive variance (law of total variance),
    to rounding. Dirichlet-multinomial counts use their beta-binomial marginals per
    category for intervals, with ``log_prob_fn`` and ``sample_fn`` for the joint.
    """

    distribution: Any
    aleatoric: np.ndarray
    epistemic: np.ndarray
    method: str = ""
    log_prob_fn: Any = None
    sample_fn: Any = None

    @property
    def is_discrete(self) -> bool:
        """True for count predictives (beta-binomial, negative binomial, Dirichlet-multinomial)."""
        return hasattr(self.distribution, "pmf")

    def mean(self) -> np.ndarray:
        """Predictive mean."""
        return np.asarray(self.distribution.mean())

    def var(self) -> np.ndarray:
        """Predictive variance (``aleatoric + epistemic``)."""
        return np.asarray(self.aleatoric + self.epistemic)

    def std(self) -> np.ndarray:
        """Predictive standard deviation."""
        return np.sqrt(self.var())

    def check(self) -> tuple[Finding, ...]:
        """A finding where the predictive variance does not exist (a Student-t with 2 or fewer degrees of freedom)."""
        bad = int(np.sum(~np.isfinite(self.var())))
        if not bad:
            return ()
        advice = "the predictive has heavy tails with no finite variance: read intervals, not sd (more data fixes it)."
        return (Finding("infinite predictive variance", bad, 0, "in the batch", advice),)

    def decompose(self) -> Decomposition:
        """``total = aleatoric (noise) + epistemic (parameter uncertainty)``, exactly."""
        return Decomposition(self.var(), np.asarray(self.aleatoric), np.asarray(self.epistemic))

    def cdf(self, y: Any) -> np.ndarray:
        """P(Y <= y)."""
        return np.asarray(self.distribution.cdf(np.asarray(y, dtype=float)))

    def ppf(self, level: Any) -> np.ndarray:
        """The predictive ``level`` quantile."""
        return np.asarray(self.distribution.ppf(level))

    def log_prob(self, y: Any) -> np.ndarray:
        """Log predictive density (or mass, for counts) of observed ``y``."""
        if self.log_prob_fn is not None:
            return np.asarray(self.log_prob_fn(y))
        y = np.asarray(y, dtype=float)
        if self.is_discrete:
            return np.asarray(self.distribution.logpmf(y))
        return np.asarray(self.distribution.logpdf(y))

    def interval(self, prob: float = 0.95, kind: str = "eti") -> Interval:
        """Equal-tailed or highest-density predictive interval (exact quantiles; counts stay whole)."""
        from bayeskit.conjugate._intervals import equal_tailed, highest_density

        prob, kind = check_interval_args(prob, kind)
        if kind == "eti":
            return equal_tailed(self.distribution, prob)
        if self.is_discrete:
            return highest_density(_DiscreteAsDensity(self.distribution), prob)
        return highest_density(self.distribution, prob)

    def sample(self, key: Any, num_samples: int) -> np.ndarray:
        """``(num_samples, *batch_shape)`` independent draws of new observations."""
        generator = as_generator(key)
        num_samples = check_num_samples(num_samples)
        if self.sample_fn is not None:
            return np.asarray(self.sample_fn(generator, num_samples))
        shape = (num_samples, *np.shape(self.mean()))
        return np.asarray(self.distribution.rvs(size=shape, random_state=generator))

    def crps(self, y: Any, num_levels: int = 2000) -> np.ndarray:
        """CRPS of each observation, from the quantile form ``2 int_0^1 (1{y < Q(t)} - t)(Q(t) - y) dt``.

        The midpoint rule on ``num_levels`` levels is deterministic and exact to about
        1e-4 of the predictive scale (Gneiting & Raftery 2007, eq. 21).
        """
        y = np.asarray(y, dtype=float)
        levels = ((np.arange(num_levels) + 0.5) / num_levels).reshape(-1, *([1] * np.ndim(self.mean())))
        quantiles = np.asarray(self.distribution.ppf(levels))
        return 2.0 * np.mean(((y < quantiles) - levels) * (quantiles - y), axis=0)

    def summary(self, prob: float = 0.95, kind: str = "eti") -> Any:
        """One row per batch entry: ``mean, sd, <kind>_<low>%, <kind>_<high>%``, aleatoric and epistemic sd."""
        import pandas as pd

        prob, kind = check_interval_args(prob, kind)
        low, high = self.interval(prob, kind)
        low_label, high_label = interval_columns(prob, kind)
        return pd.DataFrame(
            {
                "mean": np.ravel(self.mean()),
                "sd": np.ravel(self.std()),
                low_label: np.ravel(low),
                high_label: np.ravel(high),
                "aleatoric_sd": np.ravel(np.sqrt(self.aleatoric)),
                "epistemic_sd": np.ravel(np.sqrt(self.epistemic)),
            }
        )

    def evaluate(self, y: Any) -> dict[str, float]:
        """Held-out metrics in the schema every regression predictive uses (RMSE, NLL, CRPS, coverage, ...)."""
        from bayeskit.evaluate.regression import predictive_metrics

        y = np.asarray(y, dtype=float)
        shape = np.shape(self.mean())
        if y.shape != shape:
            raise ValueError(f"`y` must have shape {shape} like the predictions; got {y.shape}.")
        return predictive_metrics(self, y)

    def to_arviz(self, key: Any = None, num_draws: int = 1000, *, y: Any = None, name: str = "y") -> Any:
        """An ArviZ ``DataTree`` with ``num_draws`` predictive draws as one chain (and ``y`` as observed data)."""
        from bayeskit._arviz import from_dict

        require_key(key, "ExactPredictive.to_arviz()")
        draws = {name: self.sample(key, check_num_samples(num_draws, "num_draws"))[None]}
        observed = None if y is None else {name: np.asarray(y, dtype=float)}
        return from_dict({"posterior_predictive": draws, "observed_data": observed})


@dataclass(frozen=True, eq=False)
class DrawsPredictive:
    """The posterior predictive of a draws-based fit (NUTS, Laplace, ADVI): replicated data and per-draw laws.

    ``draws`` maps every sampled site to its replicated draws ``(S, *shape)`` (the object is
    also a read-only mapping of them, so ``predictive["obs"]`` gives the array). ``site`` is
    the observed site it describes; ``component_means`` and ``component_variances``
    ``(S, *shape)`` are that site's mean and variance under each parameter draw, so the
    predictive variance splits by the law of total variance into aleatoric (the mean
    variance) and epistemic (the variance of the means) parts, exactly for the draws.
    ``log_prob_fn(y)`` gives each draw's log likelihood ``(S, *shape)``; ``cdf_fn`` likewise
    its CDF where the distribution has one. A categorical site carries ``probs``
    ``(S, *shape, K)`` and decomposes entropy instead (BALD).
    """

    draws: dict[str, np.ndarray]
    site: str
    component_means: np.ndarray | None = None
    component_variances: np.ndarray | None = None
    log_prob_fn: Any = None
    cdf_fn: Any = None
    probs: np.ndarray | None = None
    method: str = ""

    # -- mapping of the replicated draws (backward compatible with a dict of arrays) -----
    def __getitem__(self, name: str) -> np.ndarray:
        return self.draws[name]

    def __iter__(self):
        return iter(self.draws)

    def __len__(self) -> int:
        return len(self.draws)

    def __contains__(self, name: object) -> bool:
        return name in self.draws

    def keys(self):
        """The sampled sites."""
        return self.draws.keys()

    def items(self):
        """``(site, draws)`` pairs."""
        return self.draws.items()

    # -- the protocol ------------------------------------------------------------------------
    @property
    def values_(self) -> np.ndarray:
        """The replicated draws of the described site, ``(S, *shape)``."""
        return np.asarray(self.draws[self.site], dtype=float)

    def _decomposable(self) -> bool:
        return self.component_means is not None and self.component_variances is not None

    def mean(self) -> np.ndarray:
        """Predictive mean of the site (exact over the draws when its per-draw means are known).

        For a categorical site: the predictive class probabilities ``(*shape, K)``.
        """
        if self.probs is not None:
            return self.probs.mean(axis=0)
        return self.component_means.mean(axis=0) if self._decomposable() else self.values_.mean(axis=0)

    def var(self) -> np.ndarray:
        """Predictive variance of the site (aleatoric + epistemic); of each class probability for classes."""
        if self.probs is not None:
            return self.probs.var(axis=0)
        if self._decomposable():
            return self.decompose().total
        return self.values_.var(axis=0)

    def std(self) -> np.ndarray:
        """Predictive standard deviation of the site."""
        return np.sqrt(self.var())

    def decompose(self) -> Decomposition:
        """``total = aleatoric + epistemic``: variances by the law of total variance, or entropies for classes.

        Raises
        ------
        ValueError
            When the site's distribution exposes neither per-draw moments nor probabilities.

        """
        if self.probs is not None:
            from bayeskit.evaluate.decompose import decompose_classification

            flat = self.probs.reshape(self.probs.shape[0], -1, self.probs.shape[-1])
            parts = decompose_classification(flat)
            shape = self.probs.shape[1:-1]
            return Decomposition(*(np.reshape(p, shape) for p in parts))
        if not self._decomposable():
            raise ValueError(
                f"the observed site {self.site!r} has no per-draw mean and variance to split: decompose() covers "
                "sites whose distribution has them (Normal, Student-t, Bernoulli, Poisson, ...)."
            )
        aleatoric = self.component_variances.mean(axis=0)
        epistemic = self.component_means.var(axis=0)
        return Decomposition(aleatoric + epistemic, aleatoric, epistemic)

    def interval(self, prob: float = 0.95, kind: str = "eti") -> Interval:
        """Equal-tailed or highest-density interval of the replicated draws of the site."""
        from bayeskit._arviz import hdi

        prob, kind = check_interval_args(prob, kind)
        if kind == "eti":
            low, high = np.quantile(self.values_, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
            return Interval(low, high)
        return Interval(*hdi(self.values_, prob))

    def sample(self, key: Any, num_samples: int) -> np.ndarray:
        """``(num_samples, *shape)`` replicated draws of the site, resampled with replacement by ``key``."""
        index = as_generator(key).integers(0, self.values_.shape[0], size=check_num_samples(num_samples))
        return self.values_[index]

    def check(self) -> tuple[Finding, ...]:
        """A finding when any replicated value is NaN or infinite (empty otherwise)."""
        return _finite_findings(self.values_, f"the replicated {self.site!r}")

    def log_prob(self, y: Any) -> np.ndarray:
        """Log predictive density of ``y`` per element: ``log mean_s p(y | draw s)`` (exact over the draws)."""
        if self.log_prob_fn is None:
            raise ValueError(f"the observed site {self.site!r} has no log density to evaluate.")
        per_draw = np.asarray(self.log_prob_fn(np.asarray(y)), dtype=float)
        return special.logsumexp(per_draw, axis=0) - np.log(per_draw.shape[0])

    def cdf(self, y: Any) -> np.ndarray:
        """P(Y <= y): the mean of the per-draw CDFs where known, else the draws' empirical CDF (ties halved)."""
        y = np.asarray(y, dtype=float)
        if self.cdf_fn is not None:
            return np.asarray(self.cdf_fn(y), dtype=float).mean(axis=0)
        return (self.values_ < y).mean(axis=0) + 0.5 * (self.values_ == y).mean(axis=0)

    def crps(self, y: Any) -> np.ndarray:
        """CRPS of each observation from the replicated draws (the energy form, exact for their empirical law)."""
        from bayeskit.evaluate.regression import crps_samples_pointwise

        y = np.asarray(y, dtype=float)
        draws = self.values_.reshape(self.values_.shape[0], -1)
        return crps_samples_pointwise(y.reshape(-1), draws).reshape(y.shape)

    def evaluate(self, y: Any) -> dict[str, float]:
        """Held-out metrics: the regression schema, or the classification one for a categorical site."""
        y = np.asarray(y)
        shape = self.values_.shape[1:]
        if y.shape != shape:
            raise ValueError(f"`y` must have shape {shape} like the site {self.site!r}; got {y.shape}.")
        if self.probs is not None:
            flat = self.probs.reshape(self.probs.shape[0], -1, self.probs.shape[-1])
            classes = np.arange(self.probs.shape[-1])
            return CategoricalPredictive(flat, classes, self.method).evaluate(y.reshape(-1).astype(int))
        from bayeskit.evaluate.regression import predictive_metrics

        return predictive_metrics(self, y.astype(float))

    def summary(self, prob: float = 0.95, kind: str = "eti") -> Any:
        """One row per element of the site: ``mean, sd, <kind>_<low>%, <kind>_<high>%`` and the decomposition."""
        import pandas as pd

        prob, kind = check_interval_args(prob, kind)
        if self.probs is not None:
            flat = self.probs.reshape(self.probs.shape[0], -1, self.probs.shape[-1])
            return CategoricalPredictive(flat, np.arange(flat.shape[-1]), self.method).summary(prob, kind)
        low, high = self.interval(prob, kind)
        low_label, high_label = interval_columns(prob, kind)
        columns = {
            "mean": np.ravel(self.mean()),
            "sd": np.ravel(self.std()),
            low_label: np.ravel(low),
            high_label: np.ravel(high),
        }
        if self._decomposable():
            parts = self.decompose()
            columns["aleatoric_sd"] = np.ravel(np.sqrt(parts.aleatoric))
            columns["epistemic_sd"] = np.ravel(np.sqrt(parts.epistemic))
        return pd.DataFrame(columns)

    def to_arviz(self, key: Any = None, num_draws: int | None = None, *, y: Any = None) -> Any:
        """An ArviZ ``DataTree`` with every site's replicated draws as one chain (``y`` as observed data)."""
        from bayeskit._arviz import from_dict

        groups: dict[str, Any] = {"posterior_predictive": {k: np.asarray(v)[None] for k, v in self.draws.items()}}
        if y is not None:
            groups["observed_data"] = {self.site: np.asarray(y)}
        return from_dict(groups)
