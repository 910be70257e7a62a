"""Sequential inference speed: Kalman filter + RTS smoother vs filterpy, and bandit simulation throughput.

1. Filter + smoother of ``--series`` independent series x ``--steps`` steps of a 2-D
   constant-velocity model (state 4, observations 2) in float64. bayeskit runs all
   series in one ``vmap`` of two ``lax.scan``s; filterpy (the usual Python choice) runs
   ``KalmanFilter.batch_filter`` + ``rts_smoother`` per series. filterpy is timed on
   ``--filterpy-series`` series and scaled linearly (each series costs the same), because
   the full set takes hours in Python; both results are checked equal on those series.
   dynamax (the JAX state-space library) runs its ``lgssm_smoother`` vmapped over all series.
   Then one series of ``--long-steps`` steps: the sequential scan, bayeskit's associative
   scan and dynamax's (``parallel_inference.lgssm_smoother``).
2. Bandit simulation: pulls per second of ``bayeskit.decide.simulate`` (3 Bernoulli arms,
   Thompson sampling, 100 seeds x 100,000 pulls, after compilation) vs a plain NumPy loop
   doing the same Beta-Bernoulli Thompson sampling one pull at a time for all seeds at once.

Usage::

    .venv/bin/python benchmarks/bench_sequential.py [--series 1000] [--steps 10000] [--filterpy-series 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def kalman(num_series: int, num_steps: int, filterpy_series: int) -> dict:
    import jax

    from bayeskit.sequential import constant_velocity

    model = constant_velocity(dt=1.0, process_noise=0.1, measurement_noise=4.0, initial_cov=100.0 * np.eye(4))
    _, ys = model.sample(jax.random.key(0), num_steps, num_series=num_series)
    model.smooth(ys[:2, :50])  # compile the batched program's shape family once for a warm-up of the runtime
    start = time.perf_counter()
    model.smooth(ys)  # dropped, as dynamax's first result is below: both timed calls can reuse freed buffers
    first = time.perf_counter() - start
    start = time.perf_counter()
    smoothed = model.smooth(ys)
    bayeskit_seconds = time.perf_counter() - start
    print(f"bayeskit: {bayeskit_seconds:.2f} s (first call with compilation {first:.2f} s)", file=sys.stderr)

    dynamax_seconds, dynamax_means_only, dynamax_difference = _dynamax(model, ys, smoothed.means)

    from filterpy.kalman import KalmanFilter

    start = time.perf_counter()
    max_difference = 0.0
    for i in range(filterpy_series):
        kf = KalmanFilter(dim_x=4, dim_z=2)
        kf.F, kf.Q, kf.H, kf.R = model.transition, model.transition_cov, model.observation, model.observation_cov
        # filterpy predicts before each update; start one step back so its first prediction is our prior.
        kf.x = np.linalg.solve(model.transition, model.initial_mean)
        kf.P = np.linalg.solve(
            model.transition, np.linalg.solve(model.transition, model.initial_cov - model.transition_cov).T
        )
        means, covs, _, _ = kf.batch_filter(ys[i])
        smoothed_means, _, _, _ = kf.rts_smoother(means, covs)
        max_difference = max(max_difference, float(np.abs(smoothed_means - smoothed.means[i]).max()))
    filterpy_subset = time.perf_counter() - start
    filterpy_seconds = filterpy_subset * num_series / filterpy_series
    print(
        f"filterpy: {filterpy_subset:.2f} s for {filterpy_series} series -> {filterpy_seconds:.1f} s", file=sys.stderr
    )
    return {
        "series": num_series,
        "steps": num_steps,
        "bayeskit_s": bayeskit_seconds,
        "bayeskit_first_call_s": first,
        "filterpy_s_measured": filterpy_subset,
        "filterpy_series_measured": filterpy_series,
        "filterpy_s_scaled": filterpy_seconds,
        "speedup": filterpy_seconds / bayeskit_seconds,
        "max_abs_difference_smoothed_mean": max_difference,
        "dynamax_s": dynamax_seconds,
        "dynamax_means_only_s": dynamax_means_only,
        "speedup_vs_dynamax": dynamax_seconds / bayeskit_seconds,
        "speedup_vs_dynamax_means_only": dynamax_means_only / bayeskit_seconds,
        "max_abs_difference_smoothed_mean_dynamax": dynamax_difference,
    }


def long_series(num_steps: int) -> dict:
    """One long series: the sequential scan against the associative (parallel) scan, and dynamax's parallel one."""
    import jax
    import jax.numpy as jnp
    from dynamax.linear_gaussian_ssm import parallel_inference

    from bayeskit.sequential import constant_velocity

    model = constant_velocity(dt=1.0, process_noise=0.1, measurement_noise=4.0, initial_cov=100.0 * np.eye(4))
    _, y = model.sample(jax.random.key(1), num_steps)
    out = {"steps": num_steps, "backend": jax.default_backend()}
    for method in ("sequential", "parallel"):
        model.smooth(y, method=method)  # compiled once
        start = time.perf_counter()
        smoothed = model.smooth(y, method=method)
        out[f"{method}_s"] = time.perf_counter() - start
        out[f"{method}_log_likelihood"] = float(smoothed.log_likelihood)
    with jax.enable_x64(True):
        params = _dynamax_params(model)

        def smooth(y):
            posterior = parallel_inference.lgssm_smoother(params, y)
            return posterior.smoothed_means, posterior.smoothed_covariances, posterior.marginal_loglik

        run = jax.jit(smooth)
        jax.block_until_ready(run(jnp.asarray(y)))
        start = time.perf_counter()
        jax.block_until_ready(run(jnp.asarray(y)))
        out["dynamax_parallel_s"] = time.perf_counter() - start
    print(f"long series: {out}", file=sys.stderr)
    return out


