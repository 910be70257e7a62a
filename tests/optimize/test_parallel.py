"""Study.optimize with workers: local processes and a local Ray cluster reach 40 trials, none lost or doubled;
a worker killed mid-trial is retried with the same parameters; bad setups fail before any trial runs."""

import json
import math

import pytest

from bayeskit.optimize import Float, SearchSpace, Study
from bayeskit.parallel import ExecutorError, ProcessExecutor, SerialExecutor, get_executor

from ._objectives import KilledOnce, always_killed, quadratic

SPACE = SearchSpace({"x": Float(-1.0, 1.0), "y": Float(-1.0, 1.0)})


def assert_whole(study, count):
    table = study.trials()
    assert len(table) == count
    numbers = sorted(table["number"])
    assert numbers == list(range(numbers[0], numbers[0] + count))  # none lost, none doubled
    assert (table["state"] == "complete").all(), table[table["state"] != "complete"]
    assert len({(row.x, row.y) for row in table.itertuples()}) == count  # the believer keeps suggestions apart


def test_four_local_workers_reach_40_trials(tmp_path):
    study = Study(SPACE, storage=tmp_path / "s.db", seed=0)
    study.optimize(quadratic, 40, workers=4)
    assert_whole(study, 40)
    assert study.best_value < 0.05
    assert study.worker_losses == 0


def test_a_worker_killed_mid_trial_is_retried_with_the_same_parameters(tmp_path):
    marker = tmp_path / "killed"
    study = Study(SPACE, storage=tmp_path / "s.db", seed=1)
    study.optimize(KilledOnce(marker), 12, workers=3)
    assert_whole(study, 12)
    assert study.worker_losses >= 1  # the killed trial, and any that shared its broken pool
    x, y = (float(v) for v in marker.read_text().split())
    table = study.trials()
    assert ((table["x"] == x) & (table["y"] == y)).sum() == 1  # finished once, on the retry


def test_a_trial_whose_worker_always_dies_is_failed_after_its_retries(tmp_path):
    study = Study(SPACE, seed=0, max_failures=10)
    study.optimize(always_killed, 2, workers=2, max_retries=1)
    table = study.trials()
    assert list(table["state"]) == ["failed", "failed"]
    assert all("lost 2 times" in error for error in table["error"])


def test_the_serial_executor_matches_the_plain_loop():
    plain = Study(SPACE, seed=3).optimize(quadratic, 9)
    serial = Study(SPACE, seed=3).optimize(quadratic, 9, executor=SerialExecutor())
    assert plain.trials().equals(serial.trials())


def test_a_lambda_is_refused_before_any_trial():
    study = Study(SPACE, seed=0)
    with pytest.raises(ExecutorError, match=r"cannot be sent to worker processes.*top level of a module"):
        study.optimize(lambda p: p["x"], 4, workers=2)
    assert len(study.trials()) == 0


def test_an_objective_the_workers_cannot_import_is_refused_before_any_trial(tmp_path, monkeypatch):
    (tmp_path / "elsewhere.py").write_text("def objective(p):\n    return p['x']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import elsewhere

    monkeypatch.syspath_prepend(str(tmp_path / "missing"))
    import sys

    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    study = Study(SPACE, seed=0)
    with pytest.raises(ExecutorError, match=r"workers cannot load the objective \(elsewhere.objective\)"):
        study.optimize(elsewhere.objective, 4, workers=2)
    assert len(study.trials()) == 0


def test_an_unreachable_ray_address_is_refused_before_any_trial():
    study = Study(SPACE, seed=0)
    with pytest.raises(ExecutorError, match=r"no Ray cluster answers at '127\.0\.0\.1:9'"):
        study.optimize(quadratic, 4, address="127.0.0.1:9")
    with pytest.raises(ExecutorError, match="must look like HOST:PORT"):
        study.optimize(quadratic, 4, address="nowhere")
    assert len(study.trials()) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, r"`workers` must be an int >= 1; got 0"),
        ({"executor": "threads"}, r"`executor` must be one of \('serial', 'process', 'ray'\)"),
        ({"executor": "serial", "workers": 3}, "runs one call at a time"),
        ({"executor": "process", "address": "h:1"}, "needs executor='ray'"),
        ({"max_retries": -1}, r"`max_retries` must be an int >= 0"),
    ],
)
def test_bad_settings_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Study(SPACE, seed=0).optimize(quadratic, 2, **kwargs)


def test_get_executor_defaults():
    assert isinstance(get_executor(), SerialExecutor)
    executor = get_executor(workers=2)
    assert isinstance(executor, ProcessExecutor) and executor.workers == 2
    executor.shutdown()


RAY_STARTS_PROCESSES = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # fork+exec of its daemons


@RAY_STARTS_PROCESSES
def test_a_local_ray_cluster_reaches_40_trials(tmp_path, local_ray):
    study = Study(SPACE, storage=tmp_path / "s.db", seed=0)
    study.optimize(quadratic, 40, executor="ray")
    assert_whole(study, 40)
    assert local_ray.is_initialized()  # a cluster the caller started is left running


@RAY_STARTS_PROCESSES
def test_a_ray_worker_killed_mid_trial_is_retried(tmp_path, local_ray):
    marker = tmp_path / "killed"
    study = Study(SPACE, seed=2)
    study.optimize(KilledOnce(marker), 8, executor="ray", workers=2)
    assert marker.exists()
    assert_whole(study, 8)
    assert study.worker_losses >= 1
    assert not math.isnan(study.best_value) and json.dumps(study.best_params)


class BrokenTransport(SerialExecutor):
    """Every call fails on its way back, as a result that cannot be unpickled would: not a lost worker."""

    workers = 2

    def submit(self, fn, /, *args):
        from concurrent.futures import Future

        future = Future()
        future.set_exception(ValueError("cannot unpickle the result"))
        return future


def test_a_call_that_breaks_without_losing_its_worker_fails_its_trial_without_retries():
    study = Study(SPACE, seed=0, max_failures=10)
    study.optimize(quadratic, 2, executor=BrokenTransport())
    table = study.trials()
    assert list(table["state"]) == ["failed", "failed"] and study.worker_losses == 0
    assert all("the call did not complete: ValueError: cannot unpickle" in error for error in table["error"])
