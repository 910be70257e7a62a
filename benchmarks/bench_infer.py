"""NUTS through bayeskit vs raw NumPyro (and PyMC, in its own venv) on the same models and settings.

ESS per second uses the minimum bulk ESS over all scalar parameters (ArviZ). Two
times are reported for each: the whole call (what a user waits for, JAX compile
included) and sampling alone (bayeskit: from its timings; NumPyro recompiles on
every call, so its sampling time is a ``run`` phase's wall time minus the compile
time JAX reports through ``jax.monitoring``). bayeskit's overhead over NumPyro is measured per NUTS leapfrog
step, which does not depend on how lucky a seed's ESS was.

Run alone: ``.venv/bin/python benchmarks/bench_infer.py`` (writes nothing; ``run.py`` collects it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SETTINGS = {"num_chains": 4, "num_warmup": 1000, "num_samples": 1000, "target_accept": 0.9}
PYMC_PYTHON = Path(__file__).resolve().parent / ".cache" / "pymc-venv" / "bin" / "python"
SCHOOLS_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SCHOOLS_SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def eight_schools(sigma, y=None):
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("school", sigma.shape[0]):
        offset = numpyro.sample("offset", dist.Normal(0, 1))
        numpyro.sample("obs", dist.Normal(mu + tau * offset, sigma), obs=y)


def logistic(x, y=None):
    import numpyro
    import numpyro.distributions as dist

    intercept = numpyro.sample("intercept", dist.Normal(0, 2.5))
    beta = numpyro.sample("beta", dist.Normal(0, 2.5).expand([x.shape[1]]).to_event(1))
    with numpyro.plate("n", x.shape[0]):
        numpyro.sample("y", dist.Bernoulli(logits=intercept + x @ beta), obs=y)


def hierarchical(x, group, num_groups, y=None):
    import numpyro
    import numpyro.distributions as dist

    beta = numpyro.sample("beta", dist.Normal(0, 2.5).expand([x.shape[1]]).to_event(1))
    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfNormal(2))
    z = numpyro.sample("z", dist.Normal(0, 1).expand([num_groups]).to_event(1))
    sigma = numpyro.sample("sigma", dist.HalfNormal(2))
    with numpyro.plate("n", x.shape[0]):
        numpyro.sample("y", dist.Normal(mu + tau * z[group] + x @ beta, sigma), obs=y)


def datasets() -> dict[str, tuple]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10_000, 20)).astype(np.float32)
    logits = 0.3 + x @ rng.normal(0, 0.5, size=20)
    y = (rng.random(10_000) < 1 / (1 + np.exp(-logits))).astype(np.float32)
    groups = 50
    g = rng.integers(0, groups, size=2_000)
    xh = rng.normal(size=(2_000, 3)).astype(np.float32)
    yh = (1.0 + rng.normal(0, 0.7, size=groups)[g] + xh @ np.array([0.5, -0.2, 0.1]) + rng.normal(size=2_000)).astype(
        np.float32
    )
    return {
        "eight schools (non-centered)": (eight_schools, (SCHOOLS_SIGMA.astype(np.float32),), {"y": SCHOOLS_Y}),
        "logistic regression (n=10,000, d=20)": (logistic, (x,), {"y": y}),
        "hierarchical regression (50 groups, n=2,000)": (hierarchical, (xh, g.astype(np.int32), groups), {"y": yh}),
    }


def _min_bulk_ess(idata) -> float:
    import arviz as az

    ess = az.ess(idata, method="bulk")
    return float(min(np.min(ess[name].values) for name in ess.data_vars))


def run_bayeskit(model, args, kwargs, seed=0) -> dict:
    import jax

    from bayeskit.infer import nuts

    start = time.perf_counter()
    posterior = nuts(model, *args, key=jax.random.PRNGKey(seed), **SETTINGS, **kwargs)
    total = time.perf_counter() - start
    steps = float(posterior.idata.sample_stats["n_steps"].sum())
    sampling = posterior.timings["warmup_s"] + posterior.timings["sampling_s"]
    ess = _min_bulk_ess(posterior.idata)
    return {
        "total_s": total,
        "sampling_s": sampling,
        "ess": ess,
        "sampling_steps": steps,
        "sample_only_s": posterior.timings["sampling_s"],
    }


_COMPILE_SECONDS = {"total": 0.0}


def _count_compile_time() -> None:
    """Add up JAX's own compile-phase durations (tracing, lowering, XLA compile) as they happen."""
    import jax

    def listener(name, duration, **_):
        if name.startswith("/jax/core/compile"):
            _COMPILE_SECONDS["total"] += duration

    if not _COMPILE_SECONDS.get("registered"):
        jax.monitoring.register_event_duration_secs_listener(listener)
        _COMPILE_SECONDS["registered"] = True


