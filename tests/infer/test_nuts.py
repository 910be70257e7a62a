"""NUTS through bayeskit: the eight-schools reference cases, a conjugate cross-check, the posterior API."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from scipy import stats

from bayeskit.conjugate import BetaBinomial
from bayeskit.infer import DiagnosticsWarning, banner, nuts

SCHOOLS_Y = jnp.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SCHOOLS_SIGMA = jnp.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def centered(sigma, y=None):
    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("school", sigma.shape[0]):
        theta = numpyro.sample("theta", dist.Normal(mu, tau))
        numpyro.sample("obs", dist.Normal(theta, sigma), obs=y)


def non_centered(sigma, y=None):
    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("school", sigma.shape[0]):
        offset = numpyro.sample("offset", dist.Normal(0, 1))
        theta = numpyro.deterministic("theta", mu + tau * offset)
        numpyro.sample("obs", dist.Normal(theta, sigma), obs=y)


def beta_binomial(trials, successes=None):
    p = numpyro.sample("p", dist.Beta(2.0, 2.0))
    numpyro.sample("k", dist.Binomial(trials, probs=p), obs=successes)


@pytest.fixture(scope="module")
def centered_fit():
    return nuts(centered, SCHOOLS_SIGMA, y=SCHOOLS_Y, key=jax.random.key(0))


@pytest.fixture(scope="module")
def non_centered_fit():
    return nuts(non_centered, SCHOOLS_SIGMA, y=SCHOOLS_Y, key=jax.random.key(0), target_accept=0.95)


def test_centered_eight_schools_raises_the_divergence_warning(centered_fit):
    checks = {finding.check for finding in centered_fit.check()}
    assert "divergences" in checks
    assert not centered_fit.is_healthy
    assert "DO NOT TRUST THESE NUMBERS" in banner(centered_fit.check())
    with pytest.warns(DiagnosticsWarning, match="divergences"):
        table = centered_fit.summary()
    assert any("non-centered" in line for line in table.attrs["diagnostics"])


def test_non_centered_eight_schools_is_healthy(non_centered_fit):
    assert non_centered_fit.check() == ()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DiagnosticsWarning)
        table = non_centered_fit.summary()
    assert {"r_hat", "ess_bulk", "ess_tail", "mcse_mean"} <= set(table.columns)
    assert table.loc["mu", "mean"] == pytest.approx(4.4, abs=1.0)  # the well-known posterior mean of mu


def test_nuts_on_a_conjugate_model_matches_the_closed_form():
    posterior = nuts(beta_binomial, 50, successes=18, key=jax.random.key(1), num_warmup=500, num_samples=1000)
    exact = BetaBinomial(2, 2).update(18, 50)
    table = posterior.summary()
    assert posterior.is_healthy
    assert abs(table.loc["p", "mean"] - float(exact.mean())) < 4 * table.loc["p", "mcse_mean"]
    assert abs(table.loc["p", "sd"] - float(exact.std())) < 4 * table.loc["p", "mcse_sd"]
    draws = posterior.draws["p"].ravel()
    assert stats.kstest(draws[::4], exact.marginals()["probability"].cdf).pvalue > 1e-3  # thinned: ~independent


def test_posterior_api_shapes(non_centered_fit):
    means = non_centered_fit.mean()
    assert means["theta"].shape == (8,) and np.ndim(means["mu"]) == 0
    eti, hdi = non_centered_fit.interval(0.9), non_centered_fit.interval(0.9, kind="hdi")
    low, high = eti.low["theta"], eti.high["theta"]
    hdi_low, hdi_high = hdi.low["theta"], hdi.high["theta"]
    assert np.all(low < high)
    assert np.all(hdi_high - hdi_low <= 1.01 * (high - low))  # sample HDI vs interpolated sample ETI: noise only
    draws = non_centered_fit.sample(jax.random.key(3), 5)
    assert draws["theta"].shape == (5, 8)
    np.testing.assert_array_equal(draws["theta"], non_centered_fit.sample(jax.random.key(3), 5)["theta"])
    assert non_centered_fit.to_arviz().posterior["theta"].shape == (4, 1000, 8)
    assert set(non_centered_fit.timings) == {"compile_s", "warmup_s", "sampling_s", "postprocess_s"}
    assert "healthy" in repr(non_centered_fit)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"key": None}, TypeError, "`key` must be a JAX key, a numpy.random.Generator or an int seed"),
        ({"key": jax.random.key(0), "target_accept": 1.5}, ValueError, r"`target_accept` must be in \(0, 1\)"),
        ({"key": jax.random.key(0), "chain_method": "threads"}, ValueError, "unknown chain_method 'threads'"),
        ({"key": jax.random.key(0), "num_chains": 0}, ValueError, "`num_chains` must be an int >= 1; got 0"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        nuts(beta_binomial, 50, successes=18, **kwargs)


def test_new_data_of_the_same_shape_reuse_the_compiled_program(non_centered_fit):
    again = nuts(non_centered, SCHOOLS_SIGMA, y=SCHOOLS_Y + 1.0, key=jax.random.key(0), target_accept=0.95)
    assert again.timings["compile_s"] == 0.0
    assert again.mean()["mu"] == pytest.approx(non_centered_fit.mean()["mu"] + 1.0, abs=0.5)


def test_same_key_same_draws():
    # The settings of the conjugate cross-check above: its compiled program is reused.
    first = nuts(beta_binomial, 50, successes=18, key=jax.random.key(5), num_warmup=500, num_samples=1000)
    second = nuts(beta_binomial, 50, successes=18, key=jax.random.key(5), num_warmup=500, num_samples=1000)
    np.testing.assert_array_equal(first.draws["p"], second.draws["p"])


def test_posterior_predictive_and_pointwise_log_likelihood(non_centered_fit):
    replicated = non_centered_fit.predictive(jax.random.key(1))
    assert replicated["obs"].shape == (4000, 8)
    # The replicated data spread like the observed ones: sigma_j plus the spread of theta_j.
    assert np.all(replicated["obs"].std(axis=0) > np.asarray(SCHOOLS_SIGMA))
    fewer = non_centered_fit.predictive(jax.random.key(1), num_samples=10)
    assert fewer["obs"].shape == (10, 8)
    precise = non_centered_fit.predictive(jax.random.key(2), jnp.ones(8))["obs"]  # new inputs: sigma_j = 1
    assert precise.shape == (4000, 8) and np.all(precise.std(axis=0) < replicated["obs"].std(axis=0))
    log_lik = non_centered_fit.log_likelihood()["obs"]
    assert log_lik.shape == (4, 1000, 8)
    mu, tau, offset = (non_centered_fit.draws[name][0, 0] for name in ("mu", "tau", "offset"))
    expected = stats.norm(mu + tau * offset, np.asarray(SCHOOLS_SIGMA)).logpdf(np.asarray(SCHOOLS_Y))
    np.testing.assert_allclose(log_lik[0, 0], expected, rtol=1e-4)
    tree = non_centered_fit.to_arviz(log_likelihood=True)
    assert "log_likelihood" in tree.children and tree["log_likelihood"]["obs"].shape == (4, 1000, 8)


def test_progress_bar_goes_to_stderr(capsys):
    nuts(beta_binomial, 50, successes=18, key=jax.random.key(1), num_warmup=50, num_samples=50, progress=True)
    captured = capsys.readouterr()
    assert "sampling" in captured.err and "100/100" in captured.err
    assert captured.out == ""


def test_posterior_predictive_check_of_a_good_model_flags_nothing(non_centered_fit):
    table = non_centered_fit.predictive_check(jax.random.key(4))
    assert list(table.index) == ["mean", "std", "min", "max"]
    assert not table["extreme"].any()
    assert table.loc["mean", "observed"] == pytest.approx(float(SCHOOLS_Y.mean()))
    figure = non_centered_fit.plot_predictive_check(jax.random.key(4), num_samples=100)
    assert len(figure.axes) == 5


def test_a_predictive_check_catches_a_misfit():
    rng = np.random.default_rng(0)
    heavy = jnp.asarray(rng.standard_t(1.5, size=200))  # heavy-tailed data, Gaussian model

    def gaussian(y=None):
        mu = numpyro.sample("mu", dist.Normal(0, 10))
        sigma = numpyro.sample("sigma", dist.HalfNormal(10))
        with numpyro.plate("n", 200):
            numpyro.sample("y", dist.Normal(mu, sigma), obs=y)

    fit = nuts(gaussian, y=heavy, key=jax.random.key(0), num_warmup=300, num_samples=300)
    table = fit.predictive_check(jax.random.key(1))
    assert table.loc["max", "extreme"] or table.loc["min", "extreme"]


def test_prior_predictive_and_plots(non_centered_fit):
    from bayeskit.infer import plot_predictive_check, prior_predictive

    prior = prior_predictive(non_centered, SCHOOLS_SIGMA, key=jax.random.key(0), num_samples=200)
    assert prior["obs"].shape == (200, 8) and prior["tau"].min() > 0
    assert len(plot_predictive_check(prior["obs"], SCHOOLS_Y, kind="prior").axes) == 5
    assert len(non_centered_fit.plot_trace(["mu", "tau"]).axes) == 4
    named = non_centered_fit.plot_trace(["offset"], labels={"offset": [f"school {i}" for i in "ABCDEFGH"]})
    assert {axis.get_xlabel() for axis in named.axes} >= {"offset\nschool A", "offset\nschool H"}  # named rows
    assert len([a for a in non_centered_fit.plot_rank(["mu", "tau"]).axes if a.get_visible()]) == 2
    with pytest.raises(ValueError, match=r"`replicated` must have shape \(num_draws, \*observed.shape\)"):
        plot_predictive_check(prior["obs"][:, :3], SCHOOLS_Y)
    with pytest.raises(ValueError, match="`site` must be an observed site"):
        non_centered_fit.predictive_check(jax.random.key(0), site="mu")


def test_python_numbers_are_traced_and_plate_sizes_stay_static():
    """``nuts(model, 50, successes=18)`` then ``successes=19``: one compiled program (numbers are traced);
    a number the model needs as a Python value (a plate size) is detected and kept static."""

    def binomial(trials, successes=None):
        p = numpyro.sample("p", dist.Beta(2.0, 2.0))
        numpyro.sample("k", dist.Binomial(trials, probs=p), obs=successes)

    first = nuts(binomial, 50, successes=18, key=jax.random.key(0), num_warmup=100, num_samples=100)
    second = nuts(binomial, 50, successes=30, key=jax.random.key(0), num_warmup=100, num_samples=100)
    assert first.timings["compile_s"] > 0 and second.timings["compile_s"] == 0.0
    assert second.mean()["p"] > first.mean()["p"]  # the new value was used, not the compiled-in one

    def plated(n, y=None):
        mu = numpyro.sample("mu", dist.Normal(0.0, 1.0))
        with numpyro.plate("rows", n):
            numpyro.sample("y", dist.Normal(mu, 1.0), obs=y)

    fit = nuts(plated, 5, y=np.ones(5), key=jax.random.key(1), num_warmup=100, num_samples=100)
    assert 0.3 < float(fit.mean()["mu"]) < 1.3


def test_sequential_and_vectorized_chains_take_the_same_transitions_and_auto_picks_by_backend_and_data():
    runs = {
        method: nuts(
            beta_binomial, 50, successes=18, key=jax.random.key(3), num_warmup=0, num_samples=5, chain_method=method
        )
        for method in ("sequential", "vectorized")
    }
    np.testing.assert_allclose(runs["sequential"].draws["p"], runs["vectorized"].draws["p"], rtol=1e-5)
    assert runs["sequential"].details["chain_method"] == "sequential"
    small = nuts(beta_binomial, 50, successes=18, key=jax.random.key(3), num_warmup=0, num_samples=5)
    assert small.details["chain_method"] == ("sequential" if jax.default_backend() == "cpu" else "vectorized")
    from bayeskit.infer.nuts import VECTORIZE_FROM, _auto_chain_method

    assert _auto_chain_method((np.zeros(VECTORIZE_FROM),), {}, 4) == "vectorized"
    assert _auto_chain_method((np.zeros(10), 3.0), {"y": np.zeros(10)}, 4) == (
        "sequential" if jax.default_backend() == "cpu" else "vectorized"
    )
