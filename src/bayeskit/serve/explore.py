"""What each exploration page shows, computed by bayeskit: pure functions of validated numbers to JSON-ready dicts.

Every number a page displays comes from here (and so from ``bayeskit.conjugate``,
``bayeskit.gp`` and SciPy), never from the page's JavaScript, which only draws.
Arrays are returned as lists; a value that does not exist (the MLE with no data, the
MAP of a U-shaped Beta) is ``None``, shown as "undefined" with the reason.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np
from scipy import stats

from bayeskit.serve._params import BadRequest

__all__ = [
    "aleatoric_epistemic",
    "beta_binomial",
    "beta_binomial_flip",
    "continual",
    "covariance",
    "gaussian",
    "mle_map",
    "normal_mean",
    "regularization",
    "topics",
]

_GRID = 301  # points of each density curve


def _number(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _numbers(values: Any) -> list[float | None]:
    array = np.asarray(values, dtype=float).ravel()
    return [float(v) if math.isfinite(v) else None for v in array]


def _stream(seed: int, *path: int) -> np.random.Generator:
    """An independent NumPy stream for ``seed`` and a path of indices (``SeedSequence`` entropy, no arithmetic)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), *map(int, path)]))


# ----------------------------------------------------------------------------------------------
# Beta-Binomial: prior, likelihood, posterior
# ----------------------------------------------------------------------------------------------
def _check_counts(successes: int, trials: int) -> None:
    if successes > trials:
        raise BadRequest("successes", f"<= trials ({trials})", successes, "Lower successes or raise trials.")


def beta_binomial(alpha: float, beta: float, successes: int, trials: int, prob: float = 0.95) -> dict[str, Any]:
    """Prior Beta(alpha, beta), the binomial likelihood of ``successes`` in ``trials``, and the posterior.

    Returns the posterior's mean, MAP, the MLE, the ``prob`` ETI and HDI, and the three
    curves on a grid of [0, 1] (the likelihood scaled to integrate to 1: Beta(s + 1, t - s + 1)).

    Examples
    --------
    >>> out = beta_binomial(2, 2, 3, 10)
    >>> round(out["mean"], 4), round(out["map"], 4), out["mle"]
    (0.3571, 0.3333, 0.3)
    """
    from bayeskit.conjugate import BetaBinomial

    _check_counts(successes, trials)
    prior = BetaBinomial(alpha=alpha, beta=beta)
    posterior = prior.update(successes=successes, trials=trials)
    grid = np.linspace(0.0, 1.0, _GRID)
    likelihood = BetaBinomial(alpha=successes + 1.0, beta=trials - successes + 1.0)
    with np.errstate(divide="ignore"):
        curves = {
            "x": _numbers(grid),
            "prior": _numbers(np.exp(prior.log_prob(grid))),
            "likelihood": _numbers(np.exp(likelihood.log_prob(grid))),
            "posterior": _numbers(np.exp(posterior.log_prob(grid))),
        }
    eti = posterior.interval(prob, kind="eti")
    with warnings.catch_warnings(record=True) as caught:  # a U-shaped Beta has no one-interval HDI: NaN, noted
        warnings.simplefilter("always")
        hdi = posterior.interval(prob, kind="hdi")
    mode = posterior.mode()
    return {
        "prior": {"alpha": float(alpha), "beta": float(beta)},
        "posterior": {"alpha": float(posterior.alpha), "beta": float(posterior.beta)},
        "successes": int(successes),
        "trials": int(trials),
        "prob": prob,
        "mean": float(posterior.mean()),
        "sd": float(posterior.std()),
        "map": _number(mode),
        "map_note": None if math.isfinite(float(mode)) else "U-shaped posterior: modes at 0 and 1",
        "mle": successes / trials if trials > 0 else None,
        "mle_note": None if trials > 0 else "no data: the MLE is undefined",
        "eti": [float(eti.low), float(eti.high)],
        "hdi": _numbers([hdi.low, hdi.high]),
        "hdi_note": "bimodal posterior: the highest-density region is two intervals" if caught else None,
        "log_evidence": float(posterior.log_evidence()),
        "curves": curves,
    }


