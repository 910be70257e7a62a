"""Continual learning: exact on a linear-Gaussian model (the conjugate engine is the oracle), and its bad input.

A linear model with a Gaussian likelihood of known noise makes the online Laplace exact
Bayesian linear regression of all tasks at once: the Gauss-Newton matrix is the Hessian
and each task's MAP is the posterior mean. EWC agrees over two tasks and departs from the
third on, where its anchors stay at each task's solution.
"""

import numpy as np
import pytest

from bayeskit.conjugate import BayesianLinearRegression
from bayeskit.info import kl_normal
from bayeskit.nn import Continual, continual_metrics

NOISE, PRIOR = 0.5, 2.0
rng = np.random.default_rng(7)


def _task(shift, weights, n=120):
    """Rows around ``shift`` whose targets follow ``weights``: the tasks disagree, so their solutions differ."""
    x = rng.normal(loc=shift, size=(n, 3))
    return x, 0.4 + x @ np.asarray(weights) + NOISE * rng.normal(size=n)


TASKS = [_task(0.0, [1.0, -2.0, 0.5]), _task(1.5, [2.0, -1.0, 0.0]), _task(-1.0, [0.0, -3.0, 1.0])]


def _linear(method, curvature="full", **options):
    settings = {"epochs": 3000, "batch_size": 1000, "learning_rate": 0.05, "hidden": (), "head": "gaussian"}
    settings["prior_precision"] = "fixed"  # the prior as given: the conjugate engine's
    return Continual(method, noise_scale=NOISE, prior_scale=PRIOR, curvature=curvature, **settings | options)


def _exact(tasks):
    """BLR with the noise known: precision ``sigma^2 / prior^2`` per unit noise; weights ordered (bias, w)."""
    x = np.concatenate([np.column_stack([np.ones(len(t[0])), t[0]]) for t in tasks])
    y = np.concatenate([t[1] for t in tasks])
    posterior = BayesianLinearRegression(np.zeros(4), NOISE**2 / PRIOR**2).update(x, y)
    return posterior.loc, NOISE**2 * np.linalg.inv(posterior.precision)


@pytest.fixture(scope="module")
def laplace_fit():
    model = _linear("online-laplace")
    for x, y in TASKS:
        model.fit_task(x, y)
    return model


def test_online_laplace_over_tasks_is_bayesian_linear_regression_of_all_at_once(laplace_fit):
    for stage in (1, 2):
        mean, covariance = _exact(TASKS[: stage + 1])
        posterior = laplace_fit.posteriors_[stage]
        np.testing.assert_allclose(posterior.mean(), mean, atol=2e-3)
        np.testing.assert_allclose(posterior.covariance(), covariance, rtol=2e-3, atol=1e-7)


def test_ewc_equals_it_over_two_tasks_and_keeps_its_anchors_from_the_third(laplace_fit):
    model = _linear("ewc")
    for x, y in TASKS:
        model.fit_task(x, y)
    mean, covariance = _exact(TASKS[:2])
    np.testing.assert_allclose(model.posteriors_[1].covariance(), covariance, rtol=2e-3, atol=1e-7)
    second = model.posteriors_[1]
    assert np.linalg.norm(second.mean() - mean) > 0.1  # the centre of two anchors, not the posterior mean
    # the weights trained on task 1 under task 0's penalty are the exact mean; task 2's are not
    np.testing.assert_allclose(laplace_fit.posteriors_[1].mean(), mean, atol=2e-3)
    third_mean, third_covariance = _exact(TASKS)
    np.testing.assert_allclose(model.posterior_.covariance(), third_covariance, rtol=2e-3, atol=1e-7)
    assert np.linalg.norm(model.weights_ - third_mean) > 0.1
    np.testing.assert_allclose(laplace_fit.weights_, third_mean, atol=2e-3)


def test_the_diagonal_fisher_is_exact_when_the_design_is_orthogonal():
    levels = np.array([[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)], dtype=float)
    x = np.tile(levels, (10, 1))
    tasks = [(x, 0.4 + x @ np.array([1.0, -2.0, 0.5]) + NOISE * rng.normal(size=len(x))) for _ in range(2)]
    model = _linear("online-laplace", curvature="diagonal")
    for task in tasks:
        model.fit_task(*task)
    mean, covariance = _exact(tasks)
    np.testing.assert_allclose(model.posterior_.mean(), mean, atol=2e-3)
    np.testing.assert_allclose(model.posterior_.var(), np.diag(covariance), rtol=2e-3)


