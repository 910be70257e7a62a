"""The NUTS suite: twelve standard posteriors, bayeskit's warmup vs NumPyro's default NUTS and BlackJAX's window adaptation.

Every sampler runs 4 chains x 1,000 warmup + 1,000 draws at target acceptance 0.8 (the
peers' default; bayeskit's own default is 0.9) from NumPyro's uniform initialization
(``bayeskit-MASS-pathfinder``: from Pathfinder starts instead), over the same seeds. Per run: stuck chains (bayeskit's per-chain finding applied to
every sampler's draws), the largest R-hat, the smallest bulk ESS over all scalar
parameters per gradient evaluation (warmup counted) and per second (sampling and
warmup, compile excluded), and the largest error of a posterior mean, in posterior
standard deviations, against the reference: the closed form where there is one,
otherwise a long NumPyro run (4 x 10,000 draws at target 0.95, cached).

Run: ``.venv/bin/python benchmarks/bench_nuts_suite.py [--seeds 20] [--only NAME]``;
prints JSON lines and a Markdown table (``--markdown FILE`` writes it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nuts_posteriors import posteriors

CACHE = Path(__file__).resolve().parent / ".cache" / "nuts_suite_references.npz"
WARMUP, SAMPLES, CHAINS, TARGET = 1000, 1000, 4, 0.8


def _metrics(draws: dict, lp: np.ndarray, gradients: int, seconds: float, reference: dict) -> dict:
    from bayeskit._arviz import diagnostics, from_dict
    from bayeskit.infer.diagnostics import chain_findings

    draws = {site: values for site, values in draws.items() if site in reference}
    summary = diagnostics(from_dict({"posterior": draws}))
    ess = float(summary["ess_bulk"].min())
    stuck = [f.where for f in chain_findings(draws, lp)]
    error = 0.0
    for site, (mean, sd) in reference.items():
        got = draws[site].reshape(-1, *draws[site].shape[2:]).mean(0)
        error = max(error, float(np.max(np.abs(np.ravel(got) - np.ravel(mean)) / np.ravel(sd))))
    return {
        "stuck": len(stuck),
        "r_hat": float(summary["r_hat"].max()),
        "ess": ess,
        "gradients": int(gradients),
        "ess_per_gradient": ess / max(gradients, 1),
        "ess_per_s": ess / max(seconds, 1e-9),
        "error_sd": error,
    }


def run_bayeskit(entry: dict, seed: int, mass_matrix: str, init: str = "uniform") -> dict:
    import jax

    from bayeskit.infer import nuts

    fit = nuts(
        entry["model"],
        key=jax.random.key(seed),
        num_chains=CHAINS,
        num_warmup=WARMUP,
        num_samples=SAMPLES,
        target_accept=TARGET,
        mass_matrix=mass_matrix,
        init=init,
        **entry["data"],
    )
    lp = np.asarray(fit.idata["sample_stats"]["lp"].values)
    seconds = fit.timings["warmup_s"] + fit.timings["sampling_s"]
    out = _metrics(fit.draws, lp, fit.details["gradients"], seconds, entry["reference"])
    out["restarts"] = int(np.sum(fit.details["restarts"]))
    return out


_NUMPYRO: dict = {}


def run_numpyro(entry: dict, seed: int, num_samples: int = SAMPLES, target: float = TARGET) -> tuple[dict, dict]:
    import jax
    from numpyro.infer import MCMC, NUTS

    key = (entry["name"], num_samples, target)
    if key not in _NUMPYRO:
        kernel = NUTS(entry["model"], target_accept_prob=target)
        _NUMPYRO[key] = MCMC(
            kernel,
            num_warmup=WARMUP,
            num_samples=num_samples,
            num_chains=CHAINS,
            chain_method="vectorized",
            progress_bar=False,
        )
    mcmc = _NUMPYRO[key]
    start = time.perf_counter()
    mcmc.warmup(jax.random.key(seed), extra_fields=("num_steps",), collect_warmup=True, **entry["data"])
    warm_steps = int(np.asarray(mcmc.get_extra_fields()["num_steps"]).sum())
    mcmc.run(mcmc.post_warmup_state.rng_key, extra_fields=("num_steps", "potential_energy"), **entry["data"])
    seconds = time.perf_counter() - start
    extra = mcmc.get_extra_fields(group_by_chain=True)
    draws = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    gradients = warm_steps + int(np.asarray(extra["num_steps"]).sum())
    return draws, {"lp": -np.asarray(extra["potential_energy"]), "gradients": gradients, "seconds": seconds}


_BLACKJAX: dict = {}


def _blackjax_program(entry: dict):
    import blackjax
    import jax
    import jax.numpy as jnp
    from numpyro.infer.util import initialize_model

    data = entry["data"]

    def run(key):
        init_key, warm_key, sample_key = jax.random.split(key, 3)
        params, potential_fn, postprocess_fn, _ = initialize_model(
            jax.random.split(init_key, CHAINS), entry["model"], model_kwargs=data, dynamic_args=False
        )

        def logdensity(z):
            return -potential_fn(z)

        def chain(position, warm, sample):
            adaptation = blackjax.window_adaptation(blackjax.nuts, logdensity, target_acceptance_rate=TARGET)
            (state, parameters), info = adaptation.run(warm, position, num_steps=WARMUP)
            kernel = blackjax.nuts(logdensity, **parameters)

            def step(state, k):
                state, step_info = kernel.step(k, state)
                return state, (state.position, state.logdensity, step_info.num_integration_steps)

            _, (positions, lp, steps) = jax.lax.scan(step, state, jax.random.split(sample, SAMPLES))
            return positions, lp, steps.sum() + info.info.num_integration_steps.sum()

        positions, lp, steps = jax.vmap(chain)(
            params.z, jax.random.split(warm_key, CHAINS), jax.random.split(sample_key, CHAINS)
        )
        constrained = jax.vmap(jax.vmap(postprocess_fn))(positions)
        return constrained, lp, jnp.sum(steps)

    return jax.jit(run)


def run_blackjax(entry: dict, seed: int) -> tuple[dict, dict]:
    import jax

    if entry["name"] not in _BLACKJAX:
        program = _blackjax_program(entry)
        jax.block_until_ready(program(jax.random.key(10_000)))  # compile outside the timing
        _BLACKJAX[entry["name"]] = program
    start = time.perf_counter()
    draws, lp, steps = jax.block_until_ready(_BLACKJAX[entry["name"]](jax.random.key(seed)))
    seconds = time.perf_counter() - start
    draws = {k: np.asarray(v) for k, v in draws.items()}
    return draws, {"lp": np.asarray(lp), "gradients": int(steps), "seconds": seconds}


def reference(entry: dict) -> dict:
    """Site -> (mean, sd): the closed form, or a long NumPyro run cached in benchmarks/.cache."""
    if entry["exact"] is not None:
        return entry["exact"]
    stored = dict(np.load(CACHE)) if CACHE.exists() else {}
    prefix = entry["name"] + "|"
    if not any(k.startswith(prefix) for k in stored):
        draws, _ = run_numpyro(entry, 123_456, num_samples=10_000, target=0.95)
        for site, values in draws.items():
            flat = values.reshape(-1, *values.shape[2:])
            stored[f"{prefix}{site}|mean"], stored[f"{prefix}{site}|sd"] = flat.mean(0), flat.std(0)
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(CACHE, **stored)
    sites = {k.split("|")[1] for k in stored if k.startswith(prefix)}
    return {site: (stored[f"{prefix}{site}|mean"], stored[f"{prefix}{site}|sd"]) for site in sites}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--only", default=None)
    parser.add_argument(
        "--samplers", default="bayeskit-diag,bayeskit-lowrank,bayeskit-lowrank-pathfinder,numpyro,blackjax"
    )
    parser.add_argument("--jsonl", default=None)
    args = parser.parse_args()
    samplers = args.samplers.split(",")
    out = open(args.jsonl, "a") if args.jsonl else None
    for name, entry in posteriors().items():
        if args.only and args.only.lower() not in name.lower():
            continue
        entry = {**entry, "name": name}
        entry["reference"] = reference(entry)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for sampler in samplers:
                try:
                    if sampler.startswith("bayeskit"):
                        row = run_bayeskit(entry, seed, *sampler.split("-")[1:])  # bayeskit-MASS[-INIT]
                    else:
                        runner = run_numpyro if sampler == "numpyro" else run_blackjax
                        draws, info = runner(entry, seed)
                        row = _metrics(draws, info["lp"], info["gradients"], info["seconds"], entry["reference"])
                except Exception as error:  # a sampler that fails on a posterior is a result, not a crash
                    row = {"failed": f"{type(error).__name__}: {str(error)[:200]}"}
                row.update(posterior=name, sampler=sampler, seed=seed)
                line = json.dumps(row)
                print(line, flush=True)
                if out:
                    out.write(line + "\n")
                    out.flush()


if __name__ == "__main__":
    main()
