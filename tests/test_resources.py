"""bayeskit.resources: memory and time before a run, and the refusal of a run that cannot fit."""

import jax
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

from bayeskit.gp import GPRegressor
from bayeskit.gp._footprint import MATRICES, WORKING_BYTES
from bayeskit.infer import nuts
from bayeskit.nn import DeepEnsemble
from bayeskit.resources import (
    HOST_LIMIT_VARIABLE,
    Need,
    ResourceError,
    ResourceEstimate,
    available,
    estimate,
    format_bytes,
    format_seconds,
    parse_bytes,
)


def normal_means(y=None):
    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0).expand([3]))
    sigma = numpyro.sample("sigma", dist.HalfNormal(2.0))
    numpyro.deterministic("spread", mu.max() - mu.min())
    numpyro.sample("y", dist.Normal(mu, sigma), obs=y)


Y = np.array([[0.3, 1.9, -1.2], [0.1, 2.2, -0.8], [0.6, 1.7, -1.0]], np.float32)
SETTINGS = {"num_chains": 2, "num_warmup": 60, "num_samples": 50, "chain_method": "sequential"}


@pytest.mark.parametrize(
    "text, expected", [("8GB", 8 * 10**9), ("512MiB", 512 * 2**20), ("1.5g", int(1.5 * 2**30)), ("1000", 1000)]
)
def test_sizes_are_read_in_the_units_people_write(text, expected):
    assert parse_bytes(text) == expected


def test_a_bad_size_names_the_variable_and_the_units():
    with pytest.raises(ValueError, match=r"`BAYESKIT_MEMORY_LIMIT` must be a size such as 8GB.*got 'lots'"):
        parse_bytes("lots")


def test_the_cap_lowers_the_free_memory_and_a_bad_place_is_named(monkeypatch):
    free = available("host")
    assert free is not None and free > 0
    monkeypatch.setenv(HOST_LIMIT_VARIABLE, "1MiB")
    assert available("host") == 2**20
    assert available("device") is None  # a CPU: no accelerator memory apart from the host's
    with pytest.raises(ValueError, match="`where` must be 'host' or 'device'; got 'disk'"):
        available("disk")


def test_words_for_bytes_and_seconds():
    assert format_bytes(1536) == "1.5 KiB" and format_bytes(None) == "unknown" and format_bytes(12) == "12 B"
    assert format_seconds(0.004) == "4 ms" and format_seconds(95) == "1.6 min" and format_seconds(7200) == "2.0 h"


def test_an_estimate_adds_its_lines_per_pool_and_refuses_naming_the_numbers():
    needs = (Need("weights", 600, "device", "a"), Need("draws", 500, "host", "b"))
    one_pool = ResourceEstimate("a run", needs, {"host": 1000}, fix="Pass fewer.")
    assert one_pool.memory() == 1100 and not one_pool.fits
    with pytest.raises(ResourceError, match=r"a run needs 1\.1 KiB of main memory where 1000 B is free.*weights"):
        one_pool.check()
    two_pools = ResourceEstimate("a run", needs, {"host": 1000, "device": 700})
    assert two_pools.fits and two_pools.check() is two_pools  # 600 on the device, 500 on the host
    table = two_pools.table()
    assert "total on the device" in table and "fits: yes" in table
    assert two_pools.to_dict()["memory_bytes"] == {"host": 500, "device": 600}


def test_estimate_refuses_what_it_cannot_run_and_what_has_nothing_big():
    with pytest.raises(ValueError, match="`run` must be the function to estimate"):
        estimate(42)
    with pytest.raises(ValueError, match="ran to the end without a NUTS run"):
        estimate(lambda: None)


@pytest.fixture(scope="module")
def nuts_plan():
    return estimate(nuts, normal_means, y=Y, key=jax.random.key(0), **SETTINGS)


def test_nuts_memory_is_the_draws_and_the_compiled_program(nuts_plan):
    lines = {need.what: need.bytes for need in nuts_plan.needs}
    chains, samples = SETTINGS["num_chains"], SETTINGS["num_samples"]
    unconstrained, constrained = 4, 5  # mu (3), sigma; and the deterministic spread
    per_draw = unconstrained * 4 + 1 + 4 + 4 * 4  # float32 position, diverging, num_steps, four real statistics
    assert lines["draws as sampled, with sampler statistics"] == 2 * chains * samples * per_draw
    assert lines["posterior draws in constrained space"] == 3 * chains * samples * constrained * 4
    assert lines["compiled sampler (state, a chunk of draws, scratch)"] > chains * SETTINGS["num_warmup"] * per_draw
    assert nuts_plan.fits and "2 chains x (60 warmup + 50 draws), sequential" in nuts_plan.run


