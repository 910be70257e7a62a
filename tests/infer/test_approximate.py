"""Laplace and ADVI against closed forms; mean-field's known under-statement of uncertainty, shown."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

from bayeskit.conjugate import GammaPoisson, NormalKnownVariance
from bayeskit.infer import advi, laplace

Y = jnp.array([1.2, 0.8, 1.1, 2.0, 1.5])


def gaussian_mean(y):
    mu = numpyro.sample("mu", dist.Normal(0.0, jnp.sqrt(10.0)))
    numpyro.sample("y", dist.Normal(mu, 1.0), obs=y)


def poisson_rate(counts):
    rate = numpyro.sample("rate", dist.Gamma(2.0, 1.0))
    numpyro.sample("counts", dist.Poisson(rate), obs=counts)


rng = np.random.default_rng(0)
Z = rng.normal(size=(40, 1))
X = jnp.asarray(np.hstack([Z, Z + 0.15 * rng.normal(size=(40, 1))]))  # strongly correlated features
W_Y = X @ jnp.array([1.0, -0.5]) + jnp.asarray(rng.normal(size=40))


def correlated_regression(x, y):
    w = numpyro.sample("w", dist.Normal(0.0, 1.0).expand([2]).to_event(1))
    numpyro.sample("y", dist.Normal(x @ w, 1.0), obs=y)


EXACT_COVARIANCE = np.linalg.inv(np.eye(2) + np.asarray(X).T @ np.asarray(X))
EXACT_MEAN = EXACT_COVARIANCE @ np.asarray(X).T @ np.asarray(W_Y)


def test_laplace_on_a_gaussian_posterior_is_exact():
    fit = laplace(gaussian_mean, Y, key=jax.random.key(0))
    exact = NormalKnownVariance(0, 10, 1).update(np.asarray(Y))
    assert float(fit.details["map"][0]) == pytest.approx(float(exact.mean()), rel=1e-5)
    assert float(fit.details["covariance"][0, 0]) == pytest.approx(float(exact.var()), rel=1e-5)
    table = fit.summary()
    assert abs(table.loc["mu", "mean"] - float(exact.mean())) < 4 * table.loc["mu", "mcse_mean"]
    assert fit.is_healthy and fit.method == "laplace"


def test_laplace_keeps_positive_parameters_positive_and_close():
    counts = jnp.array([3.0, 5.0, 4.0, 6.0, 2.0, 5.0])
    fit = laplace(poisson_rate, counts, key=jax.random.key(1))
    exact = GammaPoisson(2.0, 1.0).update(float(counts.sum()), float(counts.size))
    assert np.all(fit.draws["rate"] > 0)
    assert fit.mean()["rate"] == pytest.approx(float(exact.mean()), rel=0.03)  # Gaussian in log-rate: close, not exact
    assert fit.std()["rate"] == pytest.approx(float(exact.std()), rel=0.1)


def test_constrained_laplace_is_the_textbook_one():
    counts = jnp.array([3.0, 5.0, 4.0, 6.0, 2.0, 5.0])
    fit = laplace(poisson_rate, counts, key=jax.random.key(1), space="constrained")
    shape, rate = 2.0 + float(counts.sum()), 1.0 + counts.size
    mode = (shape - 1) / rate  # the Gamma posterior's mode; curvature there: (shape - 1) / mode**2
    assert float(fit.details["map"][0]) == pytest.approx(mode, rel=1e-4)
    assert float(fit.details["covariance"][0, 0]) == pytest.approx(mode**2 / (shape - 1), rel=1e-3)
    assert fit.is_healthy  # 8 standard deviations from zero: no draw leaves the support


def test_constrained_laplace_reports_draws_outside_the_support():
    fit = laplace(poisson_rate, jnp.array([0.0]), key=jax.random.key(1), space="constrained")
    assert [f.check for f in fit.check()] == ["draws outside the support"]


def test_laplace_evidence_matches_the_conjugate_marginal_likelihood_and_reuses_its_program():
    fit = laplace(gaussian_mean, Y, key=jax.random.key(0))
    exact = NormalKnownVariance(0, 10, 1).log_marginal_likelihood(np.asarray(Y))
    assert fit.details["log_evidence"] == pytest.approx(float(exact), abs=1e-4)  # Gaussian: Laplace is exact
    again = laplace(gaussian_mean, Y + 1.0, key=jax.random.key(0))
    assert again.timings["compile_s"] == 0.0
    assert again.mean()["mu"] == pytest.approx(fit.mean()["mu"] + 10 / 10.5, abs=0.05)


@pytest.fixture(scope="module")
def advi_fits():
    kwargs = {"key": jax.random.key(2), "num_steps": 6000, "learning_rate": 0.01}
    return {guide: advi(correlated_regression, X, W_Y, guide=guide, **kwargs) for guide in ("meanfield", "fullrank")}


def test_fullrank_advi_recovers_the_correlated_posterior(advi_fits):
    fit = advi_fits["fullrank"]
    draws = fit.draws["w"].reshape(-1, 2)
    np.testing.assert_allclose(draws.mean(axis=0), EXACT_MEAN, atol=0.1)
    np.testing.assert_allclose(
        np.corrcoef(draws.T)[0, 1], EXACT_COVARIANCE[0, 1] / np.sqrt(np.prod(np.diag(EXACT_COVARIANCE))), atol=0.1
    )
    np.testing.assert_allclose(draws.var(axis=0), np.diag(EXACT_COVARIANCE), rtol=0.35)


def test_meanfield_advi_understates_uncertainty_and_says_so(advi_fits):
    fit = advi_fits["meanfield"]
    draws = fit.draws["w"].reshape(-1, 2)
    ratio = draws.var(axis=0) / np.diag(EXACT_COVARIANCE)
    assert np.all(ratio < 0.5)  # the documented failure mode of mean-field on correlated posteriors
    assert abs(np.corrcoef(draws.T)[0, 1]) < 0.1
    assert any("under-state uncertainty" in note for note in fit.notes)
    assert "under-state uncertainty" in " ".join(fit.summary().attrs["notes"])


def test_unconverged_elbo_is_reported():
    fit = advi(gaussian_mean, Y, key=jax.random.key(3), num_steps=20)
    assert [f.check for f in fit.check()] == ["ELBO change"]
    assert fit.details["elbo"].shape == (20,)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: advi(gaussian_mean, Y, key=jax.random.key(0), guide="diagonal"),
            ValueError,
            "unknown guide 'diagonal'",
        ),
        (
            lambda: advi(gaussian_mean, Y, key=jax.random.key(0), num_steps=5),
            ValueError,
            "`num_steps` must be an int >= 20",
        ),
        (
            lambda: laplace(gaussian_mean, Y, key=None),
            TypeError,
            "`key` must be a JAX key, a numpy.random.Generator or an int seed",
        ),
        (
            lambda: laplace(gaussian_mean, Y, key=jax.random.key(0), num_draws=2),
            ValueError,
            "`num_draws` must be an int >= 4",
        ),
    ],
)
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_engines_side_by_side(advi_fits):
    from bayeskit.infer import side_by_side

    exact_laplace = laplace(correlated_regression, X, W_Y, key=jax.random.key(4))
    table = side_by_side({"laplace": exact_laplace, **advi_fits})
    assert list(table.index) == ["w[0]", "w[1]"]
    assert {"laplace", "meanfield", "fullrank"} <= set(table.columns.get_level_values("engine"))
    np.testing.assert_allclose(table[("laplace", "mean")], EXACT_MEAN, atol=0.05)  # Gaussian posterior: exact
    assert (table[("meanfield", "sd")] < table[("laplace", "sd")]).all()


def test_independent_draws_are_judged_by_their_number_and_finiteness():
    from bayeskit.infer.diagnostics import independent_draws_findings

    assert independent_draws_findings({"x": np.zeros((4, 250))}) == ()
    few = independent_draws_findings({"x": np.zeros((4, 50)), "y": np.zeros((4, 50, 3))})
    assert [(f.check, f.value) for f in few] == [("bulk ESS", 200.0)] and "`num_draws`" in few[0].advice
    broken = np.zeros((4, 250, 2))
    broken[1, 3, 0] = np.nan
    assert [(f.check, f.value, f.where) for f in independent_draws_findings({"w": broken})] == [
        ("non-finite draws", 1, "at w")
    ]
