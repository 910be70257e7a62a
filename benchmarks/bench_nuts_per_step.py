"""Per-leapfrog-step cost of bayeskit's NUTS chunk program against NumPyro's own sampling loop.

No compile-time report is needed. NumPyro: one ``MCMC`` object runs warmup + 1,000 draws, then 1,000 more
draws from its last state twice; the second of those reuses the compiled sampling loop (``jit_model_args=True``:
the data are arguments, as in bayeskit), so its wall time over its leapfrog steps is the per-step cost. The
earlier method, the difference between a 1,500-draw and a 500-draw run, is kept for comparison: each of its runs
compiles, and compile time varied by 3 s between identical runs, which made it unreliable (it read 5.1e-5 s per
step where the cached run reads 2.3e-4 s). bayeskit's cost is its ``sampling_s`` timing over its steps (a
refit: its program is compiled once). Logistic regression, n = 10,000, d = 20, 4 chains.

Reproduce: ``.venv/bin/python benchmarks/bench_nuts_per_step.py`` (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import json
import time

import jax
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS

from bayeskit.infer import nuts


def logistic(x, y=None):
    beta = numpyro.sample("beta", dist.Normal(0.0, 1.0).expand([x.shape[1]]).to_event(1))
    numpyro.sample("y", dist.Bernoulli(logits=x @ beta), obs=y)


def data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(10_000, 20)).astype(np.float32)
    y = (rng.uniform(size=10_000) < 1.0 / (1.0 + np.exp(-(x @ rng.normal(size=20))))).astype(np.float32)
    return x, y


def numpyro_per_step(x, y, jit_model_args: bool) -> float:
    runs = {}
    for draws in (500, 1500):
        mcmc = MCMC(
            NUTS(logistic, target_accept_prob=0.9),
            num_warmup=500,
            num_samples=draws,
            num_chains=4,
            chain_method="vectorized",
            progress_bar=False,
            jit_model_args=jit_model_args,
        )
        start = time.perf_counter()
        mcmc.run(jax.random.key(0), x, y=y, extra_fields=("num_steps",))
        jax.block_until_ready(mcmc.get_samples())
        runs[draws] = (time.perf_counter() - start, int(np.asarray(mcmc.get_extra_fields()["num_steps"]).sum()))
    return (runs[1500][0] - runs[500][0]) / (runs[1500][1] - runs[500][1])


def numpyro_cached_per_step(x, y) -> float:
    mcmc = MCMC(
        NUTS(logistic, target_accept_prob=0.9),
        num_warmup=500,
        num_samples=1000,
        num_chains=4,
        chain_method="vectorized",
        progress_bar=False,
        jit_model_args=True,
    )
    mcmc.run(jax.random.key(0), x, y=y, extra_fields=("num_steps",))
    per_step = []
    for _ in range(2):  # the first continuation compiles the sampling-only loop, the second reuses it
        mcmc.post_warmup_state = mcmc.last_state
        start = time.perf_counter()
        mcmc.run(mcmc.post_warmup_state.rng_key, x, y=y, extra_fields=("num_steps",))
        jax.block_until_ready(mcmc.get_samples())
        per_step.append((time.perf_counter() - start) / int(np.asarray(mcmc.get_extra_fields()["num_steps"]).sum()))
    return per_step[-1]


def bayeskit_per_step(x, y) -> float:
    nuts(logistic, x, y=y, key=jax.random.key(0), num_warmup=500, num_samples=500)  # compile once
    posterior = nuts(logistic, x, y=y, key=jax.random.key(1), num_warmup=500, num_samples=1500)
    steps = int(np.asarray(posterior.idata.sample_stats["n_steps"]).sum())
    return posterior.timings["sampling_s"] / steps


def main() -> None:
    x, y = data()
    result = {
        "numpyro_cached_s": numpyro_cached_per_step(x, y),
        "numpyro_difference_arguments_s": numpyro_per_step(x, y, jit_model_args=True),
        "bayeskit_s": bayeskit_per_step(x, y),
    }
    result["bayeskit_vs_numpyro_cached"] = result["bayeskit_s"] / result["numpyro_cached_s"]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
