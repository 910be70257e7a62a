"""The benchmark models in PyMC, run in PyMC's own venv (benchmarks/.cache/pymc-venv) on the same data.

Prints one JSON line: total seconds (compile included), minimum bulk ESS, PyMC version.
Usage: ``benchmarks/.cache/pymc-venv/bin/python benchmarks/pymc_runner.py "<model name>"``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_infer import SETTINGS, datasets  # NumPy-only data builders


def build(name: str, args: tuple, kwargs: dict):
    import pymc as pm

    with pm.Model() as model:
        if name.startswith("eight schools"):
            (sigma,) = args
            mu = pm.Normal("mu", 0, 5)
            tau = pm.HalfCauchy("tau", 5)
            offset = pm.Normal("offset", 0, 1, shape=sigma.shape[0])
            pm.Normal("obs", mu + tau * offset, sigma, observed=kwargs["y"])
        elif name.startswith("logistic"):
            (x,) = args
            intercept = pm.Normal("intercept", 0, 2.5)
            beta = pm.Normal("beta", 0, 2.5, shape=x.shape[1])
            pm.Bernoulli("y", logit_p=intercept + pm.math.dot(x, beta), observed=kwargs["y"])
        else:
            x, group, num_groups = args
            beta = pm.Normal("beta", 0, 2.5, shape=x.shape[1])
            mu = pm.Normal("mu", 0, 5)
            tau = pm.HalfNormal("tau", 2)
            z = pm.Normal("z", 0, 1, shape=num_groups)
            sigma = pm.HalfNormal("sigma", 2)
            pm.Normal("y", mu + tau * z[group] + pm.math.dot(x, beta), sigma, observed=kwargs["y"])
    return model


def main(name: str) -> None:
    import arviz as az
    import pymc as pm

    _, args, kwargs = datasets()[name]
    start = time.perf_counter()
    model = build(name, args, kwargs)
    with model:
        idata = pm.sample(
            draws=SETTINGS["num_samples"],
            tune=SETTINGS["num_warmup"],
            chains=SETTINGS["num_chains"],
            target_accept=SETTINGS["target_accept"],
            random_seed=0,
            progressbar=False,
            compute_convergence_checks=False,
        )
    total = time.perf_counter() - start
    ess = az.ess(idata, method="bulk")
    minimum = float(min(np.min(ess[v].values) for v in ess.data_vars))
    print(json.dumps({"total_s": total, "ess": minimum, "version": pm.__version__}))


if __name__ == "__main__":
    main(sys.argv[1])
