"""NUTS over a NumPyro model (NumPyro does the sampling; bayeskit adds defaults, timing and diagnostics)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bayeskit._rng import check_jax_key
from bayeskit._validate import check_choice
from bayeskit.infer.diagnostics import check_inference_data
from bayeskit.infer.draws import DrawsPosterior

__all__ = ["nuts"]

_EXTRA_FIELDS = ("diverging", "num_steps", "energy", "accept_prob", "potential_energy")
CHAIN_METHODS = ("vectorized", "sequential", "parallel")


def nuts(
    model: Any,
    *args: Any,
    key: Any,
    num_chains: int = 4,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    target_accept: float = 0.9,
    max_tree_depth: int = 10,
    chain_method: str = "vectorized",
    progress: bool = False,
    **kwargs: Any,
) -> DrawsPosterior:
    """Sample a NumPyro model with NUTS and return draws with their convergence diagnostics.

    Parameters
    ----------
    model
        A NumPyro model function.
    *args, **kwargs
        Passed to ``model`` (data, observed values).
    key
        A JAX PRNG key (required: randomness is never defaulted).
    num_chains, num_warmup, num_samples
        Chains and draws per chain; four chains make R-hat meaningful.
    target_accept, max_tree_depth
        NUTS step-size adaptation target and the trajectory depth limit. The default
        0.9 (NumPyro's and Stan's is 0.8) is chosen for hierarchical models: at 0.8
        the non-centered eight-schools model still shows 1-2 divergences on some
        seeds, at 0.9 none (on 5 of 5 seeds here), for slightly smaller steps.
    chain_method
        ``"vectorized"`` (one compiled program for all chains; the default, fast on
        CPU without touching JAX's device configuration), ``"sequential"`` or
        ``"parallel"`` (one device per chain).
    progress
        NumPyro's progress bar on stderr.

    Returns
    -------
    DrawsPosterior
        ``timings`` holds ``warmup_s`` (including compilation) and ``sampling_s``.

    References
    ----------
    Hoffman & Gelman (2014). The No-U-Turn sampler. JMLR 15, 1593-1623.
    Phan, Pradhan & Jankowiak (2019). Composable effects for flexible and accelerated
    probabilistic programming in NumPyro.
    """
    import arviz as az
    import jax
    from numpyro.infer import MCMC, NUTS

    check_choice(chain_method, "chain_method", CHAIN_METHODS)
    if not (0.0 < target_accept < 1.0):
        raise ValueError(f"`target_accept` must be in (0, 1), e.g. 0.8 or 0.95; got {target_accept}.")
    for name, value in (("num_chains", num_chains), ("num_warmup", num_warmup), ("num_samples", num_samples)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "num_warmup" else 1):
            raise ValueError(f"`{name}` must be a positive int; got {value!r}.")
    check_jax_key(key)
    kernel = NUTS(model, target_accept_prob=target_accept, max_tree_depth=max_tree_depth)
    mcmc = MCMC(
        kernel,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=chain_method,
        progress_bar=progress,
    )
    key_warmup, key_sample = jax.random.split(key)
    start = time.perf_counter()
    mcmc.warmup(key_warmup, *args, extra_fields=_EXTRA_FIELDS, **kwargs)
    warmed = time.perf_counter()
    mcmc.run(key_sample, *args, extra_fields=_EXTRA_FIELDS, **kwargs)
    done = time.perf_counter()
    idata = az.from_numpyro(mcmc)
    draws = {name: np.asarray(idata.posterior[name].values) for name in idata.posterior.data_vars}
    return DrawsPosterior(
        draws=draws,
        idata=idata,
        findings=check_inference_data(idata, max_tree_depth),
        method="nuts",
        timings={"warmup_s": warmed - start, "sampling_s": done - warmed},
    )
