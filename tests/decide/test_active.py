"""Active learning: acquisition scores are the stated formulas, and uncertainty picking beats random on bundled data."""

from __future__ import annotations

import numpy as np
import pytest

from bayeskit.datasets import load_dataset
from bayeskit.decide.active import acquisition_scores, compare_strategies
from bayeskit.gp import GPRegressor
from bayeskit.predictive import CategoricalPredictive, GaussianMixturePredictive


def test_gaussian_scores_are_epistemic_variance_and_mutual_information():
    latent = np.array([0.2, 1.0, 0.0])
    predictive = GaussianMixturePredictive.gaussian(np.zeros(3), latent + np.array([0.2, 0.1, 0.5]), latent)
    np.testing.assert_allclose(acquisition_scores(predictive, "variance"), [0.2, 1.0, 0.0])
    # I(y; f) = H[y] - H[y | f] = log(total sd) - log(noise sd)
    expected = np.log(np.sqrt(predictive.var())) - np.log(np.sqrt(predictive.decompose().aleatoric))
    np.testing.assert_allclose(acquisition_scores(predictive, "bald"), expected, rtol=1e-12)


def test_categorical_bald_is_the_members_disagreement():
    # point 0: two members, uncertain but in agreement; point 1: confident members that disagree
    probs = np.array([[[0.5, 0.5], [0.99, 0.01]], [[0.5, 0.5], [0.01, 0.99]]])  # (members, points, classes)
    predictive = CategoricalPredictive(probs, classes=np.array([0, 1]))
    bald = acquisition_scores(predictive, "bald")
    assert bald[0] < 1e-12 < bald[1]
    variance = acquisition_scores(predictive, "variance")
    np.testing.assert_allclose(variance, [0.5, 0.5])  # both average to (0.5, 0.5): 2 x 0.5 x 0.5


def test_random_needs_a_generator_and_is_reproducible():
    predictive = GaussianMixturePredictive.gaussian(np.zeros(4), np.full(4, 2.0), np.ones(4))
    with pytest.raises(ValueError, match="strategy 'random' needs `rng`"):
        acquisition_scores(predictive, "random")
    np.testing.assert_array_equal(
        acquisition_scores(predictive, "random", 3), acquisition_scores(predictive, "random", 3)
    )
    with pytest.raises(ValueError, match="unknown strategy 'entropy'"):
        acquisition_scores(predictive, "entropy")


@pytest.mark.statistical
def test_variance_picking_beats_random_picking_on_the_bundled_table():
    frame = load_dataset("uq_regression")
    x, y = frame[["x1", "x2"]].to_numpy(), frame["y"].to_numpy()
    order = np.random.default_rng(0).permutation(len(x))
    pool, test = order[:400], order[400:]
    result = compare_strategies(
        lambda: GPRegressor(restarts=0, pad_to=96),
        x[pool],
        y[pool],
        x[test],
        y[test],
        strategies=("variance", "random"),
        initial=20,
        batch_size=10,
        rounds=6,
        num_seeds=6,
    )
    area = {s: result.curves[s]["rmse"].mean(axis=1) for s in result.curves}  # per seed, over the curve
    difference = area["random"] - area["variance"]
    assert difference.mean() > 2 * difference.std(ddof=1) / np.sqrt(len(difference))
    final = {s: result.curves[s]["rmse"][:, -1] for s in result.curves}
    assert final["variance"].mean() < final["random"].mean()
    # Same initial labels for both strategies in a seed, then different picks.
    np.testing.assert_array_equal(result.curves["variance"]["rmse"][:, 0], result.curves["random"]["rmse"][:, 0])
    assert not np.array_equal(result.picked["variance"][0], result.picked["random"][0])
    table = result.summary()
    assert table.loc["variance", "final rmse"] == pytest.approx(final["variance"].mean())
    axis = result.plot("rmse")
    assert len(axis.lines) == 2 and axis.get_ylabel() == "held-out rmse"


@pytest.mark.parametrize("method", ["ensemble", "mc-dropout"])
def test_network_posteriors_drive_the_loop_too(method):
    from bayeskit.nn import DeepEnsemble, MCDropout

    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, (80, 1))
    y = np.sin(2 * x[:, 0]) + 0.1 * rng.normal(size=80)

    def make_model():
        if method == "ensemble":
            return DeepEnsemble(members=3, hidden=(16,), epochs=30, patience=30, key=0)
        return MCDropout(hidden=(16,), epochs=30, patience=30, key=0)

    result = compare_strategies(
        make_model,
        x[:60],
        y[:60],
        x[60:],
        y[60:],
        strategies=("bald",),
        initial=8,
        batch_size=4,
        rounds=1,
        num_seeds=1,
    )
    picked = result.picked["bald"][0]
    assert result.curves["bald"]["rmse"].shape == (1, 2) and len(set(picked.tolist())) == 12
    assert np.all(np.isfinite(result.curves["bald"]["nll"]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"make_model": GPRegressor()}, "`make_model` must be a function"),
        ({"x_pool": np.ones((30, 2))}, "`x_pool` must be \\(n, n_features\\) and `y_pool` \\(n,\\) with the same n"),
        ({"x_test": np.ones((10, 2))}, "`x_pool` has 1 features but `x_test` has 2"),
        ({"rounds": 100}, "the pool has 40 points but initial \\+ batch_size \\* rounds"),
        ({"strategies": ("uncertainty",)}, "unknown strategy 'uncertainty'"),
        ({"initial": 0}, "`initial` must be a whole number >= 1"),
        ({"x_pool": np.full((40, 1), np.nan)}, "`x_pool` has NaN or inf values"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    settings = {
        "make_model": GPRegressor,
        "x_pool": np.linspace(0, 1, 40)[:, None],
        "y_pool": np.zeros(40),
        "x_test": np.ones((10, 1)),
        "y_test": np.zeros(10),
        "initial": 5,
        "rounds": 2,
    }
    with pytest.raises((ValueError, TypeError), match=message):
        compare_strategies(**{**settings, **kwargs})
