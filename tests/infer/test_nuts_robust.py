"""NUTS that cannot be stranded: the model checked before sampling, stuck chains restarted, float64 on request."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

from bayeskit.infer import ModelError, nuts
from bayeskit.infer.pathfinder import ELBO_DRAWS, ITERATIONS, pathfinder_start

QUICK = {"num_chains": 4, "num_warmup": 300, "num_samples": 400, "mass_matrix": "auto"}  # bayeskit's warmup


def barrier(height):
    """A 2-d standard normal with a wall of ``height`` nats around x = 7: a chain started beyond it cannot cross
    and sits about e^-40 below the mode."""
    x = numpyro.sample("x", dist.Normal(0.0, 1.0))
    numpyro.sample("y", dist.Normal(0.0, 1.0))
    numpyro.factor("wall", -height * jnp.exp(-(((x - 7.0) / 1.0) ** 2)))


STRANDED = {"x": np.array([11.0, 0.1, -0.2, 0.3], np.float32)}


@pytest.fixture(scope="module")
def restarted():
    return nuts(barrier, 200.0, key=jax.random.key(0), init=STRANDED, **QUICK)


def test_a_chain_started_in_a_region_of_vanishing_density_is_restarted_and_the_run_ends_healthy(restarted):
    assert restarted.details["restarts"][0] >= 1 and not restarted.details["restarts"][1:].any()
    assert restarted.is_healthy, restarted.check()
    assert abs(float(restarted.mean()["x"])) < 0.15 and abs(float(restarted.std()["x"]) - 1) < 0.1
    assert any(note.startswith("chain 0 was stuck in warmup and restarted") for note in restarted.notes)
    assert restarted.summary().attrs["notes"] == list(restarted.notes)


def test_without_restarts_the_stranded_chain_is_named_in_a_finding():
    fit = nuts(barrier, 200.0, key=jax.random.key(0), init=STRANDED, max_restarts=0, **QUICK)
    apart = [finding for finding in fit.check() if finding.check in ("chain apart", "stuck chain")]
    assert [finding.where for finding in apart] == ["chain 0"]
    assert not fit.details["restarts"].any()


def test_healthy_runs_never_restart_or_report_a_stuck_chain(restarted):
    for seed in (1, 2, 3):
        fit = nuts(barrier, 200.0, key=jax.random.key(seed), **QUICK)
        assert not fit.details["restarts"].any()
        assert not [f for f in fit.check() if f.check in ("chain apart", "stuck chain")], fit.check()


def test_the_run_counts_its_gradient_evaluations(restarted):
    sampled = int(restarted.idata["sample_stats"]["n_steps"].values.sum())
    assert restarted.details["gradients"] > sampled > 0


def negative_scale(y=None):
    s = numpyro.sample("s", dist.Normal(0.0, 1.0))
    numpyro.sample("y", dist.Normal(0.0, s), obs=y)


def discrete(y=None):
    k = numpyro.sample("k", dist.Bernoulli(0.5))
    numpyro.sample("y", dist.Normal(k * 2.0, 1.0), obs=y)


def counts(y=None):
    rate = numpyro.sample("rate", dist.Gamma(2.0, 1.0))
    numpyro.sample("y", dist.Poisson(rate), obs=y)


@pytest.mark.parametrize(
    ("model", "y", "message"),
    [
        (negative_scale, np.ones(5, np.float32), r"site 'y'.*`scale`.*HalfNormal"),
        (discrete, np.ones(5, np.float32), r"site 'k' is a discrete latent.*MixtureSameFamily"),
        (counts, np.array([1.0, -2.0, 3.0], np.float32), r"site 'y': observed values outside the support"),
    ],
)
def test_the_model_check_names_the_site_and_the_fix(model, y, message):
    with pytest.raises(ModelError, match=message):
        nuts(model, y=y, key=jax.random.key(0), **QUICK)


def test_the_model_check_runs_compiled_once_per_model_and_shapes_and_traces_eagerly_only_to_name_a_problem():
    from bayeskit.infer import model_check

    def regression(x, y=None):
        beta = numpyro.sample("beta", dist.Normal(0.0, 1.0))
        sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
        numpyro.sample("y", dist.Normal(beta * x, sigma), obs=y)

    calls = []
    eager = model_check._eager_check
    model_check._eager_check = lambda *args: calls.append(args)
    try:
        for seed in range(3):  # new data and a new key: the same compiled check
            x = np.random.default_rng(seed).normal(size=20)
            model_check.check_model(regression, (jnp.asarray(x),), {"y": jnp.asarray(2 * x)}, jax.random.key(seed))
        assert not calls
        assert sum(key[0] is regression for key in model_check._CHECKERS) == 1
        model_check.check_model(negative_scale, (), {"y": jnp.ones(5)}, jax.random.key(0))
        assert len(calls) == 1  # the compiled flags found the negative scale; the eager pass names it
    finally:
        model_check._eager_check = eager
    # both passes see the same points
    trace = model_check._trace(regression, (jnp.ones(3),), {}, {}, 0)
    eager_points = model_check._points(trace, 5)
    compiled_points = jax.jit(lambda seed: model_check._points(trace, seed))(np.uint32(5))
    for eager_point, compiled_point in zip(eager_points, compiled_points, strict=True):
        for name in eager_point:
            np.testing.assert_allclose(eager_point[name], compiled_point[name], rtol=1e-6)
    assert float(compiled_points[0]["sigma"]) > 0 and len({float(p["beta"]) for p in eager_points}) == 6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"mass_matrix": "dense"},
            r"unknown mass_matrix 'dense'; choose one of 'numpyro', 'variance', 'auto', 'diag', 'lowrank'",
        ),
        ({"init": "median"}, r"unknown init 'median'; choose one of 'auto', 'uniform', 'prior', 'pathfinder'"),
        ({"init": [1.0]}, r"`init` must be one of .* or a dict of site name -> starting value; got \[1.0\]"),
        ({"precision": "float16"}, r"unknown precision 'float16'; choose one of 'float32', 'float64'"),
        ({"max_restarts": -1}, r"`max_restarts` must be an int >= 0; got -1"),
        ({"mass_matrix": "numpyro", "init": "prior"}, r"`init` needs bayeskit's warmup.*mass_matrix='variance'"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nuts(barrier, 200.0, key=jax.random.key(0), **{**QUICK, **kwargs})


def test_float64_runs_inside_its_own_scope_and_agrees_with_float32(restarted):
    before = bool(jax.config.jax_enable_x64)
    fit = nuts(barrier, 200.0, key=jax.random.key(5), precision="float64", **{**QUICK, "mass_matrix": "lowrank"})
    assert fit.draws["x"].dtype == np.float64 and bool(jax.config.jax_enable_x64) == before
    assert fit.is_healthy and abs(float(fit.mean()["x"])) < 0.15
    assert not [f for f in fit.check() if f.check == "float32 round-off"]


def test_prior_starts_sample_the_same_posterior():
    fit = nuts(barrier, 200.0, key=jax.random.key(6), init="prior", **QUICK)
    table = fit.summary()
    assert fit.is_healthy
    assert abs(table.loc["x", "sd"] - 1) < 4 * table.loc["x", "mcse_sd"]


def test_the_default_start_is_pathfinder_with_bayeskits_warmup_and_uniform_with_numpyros(restarted):
    assert nuts(barrier, 200.0, key=jax.random.key(6), **QUICK).details["init"] == "pathfinder"
    assert restarted.details["init"] == "values"
    quick = {**QUICK, "mass_matrix": "numpyro", "num_warmup": 100, "num_samples": 100}
    assert nuts(barrier, 200.0, key=jax.random.key(6), **quick).details["init"] == "uniform"


def test_pathfinder_starts_sample_the_same_posterior_and_count_the_path(restarted):
    fit = nuts(barrier, 200.0, key=jax.random.key(6), init="pathfinder", **QUICK)
    table = fit.summary()
    assert fit.is_healthy, fit.check()
    assert abs(table.loc["x", "sd"] - 1) < 4 * table.loc["x", "mcse_sd"]
    assert abs(table.loc["y", "mean"]) < 4 * table.loc["y", "mcse_mean"]
    # the same settings from uniform starts spend no gradients before warmup; Pathfinder's path is counted
    steps = int(fit.idata["sample_stats"]["n_steps"].values.sum())
    assert fit.details["gradients"] > steps + 4 * (ITERATIONS + 1) * ELBO_DRAWS


def _gaussian_potential(scales):
    return lambda x: 0.5 * jnp.sum((x / scales) ** 2)


@pytest.mark.parametrize("dense", [False, True])
def test_a_pathfinder_start_on_a_gaussian_finds_its_scales(dense):
    scales = jnp.array([0.05, 1.0, 20.0])
    start = pathfinder_start(_gaussian_potential(scales), jnp.array([1.5, -1.0, 2.0]), jax.random.key(0), dense)
    variances = jnp.diag(start.inverse) if dense else start.inverse
    assert bool(start.ok)
    np.testing.assert_allclose(variances, scales**2, rtol=0.3)  # L-BFGS's inverse Hessian on a quadratic
    assert np.all(np.abs(np.asarray(start.x)) < 5 * np.asarray(scales))  # a draw from N(0, diag(scales^2))
    if dense:
        assert start.inverse.shape == (3, 3)


def test_a_failed_pathfinder_path_keeps_the_uniform_start():
    x0 = jnp.array([0.5, -0.5])
    start = pathfinder_start(lambda x: jnp.sum(x) * jnp.nan, x0, jax.random.key(0), dense=False)
    assert not bool(start.ok)
    np.testing.assert_array_equal(start.x, x0)
    np.testing.assert_array_equal(start.inverse, jnp.ones(2))


def test_laplace_and_advi_take_the_same_precision_switch():
    from bayeskit.infer import advi, laplace

    fit = laplace(barrier, 200.0, key=jax.random.key(0), num_draws=200, precision="float64")
    assert fit.draws["x"].dtype == np.float64 and abs(float(fit.mean()["x"])) < 0.2
    fit = advi(barrier, 200.0, key=jax.random.key(0), num_steps=500, num_draws=200, precision="float64")
    assert fit.draws["x"].dtype == np.float64 and not jax.config.jax_enable_x64


def test_a_lowrank_run_interrupted_at_a_checkpoint_resumes_bit_identically(tmp_path, monkeypatch):
    import importlib

    nuts_module = importlib.import_module("bayeskit.infer.nuts")  # the module (the package exports the function)

    settings = {**QUICK, "mass_matrix": "lowrank", "checkpoint_every": 100}
    whole = nuts(barrier, 200.0, key=jax.random.key(7), **settings)
    path = tmp_path / "run.ckpt"
    real_write, writes = nuts_module.write_checkpoint, []

    def write_then_stop(*args, **kwargs):
        real_write(*args, **kwargs)
        writes.append(1)
        if len(writes) == 2:  # mid-warmup, past three window ends: the adaptation state must resume too
            raise KeyboardInterrupt

    monkeypatch.setattr(nuts_module, "write_checkpoint", write_then_stop)
    with pytest.raises(KeyboardInterrupt):
        nuts(barrier, 200.0, key=jax.random.key(7), checkpoint=path, **settings)
    monkeypatch.setattr(nuts_module, "write_checkpoint", real_write)
    resumed = nuts(barrier, 200.0, key=jax.random.key(7), checkpoint=path, **settings)
    assert 150 < resumed.details["resumed_from"] < QUICK["num_warmup"]
    for site in whole.draws:
        np.testing.assert_array_equal(resumed.draws[site], whole.draws[site])


def vector_barrier(height):
    """The same wall on the first of three coordinates of one vector site (restarts must unflatten it)."""
    x = numpyro.sample("x", dist.Normal(0.0, 1.0).expand([3]).to_event(1))
    numpyro.factor("wall", -height * jnp.exp(-(((x[0] - 7.0) / 1.0) ** 2)))


def test_a_stranded_vector_site_is_restarted_whole():
    start = np.zeros((4, 3), np.float32)
    start[2, 0] = 11.0
    fit = nuts(vector_barrier, 200.0, key=jax.random.key(8), init={"x": start}, **QUICK)
    assert fit.details["restarts"][2] >= 1 and fit.is_healthy, fit.check()
    assert np.all(np.abs(fit.mean()["x"]) < 0.15)
