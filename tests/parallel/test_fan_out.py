"""fan_out returns the serial loop's results, in order, from worker processes; a killed worker's item is retried,
an item's own error is raised naming the item, and a function the workers cannot load is refused up front."""

import subprocess
import sys

import numpy as np
import pytest

from bayeskit.parallel import ExecutorError, SerialExecutor, fan_out

from ._tasks import KilledOnce, always_killed, fails_on_three, fit_group, jax_config, returns_a_lambda, square

X_GROUP = np.random.default_rng(1).normal(size=(15, 2)).astype(np.float32)
Y_GROUP = (X_GROUP @ np.array([0.5, 1.0]) + 0.3).astype(np.float32)


def test_serial_fan_out_is_the_plain_loop():
    assert fan_out(square, range(6)) == [0, 1, 4, 9, 16, 25]
    assert fan_out(square, [], executor=SerialExecutor()) == []


def test_worker_processes_return_the_serial_results_in_order():
    assert fan_out(square, range(20), workers=2) == [i * i for i in range(20)]


def test_one_model_per_group_in_workers_equals_the_serial_fits():
    rng = np.random.default_rng(0)
    groups = []
    for g in range(4):
        x = rng.normal(size=(15, 2)).astype(np.float32)
        y = (x @ np.array([1.0, -0.5]) + rng.normal(size=x.shape[0])).astype(np.float32)
        groups.append((np.array([0, g], dtype=np.uint32), x, y))
    serial = fan_out(fit_group, groups)
    parallel = fan_out(fit_group, groups, executor="process", workers=2)
    for one, other in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(one["w"], other["w"])  # the same keys: the same draws, bit for bit
    assert not np.array_equal(serial[0]["w"], serial[1]["w"])


@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # Ray fork+execs its daemons
def test_ray_tasks_return_the_serial_fits(local_ray):
    groups = [(np.array([1, g], dtype=np.uint32), X_GROUP, Y_GROUP) for g in range(3)]
    for one, other in zip(fan_out(fit_group, groups), fan_out(fit_group, groups, executor="ray"), strict=True):
        np.testing.assert_array_equal(one["w"], other["w"])


def test_workers_share_the_driver_s_compilation_cache_and_precision():
    import jax

    [(folder, dtype)] = fan_out(jax_config, [0], executor="process", workers=1)
    assert folder == jax.config.jax_compilation_cache_dir and folder  # the tests' cache (conftest.py)
    assert dtype == "float32"
    script = (
        "import jax; jax.config.update('jax_enable_x64', True)\n"
        "from bayeskit.parallel import fan_out\n"
        "from tests.parallel._tasks import jax_config\n"
        "print(fan_out(jax_config, [0], executor='process', workers=1)[0][1])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "float64"


def test_a_killed_worker_s_item_is_retried(tmp_path):
    marker = tmp_path / "killed"
    assert fan_out(KilledOnce(marker), range(6), workers=2) == list(range(6))
    assert marker.exists()


def test_an_item_that_always_kills_its_worker_fails_after_its_retries():
    with pytest.raises(ExecutorError, match=r"item 0 was lost 2 times .* fewer workers"):
        fan_out(always_killed, [0], workers=2, max_retries=1)


def test_an_error_of_the_function_is_raised_naming_the_item():
    for options in ({}, {"workers": 2}):
        with pytest.raises(ValueError, match="three is not allowed") as caught:
            fan_out(fails_on_three, range(5), **options)
        assert "on item 3" in caught.value.__notes__[-1]


def test_a_result_that_cannot_come_back_is_an_error_not_a_lost_worker():
    with pytest.raises(ExecutorError, match=r"the result of item [01] could not come back.*Return plain data"):
        fan_out(returns_a_lambda, [0, 1], workers=2)


def test_bad_input_is_refused_before_any_item_runs():
    with pytest.raises(ExecutorError, match=r"cannot be sent to worker processes.*top level"):
        fan_out(lambda x: x, range(3), workers=2)
    with pytest.raises(ValueError, match="`max_retries` must be an int >= 0; got -1"):
        fan_out(square, range(3), max_retries=-1)
    with pytest.raises(ValueError, match="`workers` must be an int >= 1; got 0"):
        fan_out(square, range(3), executor="process", workers=0)


def test_a_script_without_a_main_guard_gets_the_fix_in_the_error(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from bayeskit.parallel import fan_out\n\n\ndef double(x):\n    return 2 * x\n\n\n"
        "print(fan_out(double, [1, 2], workers=2))\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert 'if __name__ == "__main__":' in out.stderr and "a worker died while loading" in out.stderr