def beta_binomial_flip(
    alpha: float, beta: float, successes: int, trials: int, p_true: float, seed: int, step: int
) -> dict[str, Any]:
    """One sequential step: the posterior becomes the prior, then one new flip (heads with ``p_true``).

    The flip is drawn from the stream ``(seed, step)``, so a session replays exactly. Returns
    the new prior, the flip, and the page's state after it (prior = old posterior, data = the flip).
    """
    from bayeskit.conjugate import BetaBinomial

    _check_counts(successes, trials)
    prior = BetaBinomial(alpha=alpha, beta=beta).update(successes=successes, trials=trials)
    heads = int(_stream(seed, step).random() < p_true)
    state = beta_binomial(float(prior.alpha), float(prior.beta), heads, 1)
    return {**state, "flip": heads, "step": step + 1}


# ----------------------------------------------------------------------------------------------
# Normal mean with known noise variance
# ----------------------------------------------------------------------------------------------
def normal_mean(
    prior_mean: float, prior_variance: float, data_mean: float, noise_variance: float, num_obs: int
) -> dict[str, Any]:
    """Prior N(m0, v0) on a mean, ``num_obs`` observations with mean ``data_mean`` and known noise variance.

    The posterior is N(m_n, v_n) with ``1/v_n = 1/v0 + n/s^2`` and ``m_n = v_n (m0/v0 + n xbar/s^2)``;
    ``data_weight`` is the share of the posterior mean that comes from the data.

    Examples
    --------
    >>> out = normal_mean(0.0, 1.0, 2.0, 1.0, 1)
    >>> out["posterior_mean"], out["posterior_variance"], out["data_weight"]
    (1.0, 0.5, 0.5)
    """
    from bayeskit.conjugate import NormalKnownVariance

    prior = NormalKnownVariance(mean=prior_mean, variance=prior_variance, noise_variance=noise_variance)
    posterior = prior.update_from_statistics(num_obs=num_obs, total=num_obs * data_mean)
    spread = math.sqrt(max(prior_variance, noise_variance / max(num_obs, 1)))
    centre = 0.5 * (prior_mean + data_mean)
    half_width = 0.5 * abs(prior_mean - data_mean) + 4.0 * spread
    grid = np.linspace(centre - half_width, centre + half_width, _GRID)
    curves = {
        "x": _numbers(grid),
        "prior": _numbers(np.exp(prior.log_prob(grid))),
        "posterior": _numbers(np.exp(posterior.log_prob(grid))),
        "likelihood": (
            _numbers(stats.norm.pdf(grid, data_mean, math.sqrt(noise_variance / num_obs))) if num_obs else None
        ),
    }
    data_precision = num_obs / noise_variance
    interval = posterior.interval(0.95)
    return {
        "posterior_mean": float(posterior.mean()),
        "posterior_variance": float(posterior.var()),
        "posterior_sd": float(posterior.std()),
        "eti": [float(interval.low), float(interval.high)],
        "data_weight": data_precision / (1.0 / prior_variance + data_precision),
        "likelihood_sd": math.sqrt(noise_variance / num_obs) if num_obs else None,
        "curves": curves,
    }


# ----------------------------------------------------------------------------------------------
# Aleatoric vs epistemic: a GP on a fixed true function
# ----------------------------------------------------------------------------------------------
_DATA_RANGE = (-3.0, 1.0)  # inputs are drawn here; the plot runs to +4, away from the data
_PLOT_RANGE = (-4.0, 4.0)
_PAD_SIZES = (64, 128, 256, 512)  # the GP pads to one of these, so few compiled programs serve every N


def true_function(x: np.ndarray) -> np.ndarray:
    """The fixed function the aleatoric/epistemic page samples from."""
    return np.sin(1.5 * x) + 0.25 * x


