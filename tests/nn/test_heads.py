"""Mixture-density and categorical heads, weighted mixtures, adversarial training, OOD flags, ArviZ export."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayeskit.datasets import load_dataset
from bayeskit.evaluate import uncertainty_auroc
from bayeskit.nn import CategoricalPredictive, DeepEnsemble, GaussianMixturePredictive, MCDropout
from bayeskit.nn._core import Network
from bayeskit.nn._train import make_loss

rng = np.random.default_rng(11)


def test_weighted_grouped_mixture_against_direct_formulas():
    means = np.array([[0.0, 1.0], [2.0, 1.0], [5.0, -1.0]])
    variances = np.array([[1.0, 0.5], [4.0, 0.5], [0.5, 2.0]])
    weights = np.array([[0.2, 0.5], [0.3, 0.25], [0.5, 0.25]])
    groups = np.array([0, 0, 1])  # two components from one member (a mixture head), one from another
    predictive = GaussianMixturePredictive(means, variances, weights=weights, groups=groups)
    y = np.array([0.7, 1.3])
    density = sum(weights[k] * stats.norm.pdf(y, means[k], np.sqrt(variances[k])) for k in range(3))
    np.testing.assert_allclose(predictive.log_prob(y), np.log(density), rtol=1e-12)
    np.testing.assert_allclose(predictive.mean(), (weights * means).sum(axis=0))
    second = (weights * (variances + means**2)).sum(axis=0)
    parts = predictive.decompose()
    np.testing.assert_allclose(parts.total, second - predictive.mean() ** 2)  # law of total variance
    # Epistemic: the spread of the two groups' means only.
    w0 = weights[:2].sum(axis=0)
    m0 = (weights[:2] * means[:2]).sum(axis=0) / w0
    expected_epistemic = w0 * (m0 - predictive.mean()) ** 2 + weights[2] * (means[2] - predictive.mean()) ** 2
    np.testing.assert_allclose(parts.epistemic, expected_epistemic)
    np.testing.assert_allclose(parts.aleatoric + parts.epistemic, parts.total)
    draws = predictive.sample(np.random.default_rng(0), 200_000)
    np.testing.assert_allclose(draws.mean(axis=0), predictive.mean(), atol=0.03)
    np.testing.assert_allclose(draws.var(axis=0), parts.total, rtol=0.03)
    with pytest.raises(ValueError, match="`weights` must be"):
        GaussianMixturePredictive(means, variances, weights=np.ones_like(means))


def test_mixture_density_head_captures_a_bimodal_target():
    x = rng.uniform(0.5, 2, size=(600, 1))
    y = np.where(rng.uniform(size=600) < 0.5, 1.0, -1.0) * x[:, 0] + 0.1 * rng.normal(size=600)
    mixture = DeepEnsemble(members=2, head="mixture", components=2, epochs=300).fit(x, y)
    single = DeepEnsemble(members=2, head="heteroscedastic", epochs=300).fit(x, y)
    x_test = rng.uniform(0.5, 2, size=(1000, 1))
    y_test = np.where(rng.uniform(size=1000) < 0.5, 1.0, -1.0) * x_test[:, 0] + 0.1 * rng.normal(size=1000)
    mixture_nll = -np.mean(mixture.predictive(x_test).log_prob(y_test))
    single_nll = -np.mean(single.predictive(x_test).log_prob(y_test))
    assert mixture_nll < single_nll - 0.5  # two modes beat one wide Gaussian by a clear margin
    predictive = mixture.predictive(np.array([[1.5]]))
    assert predictive.means.shape == (4, 1) and np.all(np.isin(predictive.groups, [0, 1]))
    parts = predictive.decompose()
    assert parts.aleatoric[0] > 10 * parts.epistemic[0]  # the two modes are noise, not ignorance
    assert predictive.cdf(np.array([0.0]))[0] == pytest.approx(0.5, abs=0.1)


def classification_data(n):
    x = rng.normal(size=(n, 2))
    label = np.where(x[:, 0] + 0.5 * x[:, 1] + 0.3 * rng.normal(size=n) > 0, "spam", "ham")
    return pd.DataFrame(x, columns=["a", "b"]), label


@pytest.fixture(scope="module")
def classifier():
    x, y = classification_data(400)
    return DeepEnsemble(members=3, head="categorical", epochs=150).fit(x, y)


def test_categorical_head_classifies_and_reports_calibration(classifier):
    x, y = classification_data(1000)
    assert list(classifier.classes_) == ["ham", "spam"]
    probs = classifier.predict_proba(x)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    metrics = classifier.predictive(x).evaluate(y)
    assert metrics["accuracy"] > 0.85 and metrics["ece"] < 0.06
    assert set(metrics) >= {"accuracy", "nll", "brier", "ece", "mce", "mean_epistemic_mi"}
    assert set(classifier.predict(x[:5])) <= {"ham", "spam"}
    # The members disagree near the decision boundary, not deep inside a class.
    margin = np.abs(x["a"] + 0.5 * x["b"]).to_numpy()
    mutual_information = classifier.predictive(x).decompose().epistemic
    assert (
        mutual_information[margin < np.quantile(margin, 0.1)].mean()
        > 10 * mutual_information[margin > np.quantile(margin, 0.9)].mean()
    )
    parts = classifier.predictive(x).decompose()
    np.testing.assert_allclose(parts.total, parts.aleatoric + parts.epistemic, atol=1e-12)


def test_categorical_predictive_against_direct_formulas():
    probs = np.array([[[0.9, 0.1], [0.5, 0.5]], [[0.7, 0.3], [0.1, 0.9]]])
    predictive = CategoricalPredictive(probs, np.array(["a", "b"]))
    np.testing.assert_allclose(predictive.mean(), [[0.8, 0.2], [0.3, 0.7]])
    assert list(predictive.predict()) == ["a", "b"]
    metrics = predictive.evaluate(["a", "a"])
    assert metrics["accuracy"] == 0.5
    assert metrics["nll"] == pytest.approx(-(np.log(0.8) + np.log(0.3)) / 2)
    with pytest.raises(ValueError, match="`y` has the label 'c', which the model never saw"):
        predictive.evaluate(["a", "c"])
    draws = predictive.sample(np.random.default_rng(0), 100_000)
    np.testing.assert_allclose((draws == 1).mean(axis=0), [0.2, 0.7], atol=0.01)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.array(["a"] * 50 + [None] + ["b"] * 49, dtype=object), "`y` has a missing label at row 50"),
        (np.array(["a"] * 100), r"`y` has a single class \('a'\)"),
        (np.array(["a", "b"] * 20), r"one class label per row of X \(100\); got 40"),
    ],
)
def test_classification_bad_labels(y, message):
    with pytest.raises(ValueError, match=message):
        DeepEnsemble(head="categorical", epochs=2).fit(rng.normal(size=(100, 2)), y)


def test_classifier_refuses_regression_only_calls(classifier):
    x, _ = classification_data(5)
    with pytest.raises(ValueError, match="predict_interval applies to regression"):
        classifier.predict_interval(x)
    with pytest.raises(ValueError, match="`return_std` applies to regression"):
        classifier.predict(x, return_std=True)
    with pytest.raises(ValueError, match="predict_proba needs head='categorical'"):
        DeepEnsemble().predict_proba(x)


def test_fgsm_direction_raises_the_loss_and_adversarial_training_runs():
    network = Network(2, (16,), 0.0, "heteroscedastic", jax.random.PRNGKey(0))
    import equinox as eqx

    params, static = eqx.partition(network, eqx.is_array)
    x, y, key = (
        jnp.asarray(rng.normal(size=(64, 2)), jnp.float32),
        jnp.asarray(rng.normal(size=64)),
        jax.random.PRNGKey(1),
    )
    plain = make_loss()
    nll_at = lambda inputs: plain(params, static, inputs, y, key)  # noqa: E731
    direction = jnp.sign(jax.grad(nll_at)(x))
    assert float(nll_at(x + 0.05 * direction)) > float(nll_at(x))
    both = make_loss(adversarial=0.05)(params, static, x, y, key)
    assert float(both) == pytest.approx(float(nll_at(x)) + float(nll_at(x + 0.05 * direction)), rel=1e-5)
    x_train = rng.uniform(-2, 2, size=(200, 1))
    model = DeepEnsemble(members=2, adversarial=0.02, epochs=50).fit(x_train, np.sin(x_train[:, 0]))
    assert np.isfinite(model.training_loss_).all()
    with pytest.raises(ValueError, match="`adversarial` must be a step >= 0"):
        DeepEnsemble(adversarial=-1.0).fit(x_train, np.sin(x_train[:, 0]))


def test_epistemic_uncertainty_flags_a_shifted_split():
    """OOD on the bundled table: train on the lower 70% of x1, flag the top 20% against held-out in-range rows."""
    frame = load_dataset("uq_regression")
    features = [c for c in frame.columns if c != "y"]
    x1 = frame["x1"].to_numpy()
    low, high = np.quantile(x1, [0.7, 0.8])
    inside = np.flatnonzero(x1 <= low)
    train, held_out = inside[: int(0.8 * inside.size)], inside[int(0.8 * inside.size) :]
    shifted = np.flatnonzero(x1 > high)
    model = DeepEnsemble(members=5, epochs=200).fit(frame.iloc[train][features], frame["y"].iloc[train])
    rows = np.concatenate([held_out, shifted])
    score = model.predictive(frame.iloc[rows][features]).decompose().epistemic
    auroc = uncertainty_auroc(score, np.r_[np.zeros(held_out.size), np.ones(shifted.size)])
    assert auroc > 0.85


def test_predictives_export_to_arviz():
    import xarray as xr

    means, variances = rng.normal(size=(5, 4)), np.ones((5, 4))
    data = GaussianMixturePredictive(means, variances).to_arviz(0, y=np.zeros(4), num_draws=200)
    assert isinstance(data, xr.DataTree)
    assert data.posterior_predictive["y"].shape == (1, 200, 4)
    assert data.observed_data["y"].shape == (4,)
    with pytest.raises(TypeError, match="needs `key`"):
        GaussianMixturePredictive(means, variances).to_arviz(y=np.zeros(4))
    probs = np.full((3, 4, 2), 0.5)
    labels = CategoricalPredictive(probs, np.array([0, 1])).to_arviz(1, y=[0, 1, 1, 0], num_draws=50)
    assert labels.posterior_predictive["y"].shape == (1, 50, 4)


def test_mc_dropout_supports_the_mixture_head():
    x = rng.uniform(-2, 2, size=(200, 1))
    model = MCDropout(rate=0.1, passes=10, head="mixture", components=2, epochs=20).fit(x, np.sin(x[:, 0]))
    predictive = model.predictive(x[:3])
    assert predictive.means.shape == (20, 3)
    np.testing.assert_allclose(predictive.weights.sum(axis=0), 1.0)


def test_mixture_hdi_is_the_shortest_interval_and_summaries():
    # A skewed two-component mixture: the HDI is shorter than the equal-tailed interval and holds the same mass.
    predictive = GaussianMixturePredictive(np.array([[0.0], [3.0]]), np.array([[1.0], [9.0]]), weights=None)
    eti, hdi = predictive.interval(0.9), predictive.interval(0.9, kind="hdi")
    assert predictive.cdf(hdi[1]) - predictive.cdf(hdi[0]) == pytest.approx(0.9, abs=1e-6)
    assert (hdi[1] - hdi[0])[0] < (eti[1] - eti[0])[0]
    # Exhaustive check of "shortest": no lower tail mass on a fine grid does better.
    widths = [predictive.quantile(a + 0.9)[0] - predictive.quantile(a)[0] for a in np.linspace(1e-6, 0.1 - 1e-6, 201)]
    assert (hdi[1] - hdi[0])[0] <= min(widths) + 1e-4
    symmetric = GaussianMixturePredictive(np.zeros((1, 1)), np.ones((1, 1)))
    np.testing.assert_allclose(np.ravel(symmetric.interval(0.95, kind="hdi")), [-1.959964, 1.959964], atol=1e-4)
    table = predictive.summary()
    assert list(table.columns) == ["mean", "sd", "eti_2.5%", "eti_97.5%", "aleatoric_sd", "epistemic_sd"]
    with pytest.raises(ValueError, match="unknown interval kind 'mode'"):
        predictive.interval(0.9, kind="mode")
    labels = CategoricalPredictive(np.full((2, 3, 2), 0.5), np.array(["no", "yes"])).summary()
    assert list(labels.columns[:4]) == ["mean", "sd", "eti_2.5%", "eti_97.5%"]
    assert list(labels.columns[4:]) == ["predicted", "total_entropy", "aleatoric", "epistemic"]
    assert labels.index[1] == (0, "yes") and len(labels) == 6
