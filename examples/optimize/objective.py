"""An objective for ``bayeskit optimize``: the cross-validated error of a polynomial ridge regression.

Run from this folder::

    bayeskit optimize objective:cv_error --space space.json --trials 20 --study ridge.db

``cv_error(params)`` gets one dict per trial, keyed as in ``space.json``, and returns the number to
minimize (5-fold mean squared error on the bundled ``uq_regression`` table).
"""

from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from bayeskit.datasets import load_dataset


def cv_error(params):
    frame = load_dataset("uq_regression")
    steps = [PolynomialFeatures(degree=params["degree"])]
    if params["scale"] == "standard":
        steps.append(StandardScaler())
    model = make_pipeline(*steps, Ridge(alpha=params["alpha"]))
    scores = cross_val_score(model, frame[["x1", "x2"]], frame["y"], cv=5, scoring="neg_mean_squared_error")
    return float(-scores.mean())
