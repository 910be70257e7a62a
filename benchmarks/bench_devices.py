"""Chains and ensemble members over many devices: bayeskit's sharded runs beside NumPyro's ``pmap`` chains.

On a CPU the devices are made with ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (this script sets it
and re-runs itself when the flag is missing). Every row is timed on its second run, so compilation is left out
(each method's compiled program is reused), and ESS/s is the smallest ESS over the parameters (NumPyro's estimator) per second
of that run.

- NUTS on a logistic regression (``--rows`` x 10, 8 chains, 1,000 warm-up + 1,000 draws): bayeskit's
  ``chain_method="vectorized"`` (one device) and ``"sharded"`` (``shard_map`` over all devices), beside
  ``numpyro.infer.MCMC`` with ``chain_method="vectorized"`` and ``"parallel"`` (``pmap``, one chain per device
  group: what a NumPyro user runs on many devices).
- A deep ensemble of 8 members, (64, 64) hidden, 2,000 rows, 40 epochs: ``member_method="vectorized"`` and
  ``"sharded"``.

Usage::

    .venv/bin/python benchmarks/bench_devices.py [--devices 4] [--rows 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

CHAINS, WARMUP, SAMPLES = 8, 1000, 1000


def logistic(x, y=None):
    import numpyro
    import numpyro.distributions as dist

    w = numpyro.sample("w", dist.Normal(0.0, 1.0).expand([x.shape[1]]).to_event(1))
    b = numpyro.sample("b", dist.Normal(0.0, 1.0))
    numpyro.sample("y", dist.Bernoulli(logits=x @ w + b), obs=y)


def data(rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 10)).astype(np.float32)
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-(x @ rng.normal(size=10) * 0.5)))).astype(np.float32)
    return x, y


def min_ess(draws: dict) -> float:
    """The smallest ESS over every parameter (NumPyro's estimator, the same for every row)."""
    from numpyro.diagnostics import effective_sample_size

    return min(float(np.min(effective_sample_size(np.asarray(value)))) for value in draws.values())


def second_run(run) -> tuple[float, dict]:
    run(0)  # compiles
    start = time.perf_counter()
    draws = run(1)
    return time.perf_counter() - start, draws


def nuts_rows(rows: int) -> list[dict]:
    import jax
    from numpyro.infer import MCMC, NUTS

    from bayeskit.infer import nuts

    x, y = data(rows)
    out = []
    for method in ("vectorized", "sharded"):
        seconds, draws = second_run(
            lambda seed, method=method: nuts(logistic, x, y=y, key=jax.random.key(seed), num_chains=CHAINS,
                                             num_warmup=WARMUP, num_samples=SAMPLES, chain_method=method).draws
        )  # fmt: skip
        out.append({"task": "NUTS", "method": f'bayeskit `chain_method="{method}"`', "seconds": seconds,
                    "ess_s": min_ess(draws) / seconds})  # fmt: skip
    for method in ("vectorized", "parallel"):
        mcmc = MCMC(NUTS(logistic, target_accept_prob=0.9), num_warmup=WARMUP, num_samples=SAMPLES,
                    num_chains=CHAINS, chain_method=method, progress_bar=False)  # fmt: skip

        def run(seed, mcmc=mcmc):
            mcmc.run(jax.random.key(seed), x, y=y)
            return {name: np.asarray(value) for name, value in mcmc.get_samples(group_by_chain=True).items()}

        seconds, draws = second_run(run)
        out.append({"task": "NUTS", "method": f'NumPyro `MCMC(chain_method="{method}")`', "seconds": seconds,
                    "ess_s": min_ess(draws) / seconds})  # fmt: skip
    return out


def ensemble_rows() -> list[dict]:
    from bayeskit.nn import DeepEnsemble

    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (2000, 4))
    y = np.sin(x[:, 0]) * x[:, 1] + 0.2 * rng.normal(size=2000)
    out = []
    for method in ("vectorized", "sharded"):
        model = DeepEnsemble(members=8, hidden=(64, 64), epochs=40, validation_fraction=0.0, member_method=method)
        seconds, _ = second_run(lambda seed, model=model: model.set_params(key=seed).fit(x, y))
        out.append({"task": "deep ensemble", "method": f'bayeskit `member_method="{method}"`', "seconds": seconds})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    flag = f"--xla_force_host_platform_device_count={args.devices}"
    if flag not in os.environ.get("XLA_FLAGS", ""):
        env = {**os.environ, "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()}
        sys.exit(subprocess.run([sys.executable, *sys.argv], env=env).returncode)
    import jax

    print(f"{jax.local_device_count()} {jax.default_backend()} devices, {os.cpu_count()} cores", file=sys.stderr)
    rows = nuts_rows(args.rows) + ensemble_rows()
    print("| task | method | wall time (s) | ESS/s | speed-up |\n|---|---|---|---|---|")
    first = {}
    for row in rows:
        print(json.dumps(row), file=sys.stderr)
        base = first.setdefault(row["task"], row["seconds"])
        ess = f"{row['ess_s']:.0f}" if "ess_s" in row else ""
        print(f"| {row['task']} | {row['method']} | {row['seconds']:.2f} | {ess} | {base / row['seconds']:.2f}x |")


if __name__ == "__main__":
    main()
