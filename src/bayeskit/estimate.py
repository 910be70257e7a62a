"""Point estimation side by side: MLE, MAP and posterior mean; Gaussian and robust Student-t fits.

Examples
--------
>>> import numpy as np
>>> from bayeskit.estimate import student_t_mle, gaussian_mle
>>> x = np.array([9.8, 10.1, 10.0, 9.9, 10.2, 10.0, 55.0])   # one gross outlier
>>> round(float(gaussian_mle(x).mean), 2)
16.43
>>> round(float(student_t_mle(x, df=4.0).loc), 2)
10.0

"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from scipy import optimize, special

from bayeskit._validate import as_float_array, check_finite, check_positive
from bayeskit.conjugate import BetaBinomial, GammaPoisson, NormalKnownVariance

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["GaussianFit", "StudentTFit", "gaussian_mle", "point_estimates", "student_t_mle"]


class GaussianFit(NamedTuple):
    """Maximum-likelihood (or unbiased) Gaussian location and variance."""

    mean: float
    variance: float


class StudentTFit(NamedTuple):
    """Maximum-likelihood Student-t location, scale and degrees of freedom."""

    loc: float
    scale: float
    df: float
    log_likelihood: float
    num_iterations: int
    converged: bool


def _sample(x: Any, minimum: int) -> np.ndarray:
    array = check_finite(as_float_array(x, "x"), "x")
    if array.ndim != 1:
        raise ValueError(f"`x` must be 1-D of shape (n_obs,); got {array.shape}.")
    if array.size < minimum:
        raise ValueError(f"`x` needs at least {minimum} observations; got {array.size}.")
    return array


def gaussian_mle(x: Any, unbiased: bool = False) -> GaussianFit:
    """Gaussian mean and variance: the MLE divides by ``n`` (biased), ``unbiased=True`` by ``n - 1``.

    Examples
    --------
    >>> gaussian_mle([1.0, 2.0, 3.0])
    GaussianFit(mean=2.0, variance=0.6666666666666666)
    >>> gaussian_mle([1.0, 2.0, 3.0], unbiased=True).variance
    1.0

    """
    array = _sample(x, 2 if unbiased else 1)
    return GaussianFit(float(array.mean()), float(array.var(ddof=1 if unbiased else 0)))


def _t_log_likelihood(x: np.ndarray, loc: float, scale: float, df: float) -> float:
    z2 = ((x - loc) / scale) ** 2
    return float(
        x.size * (special.gammaln((df + 1) / 2) - special.gammaln(df / 2) - 0.5 * np.log(df * np.pi) - np.log(scale))
        - 0.5 * (df + 1) * np.log1p(z2 / df).sum()
    )


def student_t_mle(x: Any, df: float | None = 4.0, max_iterations: int = 1000, tolerance: float = 1e-10) -> StudentTFit:
    """Robust location and scale by Student-t maximum likelihood, fitted by EM.

    The t is a scale mixture of Normals; the E-step weights each point by
    ``(df + 1) / (df + r^2)`` with ``r`` its standardized residual, so far-out
    points barely move the location, unlike the Gaussian MLE.
    With ``df=None`` the degrees of freedom are estimated too (ECME: a 1-D
    maximization of the observed likelihood over ``df`` in [1, 1000] after each EM
    step). The lower bound matters: below ``df = k / (n - k)`` the likelihood is
    unbounded as the scale shrinks onto ``k`` tied observations.

    Parameters
    ----------
    x
        Observations, shape ``(n_obs,)``, at least 2.
    df
        Fixed degrees of freedom (4 is a common robust default), or None to estimate.
    max_iterations, tolerance
        Stop when the relative change of the log-likelihood is below ``tolerance``.

    References
    ----------
    Lange, K. L., Little, R. J. A. & Taylor, J. M. G. (1989). Robust statistical
    modeling using the t distribution. JASA 84(408), 881-896.
    Liu, C. & Rubin, D. B. (1995). ML estimation of the t distribution using EM
    and its extensions, ECM and ECME. Statistica Sinica 5, 19-39.

    """
    array = _sample(x, 2)
    if df is not None:
        df = float(check_positive(as_float_array(df, "df"), "df"))
    current_df = 4.0 if df is None else df
    loc = float(np.median(array))
    mad = float(np.median(np.abs(array - loc))) * 1.4826
    scale = mad if mad > 0 else float(array.std()) or 1.0
    previous = -np.inf
    converged = False
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007
        z2 = ((array - loc) / scale) ** 2
        weights = (current_df + 1.0) / (current_df + z2)
        loc = float((weights * array).sum() / weights.sum())
        scale = float(np.sqrt((weights * (array - loc) ** 2).sum() / array.size))
        if scale == 0.0:
            break
        if df is None:
            result = optimize.minimize_scalar(
                lambda log_df, loc=loc, scale=scale: -_t_log_likelihood(array, loc, scale, float(np.exp(log_df))),
                bounds=(0.0, np.log(1000.0)),
                method="bounded",
                options={"xatol": 1e-10},
            )
            current_df = float(np.exp(result.x))
        log_likelihood = _t_log_likelihood(array, loc, scale, current_df)
        if abs(log_likelihood - previous) <= tolerance * (1.0 + abs(log_likelihood)):
            converged = True
            break
        previous = log_likelihood
    return StudentTFit(loc, scale, current_df, _t_log_likelihood(array, loc, scale, current_df), iteration, converged)


def point_estimates(prior: Any, observations: Any, prob: float = 0.95) -> pd.DataFrame:
    """MLE, MAP and posterior mean after each observation, with the credible interval.

    Every prefix of ``observations`` gets its own posterior, computed at once as a
    batch (no Python loop). As ``num_obs`` grows the three estimates meet: the
    prior washes out.

    Parameters
    ----------
    prior
        ``BetaBinomial`` (observations 0/1), ``GammaPoisson`` (counts per unit
        exposure) or ``NormalKnownVariance`` (real values), with scalar parameters.
    observations
        Shape ``(n_obs,)``, in the order they arrived.
    prob
        Mass of the equal-tailed interval.

    Returns
    -------
    pandas.DataFrame
        One row per prefix length ``num_obs`` = 0..n_obs, columns ``mle`` (NaN at 0),
        ``map``, ``posterior_mean``, ``low``, ``high``.

    Examples
    --------
    >>> from bayeskit.conjugate import BetaBinomial
    >>> table = point_estimates(BetaBinomial(8, 2), [0, 1, 0, 0, 1, 0])
    >>> table.loc[6, ["mle", "map", "posterior_mean"]].round(3).tolist()
    [0.333, 0.643, 0.625]

    """
    x = check_finite(as_float_array(observations, "observations"), "observations")
    if x.ndim != 1:
        raise ValueError(f"`observations` must be 1-D of shape (n_obs,); got {x.shape}.")
    if getattr(prior, "batch_shape", None) != ():
        raise ValueError("`prior` must be a single (unbatched) BetaBinomial, GammaPoisson or NormalKnownVariance.")
    num_obs = np.arange(x.size + 1, dtype=np.float64)
    totals = np.concatenate([[0.0], np.cumsum(x)])
    if isinstance(prior, BetaBinomial):
        posterior = prior.update(successes=totals, trials=num_obs)
    elif isinstance(prior, GammaPoisson):
        posterior = prior.update(counts=totals, exposure=num_obs)
    elif isinstance(prior, NormalKnownVariance):
        posterior = prior.update_from_statistics(num_obs, totals)
    else:
        raise TypeError(
            f"`prior` must be a BetaBinomial, GammaPoisson or NormalKnownVariance; got {type(prior).__name__}."
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        mle = np.where(num_obs > 0, totals / num_obs, np.nan)
    low, high = posterior.interval(prob)
    import pandas as pd

    return pd.DataFrame(
        {"mle": mle, "map": posterior.mode(), "posterior_mean": posterior.mean(), "low": low, "high": high},
        index=pd.Index(num_obs.astype(int), name="num_obs"),
    )
