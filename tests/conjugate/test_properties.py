"""Hypothesis properties: sequential == batch, vectorized == loop, HDI never wider than ETI."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bayeskit.conjugate import (
    BetaBinomial,
    DirichletMultinomial,
    GammaPoisson,
    NormalInverseGamma,
    NormalKnownVariance,
)

positive = st.floats(0.05, 500.0)
counts = st.integers(0, 10_000)
reals = st.lists(st.floats(-1e3, 1e3), min_size=0, max_size=30)


@given(positive, positive, counts, counts, counts, counts)
def test_beta_sequential_equals_batch(a, b, s1, f1, s2, f2):
    prior = BetaBinomial(a, b)
    twice = prior.update(s1, s1 + f1).update(s2, s2 + f2)
    once = prior.update(s1 + s2, s1 + f1 + s2 + f2)
    assert np.allclose([twice.alpha, twice.beta], [once.alpha, once.beta], rtol=1e-14)


@given(positive, positive, counts, counts, st.floats(0.01, 100), st.floats(0.01, 100))
def test_gamma_sequential_equals_batch(shape, rate, k1, k2, e1, e2):
    prior = GammaPoisson(shape, rate)
    twice = prior.update(k1, e1).update(k2, e2)
    once = prior.update(k1 + k2, e1 + e2)
    assert np.allclose([twice.shape, twice.rate], [once.shape, once.rate], rtol=1e-13)


@given(st.floats(-10, 10), positive, positive, reals, reals)
def test_normal_known_variance_sequential_equals_batch(mean, variance, noise, x1, x2):
    prior = NormalKnownVariance(mean, variance, noise)
    twice = prior.update(x1).update(x2)
    once = prior.update(x1 + x2)
    assert np.allclose(twice.loc, once.loc, rtol=1e-9, atol=1e-9)
    assert np.allclose(twice.variance, once.variance, rtol=1e-12)


@given(st.floats(-10, 10), positive, positive, positive, reals, reals)
def test_nig_sequential_equals_batch(mean, kappa, alpha, beta, x1, x2):
    prior = NormalInverseGamma(mean, kappa, alpha, beta)
    twice = prior.update(x1).update(x2)
    once = prior.update(x1 + x2)
    for field in ("loc", "kappa", "alpha", "beta"):
        assert np.allclose(getattr(twice, field), getattr(once, field), rtol=1e-8, atol=1e-9)
    both = np.array(x1 + x2)
    if both.size:
        evidence_chain = prior.log_marginal_likelihood(x1) + prior.update(x1).log_marginal_likelihood(x2)
        assert np.allclose(evidence_chain, prior.log_marginal_likelihood(both), rtol=1e-9, atol=1e-8)


@pytest.mark.filterwarnings("ignore:the marginal of `probability` is bimodal")
@given(st.lists(st.tuples(positive, positive, counts, counts), min_size=1, max_size=8))
def test_beta_vectorized_equals_loop(rows):
    a, b, s, f = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    batch = BetaBinomial(a, b).update(s, s + f)
    low, high = batch.interval(0.9, kind="hdi")
    for i in range(len(rows)):
        single = BetaBinomial(a[i], b[i]).update(s[i], s[i] + f[i])
        single_low, single_high = single.interval(0.9, kind="hdi")
        assert np.isclose(low[i], single_low, rtol=1e-12, atol=1e-15, equal_nan=True)
        assert np.isclose(high[i], single_high, rtol=1e-12, atol=1e-15, equal_nan=True)
        assert np.isclose(batch.log_marginal_likelihood(s, s + f)[i], single.log_marginal_likelihood(s[i], s[i] + f[i]))


@given(st.lists(st.tuples(st.floats(0.5, 300), st.floats(1.01, 300), st.floats(0.01, 50)), min_size=1, max_size=6))
def test_hdi_never_wider_than_eti(rows):
    shape, beta, rate = (np.array(column) for column in zip(*rows, strict=True))
    for posterior in (BetaBinomial(shape, beta), GammaPoisson(shape, rate)):
        hdi, eti = posterior.interval(0.9, kind="hdi"), posterior.interval(0.9)
        assert np.all(hdi.high - hdi.low <= eti.high - eti.low + 1e-9)


@given(st.lists(positive, min_size=2, max_size=5), st.data())
def test_dirichlet_sequential_equals_batch(alpha, data):
    k = len(alpha)
    c1 = np.array(data.draw(st.lists(counts, min_size=k, max_size=k)), dtype=float)
    c2 = np.array(data.draw(st.lists(counts, min_size=k, max_size=k)), dtype=float)
    prior = DirichletMultinomial(alpha)
    assert np.allclose(prior.update(c1).update(c2).alpha, prior.update(c1 + c2).alpha)
    chain = prior.log_marginal_likelihood(c1) + prior.update(c1).log_marginal_likelihood(c2)
    joint = prior.log_marginal_likelihood(c1 + c2)
    # The sequence likelihood differs from the pooled counts by multinomial coefficients only.
    from scipy.special import gammaln

    def log_coefficient(c):
        return gammaln(c.sum() + 1) - gammaln(c + 1).sum()

    assert np.isclose(
        chain - log_coefficient(c1) - log_coefficient(c2),
        joint - log_coefficient(c1 + c2),
        rtol=1e-9,
        atol=1e-7,
    )


def test_log_evidence_chains_exactly_over_many_updates():
    # 40 updates in turn (past the point where pending evidence terms are summed) == one batch update.
    from bayeskit.conjugate import BetaBinomial, NormalInverseGamma

    rng = np.random.default_rng(7)
    flips = rng.integers(0, 2, size=40)
    posterior = BetaBinomial(2.0, 3.0)
    for flip in flips:
        posterior = posterior.update(flip, 1)
    heads = int(flips.sum())
    batch = BetaBinomial(2.0, 3.0).update(heads, 40).log_evidence()
    # The flips' own sequence has no binomial coefficient; the batch count has log C(40, heads).
    log_choose = math.lgamma(41) - math.lgamma(heads + 1) - math.lgamma(41 - heads)
    assert posterior.log_evidence() == pytest.approx(batch - log_choose, rel=1e-12)
    x = rng.normal(3.0, 2.0, size=40)
    sequential = NormalInverseGamma(0.0, 1.0, 2.0, 2.0)
    for value in x:
        sequential = sequential.update([value])
    whole = NormalInverseGamma(0.0, 1.0, 2.0, 2.0).log_marginal_likelihood(x)
    assert sequential.log_evidence() == pytest.approx(whole, rel=1e-10)
    assert BetaBinomial(1, 1).log_evidence() == 0.0


def test_updated_posteriors_pickle_with_their_evidence():
    import pickle

    from bayeskit.conjugate import (
        BayesianLinearRegression,
        BetaBinomial,
        DirichletMultinomial,
        GammaPoisson,
        NormalInverseGamma,
        NormalKnownVariance,
    )

    rng = np.random.default_rng(3)
    x = rng.normal(size=(20, 2))
    posteriors = [
        BetaBinomial(2, 2).update(3, 10).update(4, 9),
        GammaPoisson(1, 1).update(5, 2.0),
        NormalKnownVariance(0, 1, 1.0).update([0.3, 0.1]),
        NormalInverseGamma(0, 1, 2, 2).update([1.0, 2.0]),
        DirichletMultinomial([1.0, 1.0]).update([3, 4]),
        BayesianLinearRegression(np.zeros(2), 1.0).update(x, x @ np.ones(2)),
    ]
    for posterior in posteriors:
        again = pickle.loads(pickle.dumps(posterior))
        np.testing.assert_array_equal(again.log_evidence(), posterior.log_evidence())
        assert type(again) is type(posterior) and repr(again) == repr(posterior)
