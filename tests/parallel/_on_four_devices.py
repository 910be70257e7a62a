"""Run under ``XLA_FLAGS=--xla_force_host_platform_device_count=4`` by test_devices.py; prints one JSON line.

Four CPU devices exist only when the flag is set before JAX starts, hence a process of its own; all the
sharded runs share it, so each program compiles once.
"""

import json
import sys
from pathlib import Path

import jax
import numpy as np
import numpyro
import numpyro.distributions as dist

from bayeskit.infer import nuts
from bayeskit.infer.nuts import _Run
from bayeskit.nn import DeepEnsemble
from bayeskit.resources import estimate

Y = np.random.default_rng(0).normal(1.0, 1.0, 40)
KEY = jax.random.key(1)


def normal_mean(y):
    """mu ~ N(0, 10^2), y_i ~ N(mu, 1): the posterior of mu is Gaussian, known exactly."""
    mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    numpyro.sample("y", dist.Normal(mu, 1.0), obs=y)


def summary(posterior):
    draws = posterior.draws["mu"]
    table = posterior.summary()
    row = table.loc["mu"] if "mu" in table.index else table.iloc[0]
    return {
        "first": draws[:, :5].tolist(),
        "mean": float(draws.mean()),
        "mcse": float(row["mcse_mean"]),
        "shape": list(draws.shape),
        "method": posterior.details["chain_method"],
        "devices": posterior.details["devices"],
    }


def error_of(call):
    try:
        call()
    except ValueError as error:
        return str(error)
    return None


def stop_after(chunks, call):
    """Run ``call`` with the sampler interrupted (as Ctrl-C would) after ``chunks`` chunks; whether it was."""
    step = _Run.step
    count = {"chunks": 0}

    def counted(self, state, advance):
        if count["chunks"] == chunks:
            raise KeyboardInterrupt
        count["chunks"] += 1
        return step(self, state, advance)

    _Run.step = counted
    try:
        call()
    except KeyboardInterrupt:
        return True
    finally:
        _Run.step = step
    return False


def main(folder):
    out = {"devices": jax.local_device_count()}
    common = {"key": KEY, "num_warmup": 200, "num_samples": 300, "precision": "float64"}
    for method in ("vectorized", "sharded"):
        out[method] = summary(nuts(normal_mean, Y, num_chains=8, chain_method=method, **common))
    # bayeskit's warmup adapts on the host between chunks, from a state laid out over the devices; a run
    # stopped after 3 chunks resumes from its checkpoint (the state read back onto one device, then laid out)
    diag = {"num_chains": 8, "mass_matrix": "diag", "checkpoint": f"{folder}/diag.npz", "checkpoint_every": 50}
    out["diag"] = summary(nuts(normal_mean, Y, **diag, **common))
    Path(diag["checkpoint"]).unlink()
    out["stopped"] = stop_after(3, lambda: nuts(normal_mean, Y, **diag, **common))
    resumed = nuts(normal_mean, Y, **diag, **common)
    out["resumed"] = {**summary(resumed), "from": resumed.details["resumed_from"]}
    out["auto"] = summary(nuts(normal_mean, Y, num_chains="auto", **common))
    out["indivisible"] = error_of(lambda: nuts(normal_mean, Y, num_chains=6, chain_method="sharded", **common))
    plans = {  # the programs above, reused: memory per device from the sharded program
        method: estimate(nuts, normal_mean, Y, num_chains=8, chain_method=method, **common).to_dict()
        for method in ("vectorized", "sharded")
    }
    out["estimates"] = {method: {"run": plan["run"], "needs": plan["needs"]} for method, plan in plans.items()}

    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (200, 2))
    y = np.sin(x[:, 0]) + 0.1 * rng.normal(size=200)
    fits = {
        method: DeepEnsemble(members=8, hidden=(16,), epochs=10, member_method=method, key=3).fit(x, y)
        for method in ("vectorized", "sharded", "auto")
    }
    out["ensemble"] = {
        method: {
            "mean": fit.predict(x[:20]).tolist(),
            "loss": fit.training_loss_.tolist(),
            "sharding": str(jax.tree.leaves(fit.params_)[0].sharding),
        }
        for method, fit in fits.items()
    }
    out["ensemble_indivisible"] = error_of(lambda: DeepEnsemble(members=6, epochs=1, member_method="sharded").fit(x, y))
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