def test_nuts_time_comes_from_a_calibration_on_its_own_program(nuts_plan):
    assert 0 < nuts_plan.seconds <= nuts_plan.seconds_at_most
    assert "60 transitions of this program (the first 40 untimed)" in nuts_plan.calibration
    assert nuts_plan.details["seconds_per_gradient"] > 0
    assert "time: about" in nuts_plan.table()


def test_nuts_refuses_draws_that_do_not_fit_and_names_the_samples_that_do(monkeypatch, nuts_plan):
    compiled = nuts_plan.memory("device")
    draws = nuts_plan.memory("host")
    monkeypatch.setenv(HOST_LIMIT_VARIABLE, str(compiled + draws // 2))
    with pytest.raises(ResourceError, match=r"Pass num_samples=(\d+) or fewer") as refused:
        nuts(normal_means, y=Y, key=jax.random.key(0), **SETTINGS)
    fitting = int(refused.value.args[0].split("Pass num_samples=")[1].split(" ")[0].replace(",", ""))
    assert 20 <= fitting <= 25  # half the draws' memory: half the 50 draws
    smaller = estimate(nuts, normal_means, y=Y, key=jax.random.key(0), **{**SETTINGS, "num_samples": fitting})
    assert smaller.fits


def test_gp_memory_is_the_kernel_matrices_and_nothing_is_fitted():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 2))
    model = GPRegressor(restarts=1)
    plan = estimate(model.fit, x, np.sin(x[:, 0]) + 0.1 * rng.normal(size=150))
    assert plan.memory() == MATRICES * 8 * 150**2 + 8 * 150 * 3 + WORKING_BYTES
    assert plan.seconds > 0 and "L-BFGS-B evaluations (2 starts) on 150 random rows" in plan.calibration
    assert not hasattr(model, "state_")


def test_gp_refuses_a_fit_that_does_not_fit_naming_the_rows_that_do(monkeypatch):
    monkeypatch.setenv(HOST_LIMIT_VARIABLE, str(MATRICES * 8 * 100**2 + WORKING_BYTES))
    x = np.linspace(0, 1, 400)[:, None]
    with pytest.raises(ResourceError, match=r"Fit on at most 100 rows"):
        GPRegressor().fit(x, np.sin(x[:, 0]))


def test_ensemble_memory_counts_every_members_weights_and_trains_nothing():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(80, 3)), rng.normal(size=80)
    model = DeepEnsemble(members=3, hidden=(8,), epochs=20, key=0)
    plan = estimate(model.fit, x, y)
    weights = 3 * (3 * 8 + 8 + 8 * 2 + 2 + 1) * 4  # two layers and the log noise, float32, per member
    line = next(need for need in plan.needs if need.what.startswith("weights"))
    assert 8 * weights <= line.bytes <= 8 * weights + 1024  # weights, best, two moments, twice; AdamW's counters
    assert plan.seconds > 0 and "3 timed" in plan.calibration
    assert not hasattr(model, "params_")


def test_ensemble_refuses_before_training(monkeypatch):
    monkeypatch.setenv(HOST_LIMIT_VARIABLE, "10KB")
    with pytest.raises(ResourceError, match=r"deep ensemble training: 5 members.*Train fewer members at once"):
        DeepEnsemble(epochs=2).fit(np.random.default_rng(0).normal(size=(40, 2)), np.arange(40.0))


def test_a_long_run_holds_at_most_a_capped_chunk_of_draws_on_the_device():
    from bayeskit.infer.nuts import CHUNK_BYTES, _chunk_size

    per_transition = 64 * (100 * 4 + 21)  # 64 chains of a 100-number draw
    assert _chunk_size(1000, 50_000, False, None, per_transition) == CHUNK_BYTES // per_transition
    assert _chunk_size(1000, 50_000, False, 25) == 25  # a checkpoint keeps its interval
    assert _chunk_size(100, 100, False, None, 10**12) == 10  # never below 10 transitions


def test_capped_chunks_give_the_same_draws(monkeypatch):
    import importlib

    nuts_module = importlib.import_module("bayeskit.infer.nuts")  # the module, not the function it exports
    whole = nuts(normal_means, y=Y, key=jax.random.key(3), **SETTINGS)
    per_transition = SETTINGS["num_chains"] * (4 * 4 + 5 + 16)
    monkeypatch.setattr(nuts_module, "CHUNK_BYTES", 16 * per_transition)  # chunks of 16 transitions
    chunked = nuts(normal_means, y=Y, key=jax.random.key(3), **SETTINGS)
    np.testing.assert_array_equal(chunked.draws["mu"], whole.draws["mu"])