def test_vcl_kl_terms_are_bayeskit_info_kl_to_the_previous_posterior():
    x0, y0 = TASKS[0]
    model = Continual("vcl", hidden=(4,), head="gaussian", epochs=30, batch_size=32, prior_scale=PRIOR, key=1)
    model.fit_task(x0, y0).fit_task(*TASKS[1])
    first, second = model.posteriors_
    expected = np.sum(kl_normal(second.mean(), second.var(), first.mean(), first.var()))
    np.testing.assert_allclose(model.kl_[1], expected, rtol=1e-3)
    prior = np.sum(kl_normal(first.mean(), first.var(), 0.0, PRIOR**2))
    np.testing.assert_allclose(model.kl_[0], prior, rtol=1e-3)
    assert model.loss_[1].shape == (30,)


def _permuted_digits():
    """Two tasks of the bundled digits, the second with its pixels permuted (the permuted-pixel protocol)."""
    from bayeskit.datasets import permuted_digits

    return permuted_digits(2, seed=0, train_fraction=1200.5 / 1797)


def test_the_previous_posterior_as_prior_forgets_less_than_fine_tuning():
    train, test = _permuted_digits()
    forgetting = {}
    for method in ("finetune", "online-laplace", "vcl"):
        model = Continual(method, hidden=(32,), epochs=10, learning_rate=3e-3, init_std=0.1, key=0)
        for task in train:
            model.fit_task(*task)
        matrix = model.accuracy_matrix(test)
        assert matrix.iloc[0, 0] > 0.85 and matrix.iloc[1, 1] > 0.8  # each task is learnt
        forgetting[method] = continual_metrics(matrix)["first_task_forgetting"]
    assert forgetting["finetune"] > 0.2
    assert forgetting["online-laplace"] < 0.6 * forgetting["finetune"]
    assert forgetting["vcl"] < 0.6 * forgetting["finetune"]


def test_per_task_heads_read_their_own_classes_and_leave_untrained_ones_blank():
    x = rng.normal(size=(80, 4))
    tasks = [(x, np.where(x[:, 0] > 0, "a", "b")), (x, np.where(x[:, 1] > 0, "c", "d"))]
    model = Continual("ewc", hidden=(8,), heads="per-task", epochs=5)
    for task in tasks:
        model.fit_task(*task)
    assert list(model.predictive(x[:3], task=1).classes) == ["c", "d"]
    matrix = model.accuracy_matrix(tasks)
    assert matrix.shape == (2, 2) and np.isnan(matrix.iloc[0, 1]) and not matrix.iloc[1].isna().any()
    with pytest.raises(ValueError, match="`task` is needed"):
        model.predictive(x[:3])
    with pytest.raises(ValueError, match=r"`task` must be in 0\.\.1"):
        model.predictive(x[:3], task=2)
    with pytest.raises(ValueError, match=r"`after` must be a trained task's index in 0\.\.1"):
        model.predictive(x[:3], task=0, after=5)
    with pytest.raises(ValueError, match="has 3 classes"):
        model.fit_task(x, np.arange(80) % 3)


def test_bad_input_is_named():
    x = rng.normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="unknown method 'si'; choose one of"):
        Continual("si").fit_task(x, y)
    with pytest.raises(ValueError, match="`strength` must be a finite number > 0"):
        Continual(strength=-1.0).fit_task(x, y)
    with pytest.raises(ValueError, match="`hidden` must be a tuple of positive ints"):
        Continual(hidden=(0,)).fit_task(x, y)
    with pytest.raises(ValueError, match="4096-weight limit: use curvature='diagonal'"):
        Continual(curvature="full", hidden=(100, 100)).fit_task(x, y)
    model = Continual(hidden=(4,), epochs=2)
    with pytest.raises(Exception, match="call fit_task"):
        model.predictive(x)
    model.fit_task(x, y)
    with pytest.raises(ValueError, match="task 1 has 2 features, but the first task had 3"):
        model.fit_task(x[:, :2], y)
    with pytest.raises(ValueError, match=r"classes \[2, 3\] the first task did not have"):
        model.fit_task(x, y + 2 * (x[:, 1] > 0))
    with pytest.raises(ValueError, match="single class"):
        model.fit_task(x, np.zeros(40, int))
    with pytest.raises(ValueError, match=r"`X` column 'x\d' has a missing \(NaN\) value"):
        model.fit_task(np.where(x > 2, np.nan, x), y)
    with pytest.raises(ValueError, match="`metric` must be one of"):
        model.accuracy_matrix([(x, y)], metric="auc")
    with pytest.raises(ValueError, match="`tasks` must be a list of"):
        model.accuracy_matrix((x, y))
    assert len(model.posteriors_) == 1  # nothing half-trained was kept


