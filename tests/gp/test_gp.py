"""Exact GPs against scikit-learn and closed forms: kernels, predictions, LML, update, draws, jitter, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process import kernels as sk

from bayeskit.gp import (
    RBF,
    GPRegressor,
    Linear,
    Matern12,
    Matern32,
    Matern52,
    NotPositiveDefiniteError,
    Periodic,
    RationalQuadratic,
    White,
    condition,
    predict,
    update,
)
from bayeskit.gp.exact import cholesky_with_jitter, log_marginal_likelihood

rng = np.random.default_rng(0)
X = rng.uniform(-2, 2, size=(120, 3))
Y = np.sin(2 * X[:, 0]) + 0.3 * X[:, 1] ** 2 + 0.1 * rng.normal(size=120)
LENGTHSCALE = np.array([0.7, 1.3, 2.0])


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (RBF(LENGTHSCALE, 2.0), sk.ConstantKernel(2.0) * sk.RBF(LENGTHSCALE)),
        (Matern12(LENGTHSCALE, 2.0), sk.ConstantKernel(2.0) * sk.Matern(LENGTHSCALE, nu=0.5)),
        (Matern32(LENGTHSCALE, 2.0), sk.ConstantKernel(2.0) * sk.Matern(LENGTHSCALE, nu=1.5)),
        (Matern52(LENGTHSCALE, 2.0), sk.ConstantKernel(2.0) * sk.Matern(LENGTHSCALE, nu=2.5)),
        (RationalQuadratic(0.8, 2.0, 1.5), sk.ConstantKernel(2.0) * sk.RationalQuadratic(0.8, 1.5)),
        (Periodic(0.9, 1.7, 2.0), sk.ConstantKernel(2.0) * sk.ExpSineSquared(0.9, 1.7)),
        (Linear(2.0), sk.ConstantKernel(2.0) * sk.DotProduct(sigma_0=0.0)),
        (RBF(1.0) + White(0.3), sk.RBF(1.0) + sk.WhiteKernel(0.3)),
        (RBF(1.0) * Periodic(1.0, 2.0), sk.RBF(1.0) * sk.ExpSineSquared(1.0, 2.0)),
        ((RBF(1.0) + White(0.3)) * Matern52(2.0), (sk.RBF(1.0) + sk.WhiteKernel(0.3)) * sk.Matern(2.0, nu=2.5)),
    ],
)
def test_kernels_match_scikit_learn(ours, theirs):
    # sklearn's ExpSineSquared uses the Euclidean distance, ours sums over columns: equal on one column.
    columns = 1 if "Periodic" in repr(ours) else X.shape[1]
    x1, x2 = X[:7, :columns], X[7:12, :columns]
    with jax.enable_x64(True):
        np.testing.assert_allclose(
            np.asarray(ours(jnp.asarray(x1), jnp.asarray(x2))), theirs(x1, x2), rtol=1e-9, atol=1e-12
        )
        np.testing.assert_allclose(np.asarray(ours(jnp.asarray(x1))), theirs(x1), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(np.asarray(ours.diag(jnp.asarray(x1))), theirs.diag(x1), rtol=1e-9, atol=1e-12)


def test_kernel_gradients_are_finite_at_zero_distance():
    for kernel in (Matern12(1.0), Matern32(1.0), Matern52(1.0)):
        with jax.enable_x64(True):
            gradient = jax.grad(lambda k: jnp.sum(k(jnp.zeros((2, 1)))))(kernel)
        assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(gradient))


def test_predictions_and_lml_match_scikit_learn_at_fixed_hyperparameters():
    theirs = GaussianProcessRegressor(
        sk.ConstantKernel(1.5) * sk.Matern(LENGTHSCALE, nu=2.5), alpha=0.01, optimizer=None
    )
    theirs.fit(X, Y)
    state = condition(Matern52(LENGTHSCALE, 1.5), 0.01, 0.0, X, Y)
    mean, variance = predict(state, X[:20] + 0.1)
    their_mean, their_std = theirs.predict(X[:20] + 0.1, return_std=True)
    np.testing.assert_allclose(np.asarray(mean), their_mean, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.asarray(variance)), their_std, rtol=1e-7, atol=1e-9)
    with jax.enable_x64(True):
        ours = log_marginal_likelihood(Matern52(LENGTHSCALE, 1.5), 0.01, 0.0, jnp.asarray(X), jnp.asarray(Y))
    assert float(ours) == pytest.approx(theirs.log_marginal_likelihood_value_, abs=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fitted_likelihood_is_at_least_scikit_learns():
    ours = GPRegressor(Matern52(np.ones(3)), restarts=2).fit(X, Y)
    theirs = GaussianProcessRegressor(
        sk.ConstantKernel() * sk.Matern(np.ones(3), nu=2.5) + sk.WhiteKernel(0.1),
        normalize_y=True,
        n_restarts_optimizer=2,
        random_state=0,
    ).fit(X, Y)
    # sklearn's normalize_y reports the likelihood of the standardized target; put ours on that scale.
    ours_standardized = ours.log_marginal_likelihood_ + Y.size * np.log(Y.std())
    assert ours_standardized >= theirs.log_marginal_likelihood_value_ - 1e-3
    mean = ours.predict(X[:10])
    np.testing.assert_allclose(mean, theirs.predict(X[:10]), atol=0.02 * Y.std())


def test_update_equals_conditioning_on_everything():
    full = condition(RBF(LENGTHSCALE), 0.05, 0.2, X, Y)
    stepped = update(
        update(condition(RBF(LENGTHSCALE), 0.05, 0.2, X[:80], Y[:80]), X[80:100], Y[80:100]), X[100:], Y[100:]
    )
    np.testing.assert_allclose(np.asarray(stepped.cholesky), np.asarray(full.cholesky), atol=1e-10)
    np.testing.assert_allclose(np.asarray(predict(stepped, X[:5])[1]), np.asarray(predict(full, X[:5])[1]), atol=1e-10)
    settings = {"kernel": RBF(LENGTHSCALE), "optimizer": None, "normalize_y": False}
    model = GPRegressor(**settings).fit(X[:100], Y[:100]).update(X[100:], Y[100:])
    refit = GPRegressor(**settings).fit(X, Y)
    np.testing.assert_allclose(model.predict(X[:9] + 0.05), refit.predict(X[:9] + 0.05), atol=1e-9)
    assert model.log_marginal_likelihood_ == pytest.approx(refit.log_marginal_likelihood_, abs=1e-8)


def test_function_draws_have_the_posterior_mean_and_covariance():
    model = GPRegressor(RBF(1.0), optimizer=None, noise_variance=0.05).fit(X[:30, :1], Y[:30])
    grid = np.linspace(-3, 3, 5)[:, None]
    draws = model.sample_functions(grid, jax.random.PRNGKey(0), num_draws=20_000)
    mean, covariance = model.predict(grid, return_cov=True)
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=5 * np.sqrt(covariance.diagonal().max() / 20_000))
    np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.05 * covariance.diagonal().max())


def test_predictive_decomposes_into_noise_and_latent_variance():
    model = GPRegressor(RBF(1.0), noise_variance=0.05, optimizer=None).fit(X[:, :1], Y)
    predictive = model.predictive(np.array([[0.0], [10.0]]))
    parts = predictive.decompose()
    np.testing.assert_allclose(parts.aleatoric, model.noise_variance_)
    assert parts.epistemic[1] > 50 * parts.epistemic[0]  # far from the data the function is unknown
    _, latent_std = model.predict(np.array([[0.0], [10.0]]), return_std=True)
    np.testing.assert_allclose(parts.epistemic, latent_std**2, rtol=1e-10)
    metrics = model.predictive(X[:, :1]).evaluate(Y)
    assert {"rmse", "nll", "crps", "coverage_95"} <= set(metrics)


def test_jitter_ladder_reports_its_step_and_gives_up_with_a_clear_error():
    duplicated = np.repeat(X[:5], 2, axis=0)
    state = condition(RBF(1.0), 1e-300, 0.0, duplicated, np.zeros(10))  # singular without jitter
    assert state.jitter > 0 and np.all(np.isfinite(np.asarray(state.cholesky)))
    with pytest.raises(NotPositiveDefiniteError, match="not positive definite even with a jitter"):
        cholesky_with_jitter(-np.eye(3))


@pytest.mark.parametrize(
    ("make", "x", "y", "message"),
    [
        (GPRegressor, X, np.where(np.arange(120) == 4, np.nan, Y), "`y` has a missing or infinite value at row 4"),
        (GPRegressor, X, np.ones(120), "`y` is constant"),
        (lambda: GPRegressor(noise_variance=-1.0), X, Y, "`noise_variance` must be a finite number > 0"),
        (lambda: GPRegressor(optimizer="adam"), X, Y, "unknown optimizer 'adam'"),
        (GPRegressor, X[:, 0], Y, "must be 2-D"),
    ],
)
def test_bad_input(make, x, y, message):
    with pytest.raises(ValueError, match=message):
        make().fit(x, y)


def test_bad_kernel_values_and_memory_check():
    with pytest.raises(ValueError, match="`lengthscale` must be a positive number"):
        RBF(-1.0)
    model = GPRegressor()
    with pytest.raises(MemoryError, match="exact GP fit on 10,000,000 points x 3 features needs"):
        model._check_memory(10_000_000, 3)


def test_padding_leaves_the_likelihood_unchanged_and_shares_one_program():
    with jax.enable_x64(True):
        kernel, x, y = Matern52(LENGTHSCALE, 1.3), jnp.asarray(X[:50]), jnp.asarray(Y[:50])
        plain = log_marginal_likelihood(kernel, 0.05, 0.1, x, y)
        padded_x = jnp.concatenate([x, jnp.ones((14, 3))])
        padded_y = jnp.concatenate([y, jnp.full(14, 7.0)])
        mask = (jnp.arange(64) < 50).astype(jnp.float64)
        padded = log_marginal_likelihood(kernel, 0.05, 0.1, padded_x, padded_y, mask)
    assert float(padded) == pytest.approx(float(plain), abs=1e-9)
    first = GPRegressor(Matern52(np.ones(3)), restarts=0, pad_to=64).fit(X[:50], Y[:50])
    second = GPRegressor(Matern52(np.ones(3)), restarts=0, pad_to=64).fit(X[:51], Y[:51])
    unpadded = GPRegressor(Matern52(np.ones(3)), restarts=0).fit(X[:51], Y[:51])
    assert second.log_marginal_likelihood_ == pytest.approx(unpadded.log_marginal_likelihood_, abs=1e-4)
    assert first.log_marginal_likelihood_ < second.log_marginal_likelihood_ + 10  # both fitted, finite
    from bayeskit.gp.fit import _OBJECTIVES

    assert sum(1 for function in _OBJECTIVES.values() if function._cache_size() > 0) >= 1


def test_lapack_gradient_equals_autodiff_through_the_cholesky():
    """The two ways fit_hyperparameters differentiates the LML agree, padding rows included."""
    from jax.flatten_util import ravel_pytree

    from bayeskit.gp import RBF, Matern32
    from bayeskit.gp.fit import _objective

    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 3))
    y = np.sin(x[:, 0]) + 0.1 * rng.normal(size=60)
    with jax.enable_x64(True):
        kernel = jax.tree.map(lambda leaf: jnp.asarray(leaf, jnp.float64), Matern32(np.ones(3), 1.0) + RBF(2.0))
        start = (kernel, jnp.log(jnp.asarray(0.05)), jnp.asarray(0.2))
        vector, unravel = ravel_pytree(start)
        vector = vector + jnp.linspace(-0.3, 0.3, vector.size)
        mask = jnp.asarray(np.arange(64) < 60, jnp.float64)
        xs = jnp.asarray(np.vstack([x, np.zeros((4, 3))]))
        ys = jnp.asarray(np.concatenate([y, np.zeros(4)]))
        autodiff = _objective(start, unravel, "autodiff")(vector, xs, ys, mask)
        lapack = _objective(start, unravel, "lapack")(vector, xs, ys, mask)
    assert abs(float(autodiff[0]) - float(lapack[0])) < 1e-9
    np.testing.assert_allclose(np.asarray(lapack[1]), np.asarray(autodiff[1]), rtol=1e-8, atol=1e-9)
