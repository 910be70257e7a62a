"""Chains and ensemble members sharded over four CPU devices (``--xla_force_host_platform_device_count=4``)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from bayeskit.parallel.devices import check_divisible

ROOT = Path(__file__).resolve().parents[2]
Y = np.random.default_rng(0).normal(1.0, 1.0, 40)
EXACT_MEAN = Y.sum() / (40 + 1 / 100)  # mu ~ N(0, 10^2), y_i ~ N(mu, 1)


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """What tests/parallel/_on_four_devices.py measured in a process with four CPU devices."""
    folder = tmp_path_factory.mktemp("devices")
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
    script = ROOT / "tests" / "parallel" / "_on_four_devices.py"
    done = subprocess.run(
        [sys.executable, str(script), str(folder)], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_process_has_four_devices(four):
    assert four["devices"] == 4


def test_sharded_chains_are_the_vectorized_chains(four):
    vectorized, sharded = four["vectorized"], four["sharded"]
    assert (sharded["method"], sharded["devices"]) == ("sharded", 4)
    assert (vectorized["method"], vectorized["devices"]) == ("vectorized", 1)
    assert sharded["shape"] == vectorized["shape"] == [8, 300]
    # the same transitions from the same keys: float64 round-off is the only difference
    np.testing.assert_allclose(sharded["first"], vectorized["first"], rtol=0, atol=1e-9)
    assert abs(sharded["mean"] - vectorized["mean"]) < 1e-9


def test_sharded_chains_find_the_exact_posterior_mean(four):
    for run in ("sharded", "diag"):
        assert abs(four[run]["mean"] - EXACT_MEAN) < 4 * four[run]["mcse"], run


def test_a_stopped_sharded_run_resumes_to_the_uninterrupted_draws(four):
    assert four["stopped"]
    assert 0 < four["resumed"]["from"] < 500
    np.testing.assert_array_equal(four["resumed"]["first"], four["diag"]["first"])
    assert four["resumed"]["mean"] == four["diag"]["mean"]


def test_auto_chains_are_a_multiple_of_the_devices_and_sharded(four):
    assert four["auto"]["shape"] == [4, 300]
    assert (four["auto"]["method"], four["auto"]["devices"]) == ("sharded", 4)


def test_chains_the_devices_do_not_divide_are_refused_naming_the_fix(four):
    message = four["indivisible"]
    assert "`num_chains` must be a multiple of the 4 local devices" in message
    assert "got num_chains=6" in message and "num_chains=4 or 8" in message and "'vectorized'" in message


def test_sharded_members_train_the_vectorized_ensemble(four):
    fits = four["ensemble"]
    for method in ("sharded", "auto"):
        assert "spec=P('members',)" in fits[method]["sharding"]
        np.testing.assert_allclose(fits[method]["loss"], fits["vectorized"]["loss"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(fits[method]["mean"], fits["vectorized"]["mean"], rtol=1e-4, atol=1e-5)
    assert "SingleDeviceSharding" in fits["vectorized"]["sharding"]
    assert "`members` must be a multiple of the 4 local devices" in four["ensemble_indivisible"]


def test_check_divisible_passes_multiples_and_names_the_nearest_counts():
    assert check_divisible(8, "num_chains", "chain_method='sharded'", devices=4) == 8
    with pytest.raises(ValueError, match=r"num_chains=8\b"):
        check_divisible(3, "num_chains", "chain_method='sharded'", devices=8)
    with pytest.raises(ValueError, match=r"num_chains=8 or 12"):
        check_divisible(10, "num_chains", "chain_method='sharded'", devices=4)


def test_one_device_runs_auto_as_before_and_refuses_a_bad_member_method():
    from bayeskit.nn import DeepEnsemble

    x = np.linspace(-1, 1, 40)[:, None]
    with pytest.raises(ValueError, match="member_method"):
        DeepEnsemble(members=2, epochs=1, member_method="pmap").fit(x, x[:, 0])
    fit = DeepEnsemble(members=2, hidden=(4,), epochs=1).fit(x, x[:, 0])
    assert "SingleDeviceSharding" in str(jax.tree.leaves(fit.params_)[0].sharding)


def test_a_chain_count_that_is_neither_a_number_nor_auto_is_refused():
    from bayeskit.infer import nuts

    with pytest.raises(ValueError, match=r"`num_chains` must be an int >= 1 or 'auto'; got 'four'"):
        nuts(lambda: None, key=jax.random.key(0), num_chains="four")


def test_a_sharded_run_is_estimated_from_its_own_program_on_every_device(four):
    vectorized, sharded = (four["estimates"][method] for method in ("vectorized", "sharded"))
    assert "sharded over 4 devices" in sharded["run"] and sharded["needs"][0]["how"].endswith("4 devices")
    assert sharded["needs"][1:] == vectorized["needs"][1:]  # the same draws on the host
    per_device = [plan["needs"][0]["bytes"] for plan in (vectorized, sharded)]
    assert 0.5 < per_device[1] / per_device[0] < 2  # four devices' quarters add up to about one whole
