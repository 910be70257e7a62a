"""Exact A/B decisions vs the MCMC route most tutorials take (NumPyro NUTS), and batch throughput."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np

from bayeskit.conjugate import BetaBinomial
from bayeskit.decide import ab_test_binary, compare_two, expected_max, prob_greater

VISITORS = np.array([10_000.0, 10_000.0])
CONVERSIONS = np.array([500.0, 560.0])


def _nuts(num_warmup=1000, num_samples=1000, num_chains=4, seed=0):
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS

    def model(visitors, conversions):
        rate = numpyro.sample("rate", dist.Beta(jnp.ones(2), jnp.ones(2)))
        numpyro.sample("conversions", dist.Binomial(visitors, probs=rate), obs=conversions)

    mcmc = MCMC(
        NUTS(model),
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method="vectorized",
        progress_bar=False,
    )
    start = time.perf_counter()
    mcmc.run(jax.random.key(seed), jnp.asarray(VISITORS), jnp.asarray(CONVERSIONS))
    draws = np.asarray(mcmc.get_samples()["rate"], dtype=np.float64)
    seconds = time.perf_counter() - start
    prob_b = float(np.mean(draws[:, 1] > draws[:, 0]))
    loss_a = float(np.mean(np.maximum(draws[:, 1] - draws[:, 0], 0.0)))
    return seconds, prob_b, loss_a


def exact_vs_nuts():
    """P(B > A) and expected loss of keeping A: exact engine vs NUTS, both against the exact value."""
    start = time.perf_counter()
    result = ab_test_binary(["A", "B"], VISITORS, CONVERSIONS, sensitivity=False)
    exact_seconds = time.perf_counter() - start
    posterior = BetaBinomial(1.0, 1.0).update(CONVERSIONS, VISITORS).marginals()["probability"]
    from scipy import stats

    a, b = (
        stats.beta(posterior.args[0][0], posterior.args[1][0]),
        stats.beta(posterior.args[0][1], posterior.args[1][1]),
    )
    exact_prob = float(prob_greater(b, a, tolerance=1e-12)[0])
    exact_loss = float(expected_max(a, b, tolerance=1e-12)[0]) - float(a.mean())
    nuts_seconds, nuts_prob, nuts_loss = _nuts()
    _, nuts_prob_warm, _ = _nuts(seed=1)  # a second run shows the spread of the MCMC answer
    return {
        "task": "P(B > A) and expected loss, 2 arms x 10,000 visitors (500 vs 560 conversions)",
        "bayeskit_s": exact_seconds,
        "peer": "NumPyro NUTS, 4 chains x (1,000 warmup + 1,000 draws), vectorized, compile included",
        "peer_s": nuts_seconds,
        "peer_note": "first run",
        "speedup": nuts_seconds / exact_seconds,
        "agreement": (
            f"exact P(B>A) = {exact_prob:.10f}; bayeskit error {abs(result.arm('B').prob_best - exact_prob):.1e}, "
            f"NUTS error {abs(nuts_prob - exact_prob):.1e} (second seed: {abs(nuts_prob_warm - exact_prob):.1e}); "
            f"expected loss of A = {exact_loss:.3e}: bayeskit error {abs(result.arm('A').expected_loss - exact_loss):.1e}, "
            f"NUTS error {abs(nuts_loss - exact_loss):.1e}"
        ),
    }


def many_tests(num_tests=10_000, seed=2):
    """10,000 independent two-arm tests (one per segment) at once: exact P(B > A) and expected max."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    visitors = rng.integers(500, 20_000, size=(num_tests, 2)).astype(float)
    conversions = rng.binomial(visitors.astype(int), 0.05).astype(float)
    start = time.perf_counter()
    a = stats.beta(1 + conversions[:, 0], 1 + visitors[:, 0] - conversions[:, 0])
    b = stats.beta(1 + conversions[:, 1], 1 + visitors[:, 1] - conversions[:, 1])
    _, _, error = compare_two(a, b)
    seconds = time.perf_counter() - start
    draws = 200_000
    mc_start = time.perf_counter()
    sample_rng = np.random.default_rng(0)
    for i in range(50):
        pa = sample_rng.beta(1 + conversions[i, 0], 1 + visitors[i, 0] - conversions[i, 0], draws)
        pb = sample_rng.beta(1 + conversions[i, 1], 1 + visitors[i, 1] - conversions[i, 1], draws)
        _ = np.mean(pb > pa), np.mean(np.maximum(pa, pb))
    mc_seconds = (time.perf_counter() - mc_start) * num_tests / 50
    return {
        "task": f"{num_tests:,} two-arm tests at once: exact P(B>A) + expected loss",
        "bayeskit_s": seconds,
        "peer": f"NumPy Monte Carlo, {draws:,} draws per test (error ~1e-3)",
        "peer_s": mc_seconds,
        "peer_note": "timed on 50 tests, scaled",
        "speedup": mc_seconds / seconds,
        "agreement": (f"{num_tests / seconds:,.0f} tests/s; largest quadrature error estimate {error.max():.1e}"),
    }


GBSTATS_PYTHON = Path(__file__).resolve().parent / ".cache" / "gbstats-venv" / "bin" / "python"


def gbstats_agreement(num_tests=2_000, seed=5):
    """The same two-arm inputs through GrowthBook's gbstats (Gaussian approximation) and the exact engine."""
    if not GBSTATS_PYTHON.exists():
        return None
    rng = np.random.default_rng(seed)
    visitors = rng.integers(100, 20_000, size=(num_tests, 2)).astype(float)
    conversions = rng.binomial(visitors.astype(int), rng.uniform(0.005, 0.2, size=(num_tests, 1))).astype(float)
    conversions = np.maximum(conversions, 1.0)  # gbstats refuses a zero baseline
    payload = json.dumps([[v[0], c[0], v[1], c[1]] for v, c in zip(visitors, conversions, strict=True)])
    output = subprocess.run(
        [str(GBSTATS_PYTHON), str(Path(__file__).with_name("gbstats_runner.py"))],
        input=payload,
        capture_output=True,
        text=True,
        check=True,
    )
    peer = json.loads(output.stdout)
    from scipy import stats

    start = time.perf_counter()
    a = stats.beta(1 + conversions[:, 0], 1 + visitors[:, 0] - conversions[:, 0])
    b = stats.beta(1 + conversions[:, 1], 1 + visitors[:, 1] - conversions[:, 1])
    exact, _, _ = compare_two(a, b)
    seconds = time.perf_counter() - start
    difference = np.abs(np.asarray(peer["chance_to_win"]) - exact)
    small = visitors.min(axis=1) < 1_000
    return {
        "task": f"{num_tests:,} two-arm conversion tests (100 to 20,000 visitors per arm): P(B > A)",
        "bayeskit_s": seconds,
        "peer": "gbstats 0.8.0 EffectBayesianABTest, one call per test (own venv)",
        "peer_s": peer["seconds"],
        "peer_note": "single run",
        "speedup": peer["seconds"] / seconds,
        "agreement": (
            f"gbstats chance-to-win vs exact: median abs difference {np.median(difference):.1e}; max "
            f"{difference[small].max():.1e} when an arm has < 1,000 visitors (Gaussian approximation, and a flat "
            f"prior on the lift vs Beta(1, 1) per arm), {difference[~small].max():.1e} when both have >= 1,000"
        ),
    }


BENCHMARKS = [exact_vs_nuts, many_tests, gbstats_agreement]