@pytest.mark.parametrize("heads", ["shared", "per-task"])
def test_the_diagonal_curvature_is_the_diagonal_of_the_full_gauss_newton_matrix(heads):
    import jax

    from bayeskit.nn import _continual_core as core

    config = core.Config((3, 5, 4), 3, "categorical", 1.0)
    params = core.init_params(config, jax.random.key(0), 2 if heads == "per-task" else 1)
    x = rng.normal(size=(70, 3))
    rows = rng.integers(0, 2, size=70) if heads == "per-task" else np.zeros(70, int)
    full = np.asarray(core.curvature(config, params, x, rows, full=True))
    diagonal = np.asarray(core.curvature(config, params, x, rows, full=False))
    np.testing.assert_allclose(diagonal, np.diag(full), rtol=1e-4, atol=1e-6)
    assert np.all(diagonal >= 0) and diagonal.max() > 0


def test_an_interrupted_task_leaves_the_model_as_after_the_last_one_and_settings_stay_put(monkeypatch):
    from bayeskit.nn import _continual_core as core

    x = rng.normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(int)
    model = Continual(hidden=(4,), epochs=2).fit_task(x, y)
    before = model.posterior_

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(core, "train", interrupted)
        with pytest.raises(KeyboardInterrupt):
            model.fit_task(-x, y)
    assert len(model.posteriors_) == 1 and model.posterior_ is before and len(model.classes_) == 1
    model.fit_task(-x, y)  # the same task again, now to the end
    assert len(model.posteriors_) == 2 and model.accuracy_matrix([(x, y), (-x, y)]).shape == (2, 2)
    model.set_params(method="vcl")
    with pytest.raises(ValueError, match="`method` is 'vcl' but was 'online-laplace' for the first task"):
        model.fit_task(x, y)


def test_the_evidence_prior_precision_maximizes_the_laplace_marginal_likelihood():
    from bayeskit.nn.continual import _evidence_prior_precision

    local = np.random.default_rng(3)
    curvature, weights = local.gamma(0.3, 50.0, size=500), 0.3 * local.normal(size=500)
    used = np.ones(500, bool)
    tau = _evidence_prior_precision(curvature + 1.0, 1.0, weights, used)
    grid = np.geomspace(1e-3, 1e4, 20_001)
    log_z = 0.5 * 500 * np.log(grid) - 0.5 * grid * np.sum(weights**2)
    log_z -= 0.5 * np.sum(np.log(grid[:, None] + curvature[None, :]), axis=1)
    assert tau == pytest.approx(grid[np.argmax(log_z)], rel=2e-3)
    full = _evidence_prior_precision(np.diag(curvature + 1.0), 1.0, weights, used)  # the full form, same numbers
    assert full == pytest.approx(tau, rel=1e-6)
    x = rng.normal(size=(40, 3))
    fixed = Continual(hidden=(4,), epochs=2, prior_precision="fixed").fit_task(x, (x[:, 0] > 0).astype(int))
    assert fixed.prior_precision_ == [1.0]


def test_the_last_layer_predictive_of_a_linear_model_is_the_exact_posterior_predictive(laplace_fit):
    mean, covariance = _exact(TASKS)
    weights, factor = laplace_fit._states[-1]["last_layer"][0]
    precision = np.asarray(factor, float) @ np.asarray(factor, float).T
    order = [3, 0, 1, 2]  # (w1, w2, w3, b) -> the conjugate engine's (b, w1, w2, w3)
    np.testing.assert_allclose(np.asarray(weights)[order], mean, atol=2e-3)
    np.testing.assert_allclose(np.linalg.inv(np.asarray(precision, float))[np.ix_(order, order)], covariance, rtol=2e-3)
    x_new = rng.normal(size=(5, 3))
    predictive = laplace_fit.predictive(x_new)
    design = np.column_stack([np.ones(5), x_new])
    latent = np.einsum("np,pq,nq->n", design, covariance, design)
    spread = np.sqrt(latent / laplace_fit.num_samples)
    assert np.all(np.abs(predictive.mean() - design @ mean) < 5 * spread + 1e-3)
    np.testing.assert_allclose(predictive.decompose().epistemic, latent, rtol=0.5)  # 100 draws: a loose check