def aleatoric_epistemic(num_obs: int, noise_sd: float, seed: int = 0) -> dict[str, Any]:
    """A GP (hyperparameters and noise by marginal likelihood) fitted to ``num_obs`` noisy draws of a fixed function.

    Inputs are the first ``num_obs`` of 500 uniform draws on [-3, 1] (the noise scaled by ``noise_sd``
    from one fixed standard-normal sequence); the predictive on [-4, 4] is split into its aleatoric
    (learned noise) and epistemic (function) variance by ``Predictive.decompose()``. The
    summary numbers are the two sds inside the data (at x = -1) and away from it (at x = 3.5).
    """
    from bayeskit.gp import GPRegressor

    rng = _stream(seed)  # one sequence of 500 points: a larger N adds points, it does not redraw them
    x = rng.uniform(*_DATA_RANGE, size=500)[:num_obs]
    y = true_function(x) + noise_sd * rng.standard_normal(500)[:num_obs]
    grid = np.linspace(*_PLOT_RANGE, 161)
    pad_to = next(size for size in _PAD_SIZES if size >= num_obs)
    model = GPRegressor(pad_to=pad_to, restarts=0, key=0, min_noise_variance=1e-6).fit(x[:, None], y)
    probes = np.array([-1.0, 3.5])
    predictive = model.predictive(np.concatenate([grid, probes])[:, None])
    parts = predictive.decompose()
    mean = predictive.mean()
    n = grid.size
    return {
        "num_obs": num_obs,
        "noise_sd": noise_sd,
        "learned_noise_sd": math.sqrt(model.noise_variance_),
        "inside": {
            "x": -1.0,
            "aleatoric_sd": math.sqrt(parts.aleatoric[n]),
            "epistemic_sd": math.sqrt(parts.epistemic[n]),
        },
        "away": {
            "x": 3.5,
            "aleatoric_sd": math.sqrt(parts.aleatoric[n + 1]),
            "epistemic_sd": math.sqrt(parts.epistemic[n + 1]),
        },
        "curves": {
            "x": _numbers(grid),
            "truth": _numbers(true_function(grid)),
            "mean": _numbers(mean[:n]),
            "aleatoric_sd": _numbers(np.sqrt(parts.aleatoric[:n])),
            "epistemic_sd": _numbers(np.sqrt(parts.epistemic[:n])),
            "total_sd": _numbers(np.sqrt(parts.total[:n])),
        },
        "data": {"x": _numbers(x[:500]), "y": _numbers(y[:500])},
    }


# ----------------------------------------------------------------------------------------------
# One Gaussian, and two
# ----------------------------------------------------------------------------------------------
def gaussian(mu: float, sigma: float) -> dict[str, Any]:
    """The N(mu, sigma^2) density and the mass within 1, 2 and 3 sds (the 68-95-99.7 rule), exactly.

    Examples
    --------
    >>> [round(band["mass"], 4) for band in gaussian(0.0, 1.0)["bands"]]
    [0.6827, 0.9545, 0.9973]
    """
    grid = np.linspace(mu - 4.0 * sigma, mu + 4.0 * sigma, _GRID)
    bands = [
        {"k": k, "low": mu - k * sigma, "high": mu + k * sigma, "mass": float(stats.norm.cdf(k) - stats.norm.cdf(-k))}
        for k in (1, 2, 3)
    ]
    return {
        "mu": mu,
        "sigma": sigma,
        "peak": float(stats.norm.pdf(mu, mu, sigma)),
        "bands": bands,
        "curves": {"x": _numbers(grid), "density": _numbers(stats.norm.pdf(grid, mu, sigma))},
    }


