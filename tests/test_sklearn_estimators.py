"""bayeskit's estimators are scikit-learn estimators: pipelines, cross-validation, grid search, check_estimator.

``check_estimator`` runs in full on the exact ``BayesianLinearRegression`` (fast: closed form). The
other estimators (GP, networks, NUTS-backed models) compile a JAX program per data shape, so the
full battery (about 50 fits of new shapes each) would take minutes apiece; for them the test checks
the contract that the battery exercises most: ``clone``, ``get_params``/``set_params`` round trips,
pipelines, ``cross_val_score`` and ``GridSearchCV``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from bayeskit.gp import GPRegressor
from bayeskit.models import BayesianLinearRegression, BayesianLogisticRegression
from bayeskit.nn import DeepEnsemble

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 * RNG.normal(size=60)

# Checks that cannot apply, with the reason. Everything else in the battery must pass.
EXPECTED_FAILED_CHECKS = {
    "check_dtype_object": (
        "bayeskit names the argument in a ValueError for a non-numeric cell (house style); the check wants "
        "NumPy's own TypeError text ('argument must be a string or a number')."
    ),
}


def test_exact_linear_regression_passes_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(
            BayesianLinearRegression(), on_fail=None, expected_failed_checks=EXPECTED_FAILED_CHECKS
        )
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results if r["status"] == "failed"}
    assert failed == {}
    assert len(results) > 40  # the battery really ran


@pytest.mark.parametrize(
    "estimator",
    [BayesianLinearRegression(), GPRegressor(restarts=1), DeepEnsemble(members=2, epochs=5, hidden=(8,))],
    ids=["linear regression", "gp", "deep ensemble"],
)
def test_regressors_work_in_pipelines_and_cross_validation(estimator):
    assert is_regressor(estimator)
    twin = clone(estimator)
    assert twin.get_params() == estimator.get_params() and twin is not estimator
    with pytest.raises(NotFittedError, match="not fitted yet"):
        twin.predict(X)
    scores = cross_val_score(make_pipeline(StandardScaler(), estimator), X, Y, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    fitted = clone(estimator).fit(X, Y)
    assert fitted.score(X, Y) == pytest.approx(1 - np.sum((Y - fitted.predict(X)) ** 2) / np.sum((Y - Y.mean()) ** 2))
    assert fitted.n_features_in_ == 3


def test_grid_search_over_a_bayesian_hyperparameter():
    search = GridSearchCV(BayesianLinearRegression(), {"precision": [1e-3, 1.0, 100.0]}, cv=3).fit(X, Y)
    assert search.best_params_["precision"] in (1e-3, 1.0)  # heavy shrinkage (precision 100) fits worst
    assert np.isfinite(search.best_score_)


def test_logistic_regression_is_a_classifier():
    labels = (Y > 0).astype(int)
    model = BayesianLogisticRegression()
    assert is_classifier(model)
    fitted = model.fit(X, labels)
    assert fitted.score(X, labels) == pytest.approx(np.mean(fitted.predict(X) == labels))
    ensemble = DeepEnsemble(members=2, epochs=5, hidden=(8,), head="categorical").fit(X, labels)
    assert ensemble.score(X, labels) == pytest.approx(np.mean(ensemble.predict(X) == labels))