def run_numpyro(model, args, kwargs, seed=0) -> dict:
    """``MCMC.run`` as users call it (one call, warmup inside), then the per-step cost of sampling alone.

    NumPyro recompiles on every call, so its sampling cost is measured on a
    separate ``warmup()`` + ``run()`` pair: the ``run`` phase's wall time minus the
    compile time JAX reports for it (``jax.monitoring``), divided by its NUTS steps.
    """
    import arviz as az
    import jax
    from numpyro.infer import MCMC, NUTS

    def make():
        return MCMC(
            NUTS(model, target_accept_prob=SETTINGS["target_accept"]),
            num_warmup=SETTINGS["num_warmup"],
            num_samples=SETTINGS["num_samples"],
            num_chains=SETTINGS["num_chains"],
            chain_method="vectorized",
            progress_bar=False,
        )

    _count_compile_time()
    mcmc = make()
    start = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), *args, extra_fields=("num_steps",), **kwargs)
    jax.block_until_ready(mcmc.get_samples())
    total = time.perf_counter() - start
    ess = _min_bulk_ess(az.from_numpyro(mcmc))
    steps = float(np.sum(mcmc.get_extra_fields()["num_steps"]))

    split = make()
    split.warmup(jax.random.PRNGKey(seed), *args, **kwargs)
    compiled_before = _COMPILE_SECONDS["total"]
    start = time.perf_counter()
    split.run(jax.random.PRNGKey(seed + 1), *args, extra_fields=("num_steps",), **kwargs)
    jax.block_until_ready(split.get_samples())
    run_s = time.perf_counter() - start
    compile_s = _COMPILE_SECONDS["total"] - compiled_before
    run_steps = float(np.sum(split.get_extra_fields()["num_steps"]))
    return {
        "total_s": total,
        "ess": ess,
        "sampling_steps": steps,
        "sampling_run_s": run_s,
        "sampling_run_compile_s": compile_s,
        "per_step_s": (run_s - compile_s) / run_steps,
    }


def run_pymc(name: str) -> dict | None:
    if not PYMC_PYTHON.exists():
        return None
    runner = Path(__file__).with_name("pymc_runner.py")
    result = subprocess.run(
        [str(PYMC_PYTHON), str(runner), name], capture_output=True, text=True, timeout=3000, check=False
    )
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def compare_all() -> list[dict]:
    rows = []
    for name, (model, args, kwargs) in datasets().items():
        print(f"  {name} ...", file=sys.stderr, flush=True)
        ours = run_bayeskit(model, args, kwargs)
        theirs = run_numpyro(model, args, kwargs)
        pymc = run_pymc(name)
        ours["per_step_s"] = ours["sample_only_s"] / ours["sampling_steps"]
        rows.append(
            {
                "model": name,
                "bayeskit": ours,
                "numpyro": theirs,
                "pymc": pymc,
                "overhead_per_step": ours["per_step_s"] / theirs["per_step_s"] - 1.0,
            }
        )
        print(f"    {json.dumps(rows[-1], default=float)}", file=sys.stderr)
    return rows


if __name__ == "__main__":
    print(json.dumps(compare_all(), indent=1, default=float))
