import warnings

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from bayeskit.conjugate import BetaBinomial


def test_update_reads_like_the_math():
    posterior = BetaBinomial(alpha=2, beta=2).update(successes=3, trials=10)
    assert (float(posterior.alpha), float(posterior.beta)) == (5.0, 9.0)
    assert repr(posterior) == "BetaBinomial(alpha=5.0, beta=9.0)"


def test_moments_density_and_quantiles_match_scipy():
    a, b = np.array([0.5, 2.0, 30.0, 1e4]), np.array([0.7, 5.0, 2.0, 1e4])
    posterior = BetaBinomial(a, b)
    reference = stats.beta(a, b)
    np.testing.assert_allclose(posterior.mean(), reference.mean(), rtol=1e-12)
    np.testing.assert_allclose(posterior.var(), reference.var(), rtol=1e-12)
    np.testing.assert_allclose(posterior.std(), reference.std(), rtol=1e-12)
    np.testing.assert_allclose(posterior.log_prob(0.3), reference.logpdf(0.3), rtol=1e-12)
    low, high = posterior.interval(0.9)
    ref_low, ref_high = reference.interval(0.9)
    np.testing.assert_allclose(low, ref_low, rtol=1e-10)
    np.testing.assert_allclose(high, ref_high, rtol=1e-10)


@pytest.mark.parametrize(
    ("alpha", "beta", "expected"),
    [
        (5, 9, 4 / 12),
        (1, 3, 0.0),
        (0.5, 3, 0.0),
        (3, 1, 1.0),
        (3, 0.5, 1.0),
        (1, 1, 0.5),
        (1, 0.5, 1.0),
        (0.5, 1, 0.0),
    ],
)
def test_mode_including_boundaries(alpha, beta, expected):
    assert float(BetaBinomial(alpha, beta).mode()) == pytest.approx(expected)


def test_mode_of_u_shaped_beta_is_nan():
    assert np.isnan(BetaBinomial(0.5, 0.5).mode())


def _reference_hdi(a, b, prob):
    dist = stats.beta(a, b)
    result = optimize.minimize_scalar(
        lambda p: dist.ppf(p + prob) - dist.ppf(p),
        bounds=(0, 1 - prob),
        method="bounded",
        options={"xatol": 1e-14},
    )
    return dist.ppf(result.x), dist.ppf(result.x + prob)


@pytest.mark.parametrize(("alpha", "beta"), [(5, 9), (2.5, 40), (300, 2), (1e4, 1e4), (1.5, 1.2)])
def test_hdi_is_shortest_and_holds_exactly_prob(alpha, beta):
    posterior = BetaBinomial(alpha, beta)
    low, high = posterior.interval(0.95, kind="hdi")
    eti_low, eti_high = posterior.interval(0.95)
    dist = stats.beta(alpha, beta)
    assert dist.cdf(high) - dist.cdf(low) == pytest.approx(0.95, abs=1e-10)
    assert high - low <= eti_high - eti_low + 1e-12
    ref_low, ref_high = _reference_hdi(alpha, beta, 0.95)
    assert float(low) == pytest.approx(ref_low, abs=1e-8)
    assert float(high) == pytest.approx(ref_high, abs=1e-8)
    assert dist.logpdf(low) == pytest.approx(dist.logpdf(high), abs=1e-6)


@pytest.mark.parametrize(("alpha", "beta", "side"), [(1, 5, "low"), (0.5, 4, "low"), (5, 1, "high"), (3, 0.3, "high")])
def test_hdi_with_mode_on_the_boundary_touches_it(alpha, beta, side):
    low, high = BetaBinomial(alpha, beta).interval(0.9, kind="hdi")
    dist = stats.beta(alpha, beta)
    if side == "low":
        assert float(low) == 0.0
        assert float(high) == pytest.approx(dist.ppf(0.9), rel=1e-12)
    else:
        assert float(high) == 1.0
        assert float(low) == pytest.approx(dist.ppf(0.1), rel=1e-12)


def test_hdi_of_bimodal_beta_is_nan_with_a_warning():
    posterior = BetaBinomial([0.5, 3.0], [0.5, 4.0])
    with pytest.warns(RuntimeWarning, match="bimodal at 1 batch entries"):
        low, high = posterior.interval(0.9, kind="hdi")
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert np.isfinite(low[1]) and np.isfinite(high[1])


