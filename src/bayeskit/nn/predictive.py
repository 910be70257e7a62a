"""Posterior predictives of Bayesian networks: a Gaussian mixture (regression) or averaged class probabilities.

Regression: each component is one ensemble member, dropout pass, SWAG, Laplace or
Bayes-by-backprop draw (times the components of a mixture-density head): a mean
and a variance per input, with a weight. The mixture's variance splits into
aleatoric (the expected variance within a member or draw) and epistemic (the
variance of the members' means) parts. Classification: class probabilities per
member or draw, with the entropy decomposition (BALD).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from bayeskit._validate import check_prob
from bayeskit.evaluate.decompose import Decomposition, decompose_classification

__all__ = ["CategoricalPredictive", "GaussianMixturePredictive"]


@dataclass(frozen=True)
class GaussianMixturePredictive:
    """``means`` and ``variances`` of shape ``(K, n)``: K Gaussians for each of n inputs.

    ``weights`` ``(K, n)`` (summing to 1 over K) default to equal. ``groups`` ``(K,)``
    says which member or draw each component belongs to (a mixture-density head
    gives a member several components); by default every component is its own.
    The decomposition treats the spread within a group as aleatoric, except the
    part of each component's variance named in ``latent_variances`` ``(K, n)``
    (uncertainty about the function itself, as in a GP's predictive), which is
    epistemic.
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

    def mean(self) -> np.ndarray:
        """Predictive mean per input."""
        return np.sum(self.weights * self.means, axis=0)

    def var(self) -> np.ndarray:
        """Predictive variance per input (aleatoric + epistemic)."""
        return self.decompose().total

    def std(self) -> np.ndarray:
        """Predictive standard deviation per input."""
        return np.sqrt(self.var())

    def decompose(self) -> Decomposition:
        """``total = aleatoric + epistemic`` variances per input (law of total variance over groups)."""
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
        return np.sum(self.weights * stats.norm.cdf(z), axis=0)

    def log_prob(self, y: Any) -> np.ndarray:
        """Log predictive density of observed ``y`` (shape ``(n,)``), per input."""
        y = np.asarray(y, dtype=float)
        terms = stats.norm.logpdf(y, self.means, np.sqrt(self.variances))
        with np.errstate(divide="ignore"):
            return special.logsumexp(terms + np.log(self.weights), axis=0)

    def interval(self, prob: float = 0.95, kind: str = "eti") -> tuple[np.ndarray, np.ndarray]:
        """Predictive interval per input: equal-tailed (``"eti"``) or the shortest one (``"hdi"``).

        Both are exact for the mixture (quantiles by bisection on its CDF). The HDI is the
        shortest single interval holding ``prob``; for a multi-modal mixture the highest-density
        *region* can be a union of intervals, which this does not split.
        """
        from bayeskit._validate import check_choice

        prob = check_prob(prob)
        check_choice(kind, "kind", ("eti", "hdi"))
        if kind == "eti":
            return self.quantile((1 - prob) / 2), self.quantile((1 + prob) / 2)
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
        return self.quantile(tail), self.quantile(tail + prob)

    def summary(self, prob: float = 0.95) -> Any:
        """A pandas table per input: mean, sd, equal-tailed interval, aleatoric and epistemic sd."""
        import pandas as pd

        low, high = self.interval(prob)
        parts = self.decompose()
        percent = f"{100 * prob:g}%"
        return pd.DataFrame(
            {
                "mean": self.mean(),
                "sd": np.sqrt(parts.total),
                f"low_{percent}": low,
                f"high_{percent}": high,
                "aleatoric_sd": np.sqrt(parts.aleatoric),
                "epistemic_sd": np.sqrt(parts.epistemic),
            }
        )

    def quantile(self, level: Any) -> np.ndarray:
        """The mixture's ``level`` quantile per input (a scalar level, or one per input), to 1e-10 of the spread."""
        sd = np.sqrt(self.variances)
        low = (self.means - 10 * sd).min(axis=0)
        high = (self.means + 10 * sd).max(axis=0)
        for _ in range(60):
            middle = 0.5 * (low + high)
            below = self.cdf(middle) < level
            low, high = np.where(below, middle, low), np.where(below, high, middle)
        return 0.5 * (low + high)

    def sample(self, rng: Any, num_samples: int) -> np.ndarray:
        """``(num_samples, n)`` draws: a random component, then its Gaussian."""
        from bayeskit._rng import as_generator

        generator = as_generator(rng)
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

    def evaluate(self, y: Any, num_draws: int = 1000, rng: Any = 0) -> dict[str, float]:
        """Held-out metrics from the exact mixture: RMSE, NLL, CRPS, coverage, calibration, decomposition.

        ``nll`` is the mean negative log predictive density; ``crps`` uses
        ``num_draws`` draws; calibration uses the mixture's PIT values.
        """
        from bayeskit.evaluate.regression import (
            central_interval_coverage,
            crps_samples,
            mean_absolute_calibration_error,
            miscalibration_area,
        )

        y = np.asarray(y, dtype=float)
        if y.shape != (self.means.shape[1],):
            raise ValueError(f"`y` must have shape ({self.means.shape[1]},) like the predictions; got {y.shape}.")
        pit = np.clip(self.cdf(y), 0.0, 1.0)
        coverage = central_interval_coverage(pit, [0.5, 0.8, 0.9, 0.95])
        parts = self.decompose()
        return {
            "n": float(y.size),
            "rmse": float(np.sqrt(np.mean((y - self.mean()) ** 2))),
            "nll": float(-np.mean(self.log_prob(y))),
            "crps": crps_samples(y, self.sample(rng, num_draws)),
            **{
                f"coverage_{round(100 * level)}": float(value)
                for level, value in zip(coverage["level"], coverage["coverage"], strict=True)
            },
            "mean_absolute_calibration_error": mean_absolute_calibration_error(pit),
            "miscalibration_area": miscalibration_area(pit),
            "mean_std": float(np.mean(np.sqrt(parts.total))),
            "mean_aleatoric_var": float(np.mean(parts.aleatoric)),
            "mean_epistemic_var": float(np.mean(parts.epistemic)),
        }

    def to_arviz(self, y: Any = None, num_draws: int = 1000, rng: Any = 0, name: str = "y") -> Any:
        """An ``arviz.InferenceData`` with ``num_draws`` predictive draws (and ``y`` as observed data).

        The draws sit in ``posterior_predictive`` as one chain, so ArviZ's
        ``plot_ppc``, ``hdi`` and ``summary`` apply.
        """
        import arviz as az

        draws = {name: self.sample(rng, num_draws)[None]}
        observed = None if y is None else {name: np.asarray(y, dtype=float)}
        return az.from_dict(posterior_predictive=draws, observed_data=observed)


@dataclass(frozen=True)
class CategoricalPredictive:
    """Class probabilities ``(K, n, C)`` from K members or draws; ``classes`` are the original labels.

    The predictive is their average; ``decompose()`` splits its entropy into the
    expected entropy (aleatoric) and the mutual information between label and
    weights (epistemic, BALD), in nats.
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

    def predict(self) -> np.ndarray:
        """The most probable class per input, in the original labels."""
        return np.asarray(self.classes)[np.argmax(self.mean(), axis=1)]

    def decompose(self) -> Decomposition:
        """``total = aleatoric + epistemic`` entropies per input (nats)."""
        return decompose_classification(self.probs)

    def summary(self) -> Any:
        """A pandas table per input: the predicted class, its probabilities and the entropy decomposition."""
        import pandas as pd

        parts = self.decompose()
        table = pd.DataFrame(self.mean(), columns=[f"p_{c}" for c in np.asarray(self.classes).tolist()])
        table.insert(0, "predicted", self.predict())
        return table.assign(total_entropy=parts.total, aleatoric=parts.aleatoric, epistemic=parts.epistemic)

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

    def sample(self, rng: Any, num_samples: int) -> np.ndarray:
        """``(num_samples, n)`` class indices: a random member or draw, then its categorical."""
        from bayeskit._rng import as_generator

        generator = as_generator(rng)
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

    def to_arviz(self, y: Any = None, num_draws: int = 1000, rng: Any = 0, name: str = "y") -> Any:
        """An ``arviz.InferenceData`` with predictive class-index draws (and ``y``'s indices as observed data)."""
        import arviz as az

        draws = {name: self.sample(rng, num_draws)[None]}
        observed = None if y is None else {name: self.label_index(y)}
        return az.from_dict(posterior_predictive=draws, observed_data=observed)
