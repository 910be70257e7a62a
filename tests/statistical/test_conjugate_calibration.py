"""Simulation-based calibration of the exact engines, and a broken engine that must fail it.

SBC (Talts et al. 2018): draw theta from the prior, data from the likelihood, then L
posterior draws; the rank of theta among them is uniform on 0..L exactly when the
posterior is right. A chi-square test on the rank histogram decides; the seeds are fixed.
"""

import numpy as np
import pytest
from scipy import stats

from bayeskit.conjugate import (
    BayesianLinearRegression,
    BetaBinomial,
    DirichletMultinomial,
    GammaPoisson,
    NormalInverseGamma,
    NormalKnownVariance,
)

pytestmark = pytest.mark.statistical

NUM_SIMULATIONS, NUM_DRAWS, NUM_BINS = 1000, 99, 10


def rank_uniformity_pvalue(ranks: np.ndarray) -> float:
    counts = np.histogram(ranks, bins=NUM_BINS, range=(0, NUM_DRAWS + 1))[0]
    return stats.chisquare(counts).pvalue


def sbc_ranks_batched(prior, simulate, update, parameter, rng):
    """Vectorized SBC for families whose batch holds all simulations at once."""
    truth = prior.sample(rng, 1)
    truth = truth[parameter][0] if isinstance(truth, dict) else truth[0]
    posterior = update(simulate(truth, rng))
    draws = posterior.sample(rng, NUM_DRAWS)
    draws = draws[parameter] if isinstance(draws, dict) else draws
    return (draws < truth).sum(axis=0)


CASES = {
    "beta-binomial": (
        lambda n: BetaBinomial(np.full(n, 2.0), np.full(n, 3.0)),
        lambda p, rng: rng.binomial(20, p),
        lambda prior: lambda s: prior.update(s, 20),
        None,
    ),
    "gamma-poisson": (
        lambda n: GammaPoisson(np.full(n, 3.0), np.full(n, 2.0)),
        lambda lam, rng: rng.poisson(lam * 4.0),
        lambda prior: lambda k: prior.update(k, 4.0),
        None,
    ),
    "normal-known-variance": (
        lambda n: NormalKnownVariance(np.zeros(n), 4.0, 1.5),
        lambda mu, rng: mu[:, None] + np.sqrt(1.5) * rng.standard_normal((mu.size, 5)),
        lambda prior: prior.update,
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sbc_ranks_are_uniform(name):
    make_prior, simulate, make_update, _ = CASES[name]
    prior = make_prior(NUM_SIMULATIONS)
    ranks = sbc_ranks_batched(prior, simulate, make_update(prior), None, np.random.default_rng(2024))
    assert rank_uniformity_pvalue(ranks) > 1e-3


def test_sbc_normal_inverse_gamma_both_parameters():
    rng = np.random.default_rng(99)
    prior = NormalInverseGamma(np.zeros(NUM_SIMULATIONS), 1.0, 3.0, 2.0)
    truth = prior.sample(rng, 1)
    x = truth["mean"][0][:, None] + np.sqrt(truth["variance"][0])[:, None] * rng.standard_normal((NUM_SIMULATIONS, 6))
    draws = prior.update(x).sample(rng, NUM_DRAWS)
    for name in ("mean", "variance"):
        ranks = (draws[name] < truth[name][0]).sum(axis=0)
        assert rank_uniformity_pvalue(ranks) > 1e-3, name


def test_sbc_dirichlet_each_category():
    rng = np.random.default_rng(5)
    prior = DirichletMultinomial(np.tile([1.0, 2.0, 3.0], (NUM_SIMULATIONS, 1)))
    truth = prior.sample(rng, 1)[0]
    counts = np.stack([rng.multinomial(15, p) for p in truth])
    draws = prior.update(counts).sample(rng, NUM_DRAWS)
    for k in range(3):
        ranks = (draws[..., k] < truth[:, k]).sum(axis=0)
        assert rank_uniformity_pvalue(ranks) > 1e-3


def test_sbc_bayesian_linear_regression():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(8, 2))
    prior = BayesianLinearRegression(
        mean=np.zeros(2), precision=np.array([[2.0, 0.5], [0.5, 1.0]]), alpha=3.0, beta=2.0
    )
    ranks = {"weights": [], "noise_variance": []}
    for _ in range(400):
        truth = prior.sample(rng, 1)
        y = x @ truth["weights"][0] + np.sqrt(truth["noise_variance"][0]) * rng.standard_normal(8)
        draws = prior.update(x, y).sample(rng, NUM_DRAWS)
        ranks["weights"].append((draws["weights"][:, 0] < truth["weights"][0, 0]).sum())
        ranks["noise_variance"].append((draws["noise_variance"] < truth["noise_variance"][0]).sum())
    for name, values in ranks.items():
        counts = np.histogram(values, bins=NUM_BINS, range=(0, NUM_DRAWS + 1))[0]
        assert stats.chisquare(counts).pvalue > 1e-3, name


def test_a_broken_engine_fails_sbc():
    """An overconfident posterior (variance halved) must be caught by the same check."""
    rng = np.random.default_rng(2024)
    prior = NormalKnownVariance(np.zeros(NUM_SIMULATIONS), 4.0, 1.5)
    truth = prior.sample(rng, 1)[0]
    posterior = prior.update(truth[:, None] + np.sqrt(1.5) * rng.standard_normal((NUM_SIMULATIONS, 5)))
    broken = NormalKnownVariance(posterior.loc, posterior.variance / 2.0, 1.5)
    ranks = (broken.sample(rng, NUM_DRAWS) < truth).sum(axis=0)
    assert rank_uniformity_pvalue(ranks) < 1e-3


@pytest.mark.parametrize(
    "posterior",
    [
        BetaBinomial(3.0, 7.0),
        GammaPoisson(4.0, 2.0),
        NormalInverseGamma(1.0, 2.0, 4.0, 3.0),
        DirichletMultinomial([2.0, 5.0, 1.0]),
    ],
    ids=["beta", "gamma", "nig", "dirichlet"],
)
def test_exact_draws_reproduce_moments_within_mcse(posterior):
    draws = posterior.sample(np.random.default_rng(8), 100_000)
    means = posterior.mean()
    if not isinstance(draws, dict):
        draws, means = {"x": draws}, {"x": means}
    for name, values in draws.items():
        mcse = values.std(axis=0) / np.sqrt(values.shape[0])
        assert np.all(np.abs(values.mean(axis=0) - means[name]) < 4 * mcse), name


def test_equal_tailed_interval_coverage_of_the_exact_engine():
    """Frequentist coverage averaged over the prior equals the nominal level for a correct posterior."""
    rng = np.random.default_rng(31)
    num = 20_000
    prior = BetaBinomial(np.full(num, 2.0), np.full(num, 2.0))
    truth = prior.sample(rng, 1)[0]
    posterior = prior.update(rng.binomial(30, truth), 30)
    for kind in ("eti", "hdi"):
        low, high = posterior.interval(0.9, kind=kind)
        coverage = np.mean((low <= truth) & (truth <= high))
        assert abs(coverage - 0.9) < 4 * np.sqrt(0.9 * 0.1 / num), kind
