"""Last-layer Laplace: on a linear model it is Bayesian linear regression (checked against infer.laplace)."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

from bayeskit.infer import laplace
from bayeskit.nn.laplace import LastLayerLaplace

rng = np.random.default_rng(3)
X = rng.normal(size=(200, 2))
Y = 1.0 + X @ np.array([2.0, -1.0]) + 0.5 * rng.normal(size=200)


def known_noise_regression(phi, noise_sd, prior_sd, y=None):
    w = numpyro.sample("w", dist.Normal(0.0, prior_sd).expand([phi.shape[1]]).to_event(1))
    numpyro.sample("y", dist.Normal(phi @ w, noise_sd), obs=y)


@pytest.fixture(scope="module")
def linear():
    return LastLayerLaplace(hidden=(), epochs=200).fit(X, Y)


def test_linear_last_layer_laplace_is_bayesian_linear_regression(linear):
    phi = linear.features(linear.x_scaler_.forward(X))
    np.testing.assert_allclose(phi[:, :2], linear.x_scaler_.forward(X), rtol=1e-6)  # no hidden layer: x itself
    ys = linear.y_scaler_.forward(Y)
    reference = laplace(
        known_noise_regression,
        jnp.asarray(phi, jnp.float32),
        float(np.sqrt(linear.noise_variance_)),
        float(1 / np.sqrt(linear.prior_precision_)),
        y=jnp.asarray(ys, jnp.float32),
        key=jax.random.key(0),
    )
    np.testing.assert_allclose(linear.covariance_, reference.details["covariance"], rtol=2e-3, atol=1e-8)
    # The trained output layer sits at the posterior mode (weight decay is weak next to 200 rows).
    np.testing.assert_allclose(linear.weights_map_, reference.details["map"], atol=0.02)
    assert linear.noise_variance_ == pytest.approx(0.25 / np.var(Y), rel=0.25)  # noise sd 0.5, in standardized units


def test_predictive_and_evidence(linear):
    predictive = linear.predictive(np.array([[0.0, 0.0], [6.0, -6.0]]))
    parts = predictive.decompose()
    assert parts.epistemic[1] > 20 * parts.epistemic[0]  # far from the data the weights' uncertainty dominates
    low, high = linear.predict_interval(X)
    assert 0.9 <= np.mean((Y >= low) & (Y <= high)) <= 0.99
    assert np.isfinite(linear.log_evidence_) and 1e-4 < linear.prior_precision_ < 1e4


def test_epistemic_uncertainty_rises_off_a_nonlinear_toy():
    x = rng.uniform(-3, 3, size=(300, 1))
    y = np.sin(x[:, 0]) + 0.2 * rng.normal(size=300)
    model = LastLayerLaplace(epochs=200).fit(x, y)
    parts = model.predictive(np.array([[-8.0], [-0.5], [0.5], [8.0]])).decompose()
    assert min(parts.epistemic[0], parts.epistemic[3]) > 20 * max(parts.epistemic[1], parts.epistemic[2])