def covariance(sigma_x: float, sigma_y: float, rho: float, num_samples: int = 300, seed: int = 0) -> dict[str, Any]:
    """A 2-D Gaussian: its covariance, principal axes (eigenvectors x sqrt(eigenvalues)), contours and samples.

    The contours are the ellipses at Mahalanobis radius 1, 2 and 3, with the probability
    mass inside each (chi-square with 2 dof); the sample covariance of the draws is returned
    beside the true one.
    """
    matrix = np.array([[sigma_x**2, rho * sigma_x * sigma_y], [rho * sigma_x * sigma_y, sigma_y**2]])
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    eigenvectors *= np.where(eigenvectors[0] < 0, -1.0, 1.0)  # a fixed sign: axes point right
    angle = np.linspace(0.0, 2.0 * np.pi, 121)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    root = eigenvectors * np.sqrt(eigenvalues)
    contours = []
    for radius in (1, 2, 3):
        ring = radius * root @ circle
        contours.append(
            {
                "radius": radius,
                "mass": float(stats.chi2.cdf(radius**2, 2)),
                "x": _numbers(ring[0]),
                "y": _numbers(ring[1]),
            }
        )
    samples = _stream(seed).multivariate_normal(np.zeros(2), matrix, size=num_samples, method="cholesky")
    return {
        "covariance": matrix.tolist(),
        "correlation": rho,
        "eigenvalues": eigenvalues.tolist(),
        "axes": [{"x": float(root[0, i]), "y": float(root[1, i]), "length": math.sqrt(eigenvalues[i])} for i in (0, 1)],
        "determinant": float(np.linalg.det(matrix)),
        "contours": contours,
        "samples": {"x": _numbers(samples[:, 0]), "y": _numbers(samples[:, 1])},
        "sample_covariance": np.cov(samples.T).tolist(),
    }


# ----------------------------------------------------------------------------------------------
# MLE vs MAP vs posterior mean; MAP as regularization
# ----------------------------------------------------------------------------------------------
_MAX_FLIPS = 500


def mle_map(
    prior_strength: float, prior_mean: float, num_flips: int, p_true: float = 0.7, seed: int = 0
) -> dict[str, Any]:
    """Coin flips one at a time: the MLE, the MAP and the posterior mean after each of ``num_flips``.

    The prior is Beta(strength x mean, strength x (1 - mean)); the flips are a fixed sequence
    for ``(seed, p_true)``, so moving the prior changes only the estimates. The three agree as
    the data grow; with few flips the MLE jumps to 0 or 1 while the MAP and mean stay near the prior.

    Examples
    --------
    >>> out = mle_map(4.0, 0.5, 10, seed=0)
    >>> len(out["curves"]["mle"]), out["curves"]["mle"][0] is None
    (11, True)
    """
    from bayeskit.conjugate import BetaBinomial

    flips = (_stream(seed).random(_MAX_FLIPS) < p_true)[:num_flips].astype(float)
    n = np.arange(num_flips + 1, dtype=float)
    heads = np.concatenate([[0.0], np.cumsum(flips)])
    alpha, beta = prior_strength * prior_mean, prior_strength * (1.0 - prior_mean)
    posterior = BetaBinomial(alpha=np.full(n.size, alpha), beta=np.full(n.size, beta)).update(heads, n)
    interval = posterior.interval(0.95)
    with np.errstate(invalid="ignore", divide="ignore"):
        mle = np.where(n > 0, heads / np.maximum(n, 1.0), np.nan)
    return {
        "prior": {"alpha": alpha, "beta": beta},
        "p_true": p_true,
        "heads": int(heads[-1]),
        "flips": int(num_flips),
        "mle": _number(mle[-1]),
        "map": _number(posterior.mode()[-1]),
        "mean": float(posterior.mean()[-1]),
        "eti": [float(interval.low[-1]), float(interval.high[-1])],
        "curves": {
            "n": _numbers(n),
            "mle": _numbers(mle),
            "map": _numbers(posterior.mode()),
            "mean": _numbers(posterior.mean()),
            "low": _numbers(interval.low),
            "high": _numbers(interval.high),
        },
    }


