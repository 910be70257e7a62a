"""Laplace and ADVI over NumPyro models (NumPyro's autoguides and SVI do the work), as draws posteriors."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bayeskit._rng import check_jax_key
from bayeskit._validate import check_choice
from bayeskit.infer.diagnostics import Finding, check_inference_data
from bayeskit.infer.draws import DrawsPosterior

__all__ = ["ADVI_GUIDES", "advi", "laplace"]

ADVI_GUIDES = ("meanfield", "fullrank")
_PSEUDO_CHAINS = 4


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < _PSEUDO_CHAINS:
        raise ValueError(f"`{name}` must be an int >= {_PSEUDO_CHAINS}; got {value!r}.")
    return value


def _as_posterior(draws: dict[str, Any], method: str, findings, timings, details, notes=()) -> DrawsPosterior:
    """Independent draws split into pseudo-chains (R-hat near 1 by construction) with ArviZ data."""
    import arviz as az

    num = next(iter(draws.values())).shape[0] // _PSEUDO_CHAINS * _PSEUDO_CHAINS
    shaped = {k: np.asarray(v)[:num].reshape(_PSEUDO_CHAINS, -1, *np.shape(v)[1:]) for k, v in draws.items()}
    idata = az.from_dict(posterior=shaped)
    return DrawsPosterior(
        draws=shaped,
        idata=idata,
        findings=tuple(findings) + check_inference_data(idata),
        method=method,
        timings=timings,
        details=details,
        notes=tuple(notes),
    )


def laplace(model: Any, *args: Any, key: Any, num_draws: int = 4000, **kwargs: Any) -> DrawsPosterior:
    """Laplace approximation: a Gaussian at the MAP in unconstrained space, covariance the inverse Hessian.

    The MAP is found by BFGS (``numpyro.optim.Minimize``); draws from the Gaussian
    are mapped back through each site's transform, so positive parameters stay
    positive. ``details`` holds the unconstrained ``map`` and ``covariance``.

    Parameters
    ----------
    model
        A NumPyro model function.
    *args, **kwargs
        Passed to ``model``.
    key
        A JAX PRNG key.
    num_draws
        Independent draws from the approximation.

    Raises
    ------
    ValueError
        When the Hessian at the optimum is not positive-definite (not a maximum, or
        a flat direction): the Laplace approximation does not exist there.

    References
    ----------
    Tierney & Kadane (1986). Accurate approximations for posterior moments and marginal densities. JASA 81, 82-86.
    """
    import jax
    import numpyro.optim
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.infer.autoguide import AutoLaplaceApproximation

    check_jax_key(key)
    _check_count("num_draws", num_draws)
    key_init, key_draws = jax.random.split(key)
    guide = AutoLaplaceApproximation(model)
    svi = SVI(model, guide, numpyro.optim.Minimize(method="BFGS"), Trace_ELBO())
    start = time.perf_counter()
    state = svi.init(key_init, *args, **kwargs)
    state, _ = svi.update(state, *args, **kwargs)
    params = svi.get_params(state)
    gaussian = guide.get_posterior(params)
    covariance = np.asarray(gaussian.covariance_matrix)
    if not np.all(np.isfinite(covariance)) or np.any(np.linalg.eigvalsh(0.5 * (covariance + covariance.T)) <= 0):
        raise ValueError(
            "the Hessian at the optimum is not positive-definite, so the Laplace approximation does not exist: "
            "check for unidentified parameters or an improper posterior, or use nuts()."
        )
    draws = guide.sample_posterior(key_draws, params, sample_shape=(num_draws,))
    return _as_posterior(
        draws,
        "laplace",
        (),
        {"fit_s": time.perf_counter() - start},
        {"map": np.asarray(gaussian.loc), "covariance": covariance},
    )


def advi(
    model: Any,
    *args: Any,
    key: Any,
    guide: str = "meanfield",
    num_steps: int = 10_000,
    learning_rate: float = 0.01,
    num_draws: int = 4000,
    progress: bool = False,
    **kwargs: Any,
) -> DrawsPosterior:
    """Automatic differentiation variational inference, mean-field or full-rank Gaussian in unconstrained space.

    ``details["elbo"]`` is the ELBO trace. The ELBO counts as converged when the
    mean of its last 10% moved by less than 1% of its spread since the previous
    10%; otherwise a finding says so. Mean-field ADVI is known to under-state
    posterior variance when parameters are correlated: the result carries that note.

    Parameters
    ----------
    model
        A NumPyro model function.
    *args, **kwargs
        Passed to ``model``.
    key
        A JAX PRNG key.
    guide
        ``"meanfield"`` (independent Gaussians) or ``"fullrank"`` (one multivariate Gaussian).
    num_steps, learning_rate
        Adam steps and step size.
    num_draws
        Independent draws from the fitted approximation.
    progress
        NumPyro's progress bar on stderr.

    References
    ----------
    Kucukelbir, Tran, Ranganath, Gelman & Blei (2017). Automatic differentiation variational inference. JMLR 18(14).
    """
    import jax
    import numpyro.optim
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.infer.autoguide import AutoMultivariateNormal, AutoNormal

    check_jax_key(key)
    check_choice(guide, "guide", ADVI_GUIDES)
    _check_count("num_draws", num_draws)
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 20:
        raise ValueError(f"`num_steps` must be an int >= 20; got {num_steps!r}.")
    if not learning_rate > 0:
        raise ValueError(f"`learning_rate` must be > 0; got {learning_rate!r}.")
    key_fit, key_draws = jax.random.split(key)
    autoguide = AutoNormal(model) if guide == "meanfield" else AutoMultivariateNormal(model)
    svi = SVI(model, autoguide, numpyro.optim.Adam(learning_rate), Trace_ELBO())
    start = time.perf_counter()
    result = svi.run(key_fit, num_steps, *args, progress_bar=progress, **kwargs)
    elbo = -np.asarray(result.losses)
    window = max(num_steps // 10, 1)
    last, previous = elbo[-window:], elbo[-2 * window : -window]
    change = abs(last.mean() - previous.mean())
    spread = max(float(np.std(elbo[-2 * window :])), 1e-12)
    findings = []
    if not np.all(np.isfinite(elbo[-window:])):
        findings.append(Finding("ELBO", float("nan"), 0.0, "(non-finite)", "lower the learning rate."))
    elif change > 0.01 * spread and change > 1e-3 * abs(last.mean()):
        findings.append(
            Finding(
                "ELBO change",
                float(change),
                float(0.01 * spread),
                "over the last 10% of steps",
                "the optimization has not converged: run more steps or lower the learning rate.",
            )
        )
    draws = autoguide.sample_posterior(key_draws, result.params, sample_shape=(num_draws,))
    notes = ()
    if guide == "meanfield":
        notes = (
            "mean-field ADVI ignores posterior correlations and tends to under-state uncertainty; "
            "compare with guide='fullrank' or nuts().",
        )
    return _as_posterior(
        draws, f"advi-{guide}", findings, {"fit_s": time.perf_counter() - start}, {"elbo": elbo}, notes
    )
