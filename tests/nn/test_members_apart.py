"""DeepEnsemble members trained apart (one task each, in worker processes) give the same ensemble as members trained
apart in this process, and, with every member training the same epochs, the vectorized ensemble up to rounding."""

import numpy as np
import pytest

from bayeskit.nn import DeepEnsemble
from bayeskit.parallel import ProcessExecutor

rng = np.random.default_rng(0)
X = rng.uniform(-2, 2, size=(120, 1))
Y = np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=120)
GRID = np.linspace(-3, 3, 7)[:, None]
SETTINGS = {"members": 3, "hidden": (16,), "epochs": 40, "patience": 5, "key": 3}


def test_members_in_worker_processes_equal_members_apart_in_this_process():
    serial = DeepEnsemble(**SETTINGS, executor="serial").fit(X, Y)
    pool = ProcessExecutor(2)  # an executor object the caller keeps (and shuts down)
    apart = DeepEnsemble(**SETTINGS, executor=pool).fit(X, Y)
    pool.shutdown()
    np.testing.assert_array_equal(serial.predict(GRID, return_std=True), apart.predict(GRID, return_std=True))
    np.testing.assert_array_equal(serial.training_loss_, apart.training_loss_)
    np.testing.assert_array_equal(serial.validation_loss_, apart.validation_loss_)
    assert serial.training_loss_.shape == (serial.epochs_run_, 3)


def test_members_apart_equal_the_vectorized_ensemble_when_all_train_the_same_epochs():
    settings = {**SETTINGS, "validation_fraction": 0.0, "epochs": 15}
    together = DeepEnsemble(**settings).fit(X, Y)
    apart = DeepEnsemble(**settings, executor="serial").fit(X, Y)
    np.testing.assert_allclose(apart.training_loss_, together.training_loss_, rtol=1e-4, atol=1e-5)
    for one, other in zip(together.predict(GRID, return_std=True), apart.predict(GRID, return_std=True), strict=True):
        np.testing.assert_allclose(one, other, rtol=1e-4, atol=1e-5)


def test_members_apart_stop_on_their_own_and_their_losses_are_padded_with_nan():
    patience = 2
    model = DeepEnsemble(**{**SETTINGS, "patience": patience, "epochs": 60}, executor="serial").fit(X, Y)
    stopped_at = (~np.isnan(model.validation_loss_)).sum(axis=0)
    assert stopped_at.max() == model.epochs_run_ < 60
    for m, epochs in enumerate(stopped_at):
        losses = model.validation_loss_[:epochs, m]
        assert np.isnan(model.validation_loss_[epochs:, m]).all() and np.isnan(model.training_loss_[epochs:, m]).all()
        assert (losses[-patience:] > losses[:-patience].min()).all()  # no improvement in its last `patience` epochs


def test_a_bad_workers_count_names_the_argument():
    with pytest.raises(ValueError, match="`workers` must be an int >= 1; got 0"):
        DeepEnsemble(**SETTINGS, executor="process", workers=0).fit(X, Y)