def test_extreme_counts_stay_finite_without_warnings():
    prior = BetaBinomial([1.0, 1.0, 1.0, 1e4], [1.0, 1.0, 1.0, 1e4])
    successes = np.array([0, 1e9, 3e8, 5e3])
    trials = np.array([1e9, 1e9, 1e9, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        posterior = prior.update(successes=successes, trials=trials)
        for kind in ("eti", "hdi"):
            low, high = posterior.interval(0.95, kind=kind)
            assert np.all(np.isfinite(low)) and np.all(np.isfinite(high))
            assert np.all(low <= posterior.mean()) and np.all(posterior.mean() <= high)
        evidence = prior.log_marginal_likelihood(successes, trials)
    assert np.all(np.isfinite(evidence))
    assert float(posterior.mean()[0]) == pytest.approx(1 / (1e9 + 2))
    assert float(posterior.interval(0.95, kind="hdi").low[0]) == 0.0
    assert float(posterior.interval(0.95, kind="hdi").high[1]) == 1.0


def test_predictive_is_the_beta_binomial():
    posterior = BetaBinomial(3.0, 4.0)
    predictive = posterior.predictive(trials=12)
    np.testing.assert_allclose(np.exp(predictive.log_prob(np.arange(13))), stats.betabinom(12, 3, 4).pmf(np.arange(13)))
    # The variance splits exactly: binomial noise t E[p(1-p)] plus t^2 Var(p).
    parts = predictive.decompose()
    assert parts.total == pytest.approx(stats.betabinom(12, 3, 4).var(), rel=1e-12)
    assert parts.epistemic == pytest.approx(144 * stats.beta(3, 4).var(), rel=1e-12)


def test_log_marginal_likelihood_matches_quadrature():
    prior = BetaBinomial(2.5, 1.5)
    s, t = 7, 20
    evidence, _ = integrate.quad(lambda p: stats.binom.pmf(s, t, p) * stats.beta.pdf(p, 2.5, 1.5), 0, 1, epsabs=1e-14)
    assert float(prior.log_marginal_likelihood(s, t)) == pytest.approx(np.log(evidence), abs=1e-9)


def test_bayes_factor_between_priors_is_ratio_of_evidences():
    s, t = 60, 100
    log_bf = BetaBinomial(50, 50).log_marginal_likelihood(s, t) - BetaBinomial(1, 1).log_marginal_likelihood(s, t)
    ev_1, _ = integrate.quad(lambda p: stats.binom.pmf(s, t, p) * stats.beta.pdf(p, 50, 50), 0, 1, epsabs=1e-15)
    ev_2 = 1.0 / (t + 1)  # uniform prior: every count equally likely
    assert float(log_bf) == pytest.approx(np.log(ev_1 / ev_2), abs=1e-8)


def test_vectorized_over_a_million_segments():
    rng = np.random.default_rng(0)
    trials = rng.integers(1, 1000, size=1_000_000).astype(float)
    successes = np.floor(trials * rng.uniform(size=trials.size))
    posterior = BetaBinomial(1, 1).update(successes=successes, trials=trials)
    low, high = posterior.interval(0.95)
    assert low.shape == (1_000_000,)
    idx = [0, 123_456, 999_999]
    ref = stats.beta(1 + successes[idx], 1 + trials[idx] - successes[idx]).interval(0.95)
    np.testing.assert_allclose(low[idx], ref[0], rtol=1e-10)
    np.testing.assert_allclose(high[idx], ref[1], rtol=1e-10)


def test_sample_shape_and_determinism():
    posterior = BetaBinomial([2.0, 3.0, 4.0], 5.0)
    first = posterior.sample(np.random.default_rng(3), 7)
    assert first.shape == (7, 3)
    np.testing.assert_array_equal(first, posterior.sample(3, 7))


def test_summary_and_arviz():
    posterior = BetaBinomial([2.0, 3.0], 5.0)
    table = posterior.summary(0.9, kind="hdi")
    assert list(table.index) == ["probability[0]", "probability[1]"]
    assert list(table.columns) == ["mean", "sd", "hdi_5%", "hdi_95%", "mode"]
    data = posterior.to_arviz(np.random.default_rng(0), num_draws=200, num_chains=2)
    assert data.posterior["probability"].shape == (2, 200, 2)


def test_parameters_are_immutable_and_inputs_are_not_touched():
    alpha = np.array([1.0, 2.0])
    posterior = BetaBinomial(alpha, 1.0)
    assert alpha.flags.writeable
    with pytest.raises(ValueError):
        posterior.alpha[0] = 5.0
    with pytest.raises(AttributeError):
        posterior.alpha = np.array([3.0, 3.0])


def test_newton_hdi_matches_the_bisection_across_shapes_and_holds_prob():
    """The fast vectorized HDI (Newton on both bounds) against the generic 64-step bisection, on shapes from
    nearly flat to a million pseudo-counts, skewed both ways, plus shapes within 1e-3 of 1 (the fallback)."""
    from bayeskit.conjugate._intervals import beta_highest_density, highest_density

    rng = np.random.default_rng(7)
    a = np.concatenate([np.exp(rng.uniform(np.log(1.001), np.log(1e7), 800)), 1 + rng.uniform(1e-7, 1e-3, 100)])
    b = np.concatenate([np.exp(rng.uniform(np.log(1.001), np.log(1e7), 800)), np.exp(rng.uniform(0, 10, 100))])
    a, b = np.r_[a, b], np.r_[b, a]  # both skews
    for prob in (0.5, 0.95, 0.999):
        fast = beta_highest_density(a, b, prob)
        slow = highest_density(stats.beta(a, b), prob)
        width = slow.high - slow.low
        assert np.max(np.abs(fast.low - slow.low) / width) < 1e-6
        assert np.max(np.abs(fast.high - slow.high) / width) < 1e-6
        mass = special.betainc(a, b, fast.high) - special.betainc(a, b, fast.low)
        assert np.max(np.abs(mass - prob)) < 1e-9
        assert np.all(fast.high - fast.low <= width * (1 + 1e-8))  # no wider than the bisection, to its mass error