def test_more_tasks_than_the_output_layers_allocated_grow_them_and_keep_the_posterior():
    x = rng.normal(size=(30, 3))
    tasks = [(x, (x[:, t % 3] > 0).astype(int)) for t in range(10)]  # 8 output layers at first, then 16
    model = Continual(
        "online-laplace", hidden=(4,), heads="per-task", epochs=1, curvature="full", prior_precision="fixed"
    )
    for task in tasks[:8]:
        model.fit_task(*task)
    before = model.posterior_
    for task in tasks[8:]:
        model.fit_task(*task)
    assert model._params["head_w"].shape[0] == 16
    assert model.posterior_.loc.size == 3 * 4 + 4 + 10 * (2 * 4 + 2) == len(model.posterior_.names)
    matrix = model.accuracy_matrix(tasks)
    assert int(matrix.isna().to_numpy().sum()) == 45 and not matrix.iloc[-1].isna().any()
    # the grown prior keeps what the first eight tasks left: the trunk's precision only grew
    trunk = [i for i, name in enumerate(before.names) if name.startswith("trunk")]
    now = [model.posterior_.names.index(before.names[i]) for i in trunk]
    assert np.all(np.diag(model.posterior_.precision)[now] >= np.diag(before.precision)[trunk] - 1e-3)


def test_the_bundled_task_sequences():
    from bayeskit.datasets import permuted_digits, split_digits

    train, test = permuted_digits(3, seed=1)
    assert len(train) == len(test) == 3 and train[0][0].shape == (1437, 64) and test[0][0].shape == (360, 64)
    assert train[0][0].max() <= 1.0 and np.array_equal(train[1][1], train[0][1])
    assert np.array_equal(np.sort(train[1][0], axis=1), np.sort(train[0][0], axis=1))  # the same pixels, moved
    assert not np.array_equal(train[1][0], train[0][0])
    train, test = split_digits(((0, 1), (2, 3)))
    assert [sorted(set(t[1])) for t in train] == [[0, 1], [2, 3]] == [sorted(set(t[1])) for t in test]
    with pytest.raises(ValueError, match="`num_tasks` must be a positive int"):
        permuted_digits(0)
    with pytest.raises(ValueError, match=r"`train_fraction` must be in \(0, 1\)"):
        split_digits(train_fraction=1.5)


def test_an_output_layer_without_data_keeps_the_prior_instead_of_an_evidence_of_nothing():
    x = rng.normal(size=(60, 2))
    tasks = [(x, x[:, 0] + 0.1 * rng.normal(size=60)), (x, x[:, 1] + 0.1 * rng.normal(size=60))]
    model = Continual("finetune", hidden=(4,), head="gaussian", heads="per-task", noise_scale=0.1, epochs=20)
    for task in tasks:
        model.fit_task(*task)
    _, factor = model._states[-1]["last_layer"][0]  # fine-tuning's posterior holds only the last task's data
    precision = np.asarray(factor) @ np.asarray(factor).T
    np.testing.assert_allclose(np.asarray(precision), np.eye(5), atol=1e-6)
    assert np.all(model.predictive(x[:3], task=0).decompose().epistemic < 100.0)


def test_a_dataframe_task_is_predicted_by_its_column_names():
    import pandas as pd

    x = pd.DataFrame(rng.normal(size=(50, 2)), columns=["a", "b"])
    y = (x["a"] > 0).astype(int)
    model = Continual(hidden=(4,), epochs=2).fit_task(x, y).fit_task(x.to_numpy(), y)
    np.testing.assert_allclose(model.predictive(x).mean(), model.predictive(x.to_numpy()).mean())
    with pytest.raises(ValueError, match=r"columns the model was fitted with, \['a', 'b'\]"):
        model.predictive(x.rename(columns={"a": "z"}))
