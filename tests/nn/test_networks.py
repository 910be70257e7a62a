"""Deep ensembles and MC dropout: decomposition identities, zero-epistemic limits, OOD, coverage, bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayeskit.nn import BayesByBackprop, DeepEnsemble, GaussianMixturePredictive, MCDropout
from bayeskit.nn._core import Network
from bayeskit.nn._train import make_epoch, predict_members

rng = np.random.default_rng(0)
X = rng.uniform(-3, 3, size=(300, 1))
NOISE = 0.1 + 0.2 * np.abs(X[:, 0])
Y = np.sin(X[:, 0]) + NOISE * rng.normal(size=300)
X_TEST = rng.uniform(-3, 3, size=(2000, 1))
Y_TEST = np.sin(X_TEST[:, 0]) + (0.1 + 0.2 * np.abs(X_TEST[:, 0])) * rng.normal(size=2000)
FAR = np.array([[-8.0], [8.0]])
NEAR = np.array([[-0.5], [0.5]])


@pytest.fixture(scope="module")
def ensemble():
    return DeepEnsemble(members=5, epochs=300).fit(X, Y)


@pytest.fixture(scope="module")
def dropout():
    return MCDropout(rate=0.1, passes=200, epochs=300).fit(X, Y)


def test_mixture_predictive_against_scipy():
    means = np.array([[0.0, 1.0], [2.0, 1.0]])
    variances = np.array([[1.0, 0.5], [4.0, 0.5]])
    predictive = GaussianMixturePredictive(means, variances)
    y = np.array([0.7, 1.3])
    expected = np.log(
        0.5 * stats.norm.pdf(y, means[0], np.sqrt(variances[0]))
        + 0.5 * stats.norm.pdf(y, means[1], np.sqrt(variances[1]))
    )
    np.testing.assert_allclose(predictive.log_prob(y), expected, rtol=1e-12)
    low, high = predictive.interval(0.9)
    np.testing.assert_allclose(predictive.cdf(low), 0.05, atol=1e-9)
    np.testing.assert_allclose(predictive.cdf(high), 0.95, atol=1e-9)
    assert high[1] - low[1] == pytest.approx(2 * stats.norm.ppf(0.95) * np.sqrt(0.5), rel=1e-8)  # identical parts
    parts = predictive.decompose()
    np.testing.assert_allclose(parts.total, parts.aleatoric + parts.epistemic)
    np.testing.assert_allclose(predictive.var(), [1.0 + 2.5, 0.5])  # epistemic var of (0, 2) is 1; aleatoric 2.5
    assert parts.epistemic[1] == 0.0
    draws = predictive.sample(np.random.default_rng(1), 200_000)
    np.testing.assert_allclose(draws.mean(axis=0), predictive.mean(), atol=0.02)
    np.testing.assert_allclose(draws.var(axis=0), predictive.var(), rtol=0.02)


def test_ensemble_is_calibrated_in_distribution_and_uncertain_far_away(ensemble):
    predictive = ensemble.predictive(X_TEST)
    low, high = predictive.interval(0.95)
    coverage = np.mean((Y_TEST >= low) & (Y_TEST <= high))
    assert 0.92 <= coverage <= 0.98
    assert np.sqrt(np.mean((predictive.mean() - np.sin(X_TEST[:, 0])) ** 2)) < 0.15
    near, far = ensemble.predictive(NEAR).decompose(), ensemble.predictive(FAR).decompose()
    assert far.epistemic.min() > 10 * near.epistemic.max()  # epistemic uncertainty rises off the data
    # The heteroscedastic heads learn the noise: larger aleatoric variance where the noise is larger.
    edges = ensemble.predictive(np.array([[0.0], [2.8]])).decompose().aleatoric
    assert edges[1] > 3 * edges[0]


def test_mc_dropout_uncertainty_rises_off_the_data(dropout):
    near, far = dropout.predictive(NEAR).decompose(), dropout.predictive(FAR).decompose()
    assert far.epistemic.min() > 5 * near.epistemic.max()
    low, high = dropout.predict_interval(X_TEST)
    assert 0.9 <= np.mean((Y_TEST >= low) & (Y_TEST <= high)) <= 0.99


def test_zero_epistemic_limits(ensemble):
    no_dropout = MCDropout(rate=0.0, passes=20, epochs=5, validation_fraction=0.0).fit(X, Y)
    parts = no_dropout.predictive(FAR).decompose()
    assert np.all(parts.epistemic <= 1e-12 * parts.aleatoric)  # identical passes: zero up to float summation
    single = jax.tree.map(lambda leaf: leaf[:1], ensemble.params_)
    copies = jax.tree.map(lambda leaf: jnp.concatenate([leaf] * 4), single)  # four identical members
    means, variances, _ = predict_members(copies, ensemble._static, jnp.asarray(FAR, jnp.float32))
    parts = GaussianMixturePredictive(
        np.asarray(means[..., 0], float), np.asarray(variances[..., 0], float)
    ).decompose()
    assert np.all(parts.epistemic <= 1e-12 * parts.aleatoric)


def test_jit_equals_eager():
    network = Network(3, (8,), 0.2, "heteroscedastic", jax.random.PRNGKey(0))
    x, key = jnp.ones(3), jax.random.PRNGKey(1)
    eager = network(x, key)
    jitted = eqx.filter_jit(lambda net, v, k: net(v, k))(network, x, key)
    np.testing.assert_allclose(np.asarray(eager), np.asarray(jitted), rtol=1e-6)


def test_predictions_are_in_the_targets_units():
    scaled = DeepEnsemble(members=2, epochs=40, validation_fraction=0.0).fit(X, 1000.0 * Y + 5000.0)
    mean, std = scaled.predict(NEAR, return_std=True)
    np.testing.assert_allclose(mean, 1000.0 * np.sin(NEAR[:, 0]) + 5000.0, atol=250.0)
    assert np.all(std > 50.0)


@pytest.mark.parametrize(
    ("make", "x", "y", "error", "message"),
    [
        (
            DeepEnsemble,
            X,
            np.where(np.arange(300) == 7, np.nan, Y),
            ValueError,
            "`y` has a missing or infinite value at row 7",
        ),
        (DeepEnsemble, X, np.ones(300), ValueError, "`y` is constant in the training rows"),
        (
            DeepEnsemble,
            pd.DataFrame({"x": X[:, 0].astype(str)}).assign(x=lambda f: f["x"].where(f.index != 3, "n/a")),
            Y,
            ValueError,
            "column 'x' must be numeric; row 3 has 'n/a'",
        ),
        (lambda: DeepEnsemble(hidden=(0,)), X, Y, ValueError, "`hidden` must be a tuple of positive layer widths"),
        (lambda: DeepEnsemble(members=0), X, Y, ValueError, "`members` must be a positive int"),
        (lambda: MCDropout(rate=1.0), X, Y, ValueError, r"`rate` must be in \[0, 1\)"),
        (lambda: DeepEnsemble(head="cauchy"), X, Y, ValueError, "unknown head 'cauchy'"),
    ],
)
def test_bad_input(make, x, y, error, message):
    with pytest.raises(error, match=message):
        make().fit(x, y)


def test_constant_feature_warns_and_unfitted_errors():
    with pytest.warns(UserWarning, match=r"feature column\(s\) \['c'\] are constant"):
        DeepEnsemble(members=1, epochs=2, validation_fraction=0.0).fit(pd.DataFrame({"x": X[:, 0], "c": 1.0}), Y)
    with pytest.raises(ValueError, match="not fitted yet"):
        DeepEnsemble().predict(X)


@pytest.mark.parametrize("make", [DeepEnsemble, BayesByBackprop])
def test_training_compiles_once_per_setting(make):
    # Weakly typed leaves would turn strong after one update and compile the epoch a second time.
    model = make(hidden=(7,), epochs=3, validation_fraction=0.2, learning_rate=0.02).fit(X, Y)
    epoch = make_epoch(model._static, ("adamw", 0.02, float(model.weight_decay)), 32, 240, model._loss(240))
    assert epoch._cache_size() == 1


def test_learning_rates_share_one_compiled_epoch_and_still_matter():
    slow = DeepEnsemble(members=1, hidden=(5,), epochs=3, validation_fraction=0.0, learning_rate=1e-4).fit(X, Y)
    fast = DeepEnsemble(members=1, hidden=(5,), epochs=3, validation_fraction=0.0, learning_rate=5e-2).fit(X, Y)
    epoch = make_epoch(slow._static, ("adamw", 1e-4, 1e-4), 32, 300, (0.0, 0.0))
    assert epoch is make_epoch(fast._static, ("adamw", 5e-2, 1e-4), 32, 300, (0.0, 0.0))
    assert epoch._cache_size() == 1
    assert fast.training_loss_[-1, 0] < slow.training_loss_[-1, 0]  # the rate in the optimizer state is used
