"""Search spaces, log-EI, and SQLite-backed studies: convergence, crash-resume, failures, batches, bad input."""

import math
import multiprocessing
import os
import signal

import numpy as np
import pytest
from scipy import stats

from bayeskit.optimize import (
    Categorical,
    Float,
    Integer,
    SearchSpace,
    Study,
    StudyFailedError,
    expected_improvement,
    log_expected_improvement,
    minimize,
)

SPACE = SearchSpace({"x1": Float(-5.0, 10.0), "x2": Float(0.0, 15.0)})


def branin(params):
    x1, x2 = params["x1"], params["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def test_space_round_trips_and_snaps():
    space = SearchSpace(
        {"lr": Float(1e-4, 1e-1, log=True), "depth": Integer(1, 6), "act": Categorical(("relu", "tanh", "gelu"))}
    )
    params = {"lr": 3e-3, "depth": 4, "act": "gelu"}
    assert space.dimension == 5
    decoded = space.decode(space.encode(params))
    assert decoded["depth"] == 4 and decoded["act"] == "gelu" and decoded["lr"] == pytest.approx(3e-3)
    assert space.encode({"lr": 1e-4, "depth": 1, "act": "relu"})[0] == pytest.approx(0.0)
    # Every integer owns an equal share of the unit interval.
    counts = np.bincount([space.parameters["depth"].decode(np.array([u])) for u in np.linspace(0, 1, 6001)])
    assert counts[1:].min() > 0.95 * counts[1:].max()
    with pytest.raises(ValueError, match="parameter 'depth' = 9 is outside its range"):
        space.encode({"lr": 1e-3, "depth": 9, "act": "relu"})
    with pytest.raises(ValueError, match="a log-scale parameter needs low > 0"):
        Float(0.0, 1.0, log=True)
    with pytest.raises(ValueError, match="needs a 'type' of 'float', 'int' or 'categorical'"):
        SearchSpace.from_dict({"a": {"low": 0, "high": 1}})
    loaded = SearchSpace.from_dict(
        {"a": {"type": "int", "low": 1, "high": 3}, "b": {"type": "categorical", "choices": [1, 2]}}
    )
    assert isinstance(loaded.parameters["a"], Integer)


def test_log_ei_is_exact_where_ei_is_representable_and_finite_beyond():
    mean, std = np.array([0.0, 1.0, 3.0, -2.0]), np.array([1.0, 0.5, 1.0, 2.0])
    z = (0.0 - mean) / std
    direct = std * (stats.norm.pdf(z) + z * stats.norm.cdf(z))
    np.testing.assert_allclose(log_expected_improvement(mean, std, 0.0), np.log(direct), rtol=1e-10)
    far = log_expected_improvement(np.array([10.0, 40.0, 1e9]), np.ones(3), 0.0)
    assert np.all(np.isfinite(far)) and np.all(np.diff(far) < 0)  # still ranks points where EI underflows
    # EI against Monte Carlo.
    draws = np.random.default_rng(0).normal(0.3, 0.7, size=1_000_000)
    assert expected_improvement(0.3, 0.7, 0.0) == pytest.approx(np.maximum(-draws, 0).mean(), rel=0.01)


def test_study_finds_branins_minimum_and_beats_random_search():
    study = minimize(branin, SPACE, 30, seed=1)
    assert study.best_value < 0.5  # global minimum 0.397887
    random_best = np.median(
        [min(branin(SPACE.decode(u)) for u in np.random.default_rng(s).uniform(size=(30, 2))) for s in range(20)]
    )
    assert study.best_value < random_best
    table = study.trials()
    assert len(table) == 30 and set(table["state"]) == {"complete"}


def _crash_at_seven(path):
    study = Study(SPACE, storage=path, seed=3)

    def objective(params):
        if len(study.trials()) == 7:
            os.kill(os.getpid(), signal.SIGKILL)  # a real crash in the middle of trial 7
        return branin(params)

    study.optimize(objective, 10)


def test_a_killed_study_resumes_without_losing_a_trial(tmp_path):
    path = tmp_path / "study.db"
    child = multiprocessing.get_context("spawn").Process(target=_crash_at_seven, args=(path,))
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    study = Study(SPACE, storage=path, seed=3)
    table = study.trials()
    assert list(table["state"]) == ["complete"] * 6 + ["running"]
    interrupted = table.iloc[6]
    trial = study.ask()
    assert trial.number == interrupted["number"]
    assert trial.params == {"x1": interrupted["x1"], "x2": interrupted["x2"]}  # re-run with the same parameters
    study.tell(trial, branin(trial.params))
    study.optimize(branin, 10)
    assert len(study.trials()) == 10 and set(study.trials()["state"]) == {"complete"}
    with pytest.raises(ValueError, match="was created with another space"):
        Study(SearchSpace({"x1": Float(0.0, 1.0)}), storage=path)


def test_failures_are_recorded_and_a_streak_stops_the_study():
    calls = {"n": 0}

    def flaky(params):
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            return float("nan")
        if calls["n"] % 3 == 1:
            raise RuntimeError("simulation diverged")
        return branin(params)

    study = Study(SPACE, seed=0, max_failures=3).optimize(flaky, 9)
    table = study.trials()
    assert (table["state"] == "failed").sum() == 6
    assert table["error"].str.contains("RuntimeError: simulation diverged").sum() == 3
    assert table["error"].str.contains("returned nan").sum() == 3
    with pytest.raises(StudyFailedError, match="3 trials failed in a row"):
        Study(SPACE, seed=0, max_failures=3).optimize(lambda p: float("nan"), 10)


def test_tell_checks_its_trial_and_batches_are_distinct():
    study = Study(SPACE, seed=0)
    trial = study.ask()
    study.tell(trial, 1.0)
    with pytest.raises(ValueError, match="is already complete"):
        study.tell(trial, 2.0)
    with pytest.raises(ValueError, match="trial 99 is not in this study"):
        study.tell(99, 1.0)
    for _ in range(9):
        t = study.ask()
        study.tell(t, branin(t.params))
    batch = study.ask_batch(3)
    points = {tuple(round(v, 6) for v in t.params.values()) for t in batch}
    assert len(points) == 3


@pytest.mark.parametrize("acquisition", ["ei", "pi", "ucb", "thompson"])
def test_every_acquisition_improves_on_its_start(acquisition):
    study = minimize(branin, SPACE, 16, seed=2, acquisition=acquisition, num_initial=6)
    values = study.trials()["value"].to_numpy()
    assert values[6:].min() < values[:6].min()


def test_constraints_are_respected():
    space = SearchSpace(SPACE.parameters, constraints=(lambda p: p["x1"] + p["x2"] <= 8.0,))
    study = minimize(branin, space, 14, seed=0, num_initial=5)
    assert all(row.x1 + row.x2 <= 8.0 + 1e-9 for row in study.trials().itertuples())


def test_storage_suggestion_and_loop_are_separate_parts(tmp_path):
    import json

    from bayeskit.optimize.storage import TrialStore
    from bayeskit.optimize.suggest import Suggester

    space = SearchSpace({"x": Float(-2.0, 2.0)})
    store = TrialStore(tmp_path / "s.db", {"direction": "minimize"})
    for x in (-1.5, -0.5, 0.4, 1.0, 1.8, 0.1):
        store.finish(store.start({"x": x}), (x - 0.3) ** 2, "complete", None)
    rows = store.rows()
    suggester = Suggester(space, "minimize", "logei", num_initial=5, noisy=False, num_candidates=256, seed=0)
    first, again = suggester.suggest(rows), Suggester(space, "minimize", "logei", 5, False, 256, 0).suggest(rows)
    assert first == again and -2.0 <= first["x"] <= 2.0  # a pure function of the rows and the settings
    assert abs(first["x"] - 0.3) < 0.5  # the GP's acquisition goes where the trials were best
    assert [json.loads(row[1])["x"] for row in store.rows("complete")] == [-1.5, -0.5, 0.4, 1.0, 1.8, 0.1]
    with pytest.raises(ValueError, match="created with another direction"):
        TrialStore(tmp_path / "s.db", {"direction": "maximize"})
    store.close()