def _dynamax_params(model):
    """The model's matrices as dynamax's ``ParamsLGSSM``, float64 (call inside ``jax.enable_x64``)."""
    import jax.numpy as jnp
    from dynamax.linear_gaussian_ssm.inference import make_lgssm_params

    names = ("initial_mean", "initial_cov", "transition", "transition_cov", "observation", "observation_cov")
    return make_lgssm_params(*(jnp.asarray(getattr(model, name), jnp.float64) for name in names))


def _dynamax(model, ys: np.ndarray, means: np.ndarray) -> tuple[float, float, float]:
    """dynamax's sequential RTS smoother, vmapped over the series and jitted, in float64 (its own API)."""
    import jax
    import jax.numpy as jnp
    from dynamax.linear_gaussian_ssm.inference import lgssm_smoother

    with jax.enable_x64(True):
        params = _dynamax_params(model)
        data = jnp.asarray(ys, jnp.float64)
        timed = {}
        for outputs in ("means", "means and covariances"):  # bayeskit returns both; means alone let XLA skip a write

            def smooth(y, outputs=outputs):
                posterior = lgssm_smoother(params, y)
                if outputs == "means":
                    return posterior.smoothed_means
                return posterior.smoothed_means, posterior.smoothed_covariances

            run = jax.jit(jax.vmap(smooth))
            start = time.perf_counter()
            jax.block_until_ready(run(data))
            first = time.perf_counter() - start
            start = time.perf_counter()
            out = jax.block_until_ready(run(data))
            timed[outputs] = time.perf_counter() - start
            print(f"dynamax ({outputs}): {timed[outputs]:.2f} s (first call {first:.2f} s)", file=sys.stderr)
        out = np.asarray(out[0])
    return timed["means and covariances"], timed["means"], float(np.abs(out - means).max())


def numpy_thompson(probabilities: np.ndarray, num_seeds: int, horizon: int, seed: int = 0) -> np.ndarray:
    """Beta-Bernoulli Thompson sampling in NumPy, all seeds vectorized, one pull per Python iteration."""
    rng = np.random.default_rng(seed)
    successes = np.zeros((num_seeds, probabilities.size))
    failures = np.zeros((num_seeds, probabilities.size))
    regret = np.zeros(num_seeds)
    rows = np.arange(num_seeds)
    for _ in range(horizon):
        arms = np.argmax(rng.beta(1 + successes, 1 + failures), axis=1)
        rewards = rng.random(num_seeds) < probabilities[arms]
        successes[rows, arms] += rewards
        failures[rows, arms] += ~rewards
        regret += probabilities.max() - probabilities[arms]
    return regret


def bandits(num_seeds: int = 100, horizon: int = 100_000) -> dict:
    import jax

    from bayeskit.decide import BanditProblem, simulate

    problem = BanditProblem.bernoulli([0.04, 0.05, 0.06])
    simulate(jax.random.key(1), problem, horizon, ("thompson",), num_seeds=num_seeds)  # compile
    result = simulate(jax.random.key(0), problem, horizon, ("thompson",), num_seeds=num_seeds)
    bayeskit_seconds = result.seconds["thompson"]
    numpy_horizon = horizon // 10
    start = time.perf_counter()
    regret = numpy_thompson(problem.means, num_seeds, numpy_horizon)
    numpy_seconds = (time.perf_counter() - start) * horizon / numpy_horizon
    pulls = num_seeds * horizon
    numpy_engine = simulate(0, problem, horizon, ("thompson",), num_seeds=num_seeds, engine="numpy")
    row = {
        "bayeskit_numpy_engine_s": numpy_engine.seconds["thompson"],
        "bayeskit_numpy_engine_pulls_per_s": pulls / numpy_engine.seconds["thompson"],
        "numpy_engine_speedup": numpy_seconds / numpy_engine.seconds["thompson"],
        "numpy_engine_regret_at_numpy_horizon": float(
            numpy_engine.regret["thompson"][:, np.searchsorted(numpy_engine.steps, numpy_horizon)].mean()
        ),
        "seeds": num_seeds,
        "horizon": horizon,
        "bayeskit_s": bayeskit_seconds,
        "bayeskit_pulls_per_s": pulls / bayeskit_seconds,
        "numpy_s_scaled": numpy_seconds,
        "numpy_horizon_measured": numpy_horizon,
        "numpy_pulls_per_s": pulls / numpy_seconds,
        "speedup": numpy_seconds / bayeskit_seconds,
        "bayeskit_regret_at_numpy_horizon": float(
            result.regret["thompson"][:, np.searchsorted(result.steps, numpy_horizon)].mean()
        ),
        "numpy_regret": float(regret.mean()),
    }
    print("bandits", row, file=sys.stderr)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--filterpy-series", type=int, default=10)
    parser.add_argument("--long-steps", type=int, default=100_000)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    results = {
        "kalman": kalman(args.series, args.steps, args.filterpy_series),
        "long_series": long_series(args.long_steps),
        "bandits": bandits(),
    }
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle)


if __name__ == "__main__":
    main()