@functools.cache
def _regression_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = _stream(seed, 1)
    x = rng.standard_normal((30, 8))
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    truth = np.array([3.0, -2.0, 1.5, 0.0, 0.0, 0.0, 0.0, 0.0])
    y = x @ truth + rng.standard_normal(30)
    return x, y - y.mean(), truth


def _ridge_map(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """Ridge weights as the MAP of bayeskit's conjugate regression with prior precision ``penalty``."""
    from bayeskit.conjugate import BayesianLinearRegression

    prior = BayesianLinearRegression(mean=np.zeros(x.shape[1]), precision=penalty, alpha=1.0, beta=1.0)
    return np.asarray(prior.update(x, y).mode()["weights"])


def _lasso_map(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """Lasso weights: the MAP under a Laplace prior, ``argmin ||y - Xw||^2 / 2 + penalty ||w||_1``."""
    from sklearn.linear_model import Lasso

    # scikit-learn's Lasso minimizes ||y - Xw||^2 / (2 n) + a ||w||_1: a = penalty / n.
    model = Lasso(alpha=penalty / x.shape[0], fit_intercept=False, max_iter=10_000, tol=1e-10)
    return model.fit(x, y).coef_


@functools.cache
def _paths() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y, _ = _regression_data()
    path = np.linspace(-3.0, 3.0, 31)
    ridge = np.stack([_ridge_map(x, y, 10.0**p) for p in path])
    lasso = np.stack([_lasso_map(x, y, 10.0**p) for p in path])
    return path, ridge, lasso


def regularization(log10_penalty: float) -> dict[str, Any]:
    """MAP as regularization on a small regression (30 rows, 8 features, 3 of them real).

    A Gaussian prior of precision ``lambda`` gives ridge; a Laplace prior gives the lasso,
    whose MAP sets weights exactly to zero. Returns both weight vectors at ``lambda =
    10**log10_penalty`` and their paths over lambda in [1e-3, 1e3].
    """
    x, y, truth = _regression_data()
    penalty = 10.0**log10_penalty
    path, ridge_path, lasso_path = _paths()
    ridge, lasso = _ridge_map(x, y, penalty), _lasso_map(x, y, penalty)
    return {
        "penalty": penalty,
        "truth": truth.tolist(),
        "ridge": ridge.tolist(),
        "lasso": lasso.tolist(),
        "lasso_zeros": int(np.sum(lasso == 0.0)),
        "paths": {
            "log10_penalty": path.tolist(),
            "ridge": ridge_path.T.tolist(),
            "lasso": lasso_path.T.tolist(),
        },
    }


# ----------------------------------------------------------------------------------------------
# Topics: how the Dirichlet prior on documents' mixtures shapes LDA
# ----------------------------------------------------------------------------------------------
TOPIC_DOCUMENTS = 600  # the first docstrings of the standard library: a fit takes a fraction of a second


@functools.cache
def _topic_counts() -> tuple[Any, tuple[str, ...]]:
    from sklearn.feature_extraction.text import CountVectorizer

    from bayeskit.datasets import python_docstrings
    from bayeskit.models.topics import TOKEN_PATTERN

    vectorizer = CountVectorizer(stop_words="english", token_pattern=TOKEN_PATTERN, min_df=3, max_df=0.9)
    counts = vectorizer.fit_transform(python_docstrings()[:TOPIC_DOCUMENTS]).astype(np.float64)
    keep = np.asarray(counts.sum(axis=1)).ravel() > 0
    return counts[keep], tuple(vectorizer.get_feature_names_out())


def topics(num_topics: int, alpha: float, seed: int = 0) -> dict[str, Any]:
    """LDA (5 passes of batch VB) on the first 600 standard-library docstrings, with a symmetric prior ``alpha``.

    ``topics_per_document`` is the mean over documents of ``exp(entropy)`` of their topic
    proportions: 1 when every document sits in one topic, ``num_topics`` when each mixes all
    equally. A small ``alpha`` pushes documents into few topics; a large one mixes them.
    """
    from bayeskit.models.topics import TopicModel

    counts, vocabulary = _topic_counts()
    model = TopicModel(num_topics=int(num_topics), alpha=float(alpha), max_iter=5, key=int(seed))
    model.fit(counts)
    model.vocabulary_ = list(vocabulary)
    shares = model.document_topic_ / model.document_topic_.sum(axis=1, keepdims=True)
    entropy = -np.sum(shares * np.log(np.clip(shares, 1e-300, None)), axis=1)
    sizes = shares.mean(axis=0)
    order = np.argsort(-sizes)
    words = model.top_words(6)
    return {
        "num_topics": int(num_topics),
        "alpha": float(alpha),
        "documents": int(counts.shape[0]),
        "topics_per_document": float(np.mean(np.exp(entropy))),
        "largest_share": float(sizes[order[0]]),
        "topics": [{"topic": int(k), "share": float(sizes[k]), "words": " ".join(words[k])} for k in order],
        "main_topic_share": _numbers(np.sort(shares.max(axis=1))),
    }


# ----------------------------------------------------------------------------------------------
# Continual learning: how strongly the last task's posterior holds the weights
# ----------------------------------------------------------------------------------------------
CONTINUAL_ROWS = 600  # training digits per task (the rest of the 1,797 are the held-out rows)
_CONTINUAL = {"hidden": (32,), "epochs": 40, "learning_rate": 5e-3, "num_samples": 20}


@functools.cache
def _permuted_digits(num_tasks: int) -> tuple[list, list]:
    """``datasets.permuted_digits`` with 600 training digits a task (the rest held out)."""
    from bayeskit.datasets import load_dataset, permuted_digits

    return permuted_digits(num_tasks, seed=0, train_fraction=(CONTINUAL_ROWS + 0.5) / len(load_dataset("digits")))


@functools.lru_cache(maxsize=64)
def _continual_matrix(method: str, num_tasks: int, strength: float) -> np.ndarray:
    from bayeskit.nn import Continual

    train, test = _permuted_digits(num_tasks)
    model = Continual(method, strength=strength, key=0, **_CONTINUAL)
    for task in train:
        model.fit_task(*task)
    return model.accuracy_matrix(test).to_numpy()


def continual(log10_strength: float, num_tasks: int = 3) -> dict[str, Any]:
    """Online Laplace on permuted digits at ``strength = 10 ** log10_strength``, beside fine-tuning and joint training.

    Each task is the bundled digits with the pixels in its own fixed order (600 training
    digits, 1,197 held out), learnt one after the other by one network (32 hidden units).
    ``accuracy[i][j]`` is the held-out accuracy on task ``j`` after training task ``i``. With
    a weak prior the network forgets the first tasks (fine-tuning's curve); with a strong one
    it cannot learn the new ones; strength 1 is the Laplace posterior as it is.
    """
    from bayeskit.nn import continual_metrics

    strength = 10.0 ** float(log10_strength)
    num_tasks = int(num_tasks)
    out: dict[str, Any] = {"strength": strength, "num_tasks": num_tasks}
    runs = (("laplace", "online-laplace", strength), ("finetune", "finetune", 1.0), ("joint", "joint", 1.0))
    for name, method, scale in runs:
        matrix = _continual_matrix(method, num_tasks, scale)
        metrics = continual_metrics(matrix)
        out[name] = {
            "accuracy": [_numbers(row) for row in matrix],
            "average_accuracy": metrics["average_accuracy"],
            "first_task_forgetting": metrics["first_task_forgetting"],
        }
    out["average_accuracy"] = out["laplace"]["average_accuracy"]
    out["first_task_forgetting"] = out["laplace"]["first_task_forgetting"]
    out["last_task_accuracy"] = float(out["laplace"]["accuracy"][-1][-1])
    return out
