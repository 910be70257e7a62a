"""`bayeskit optimize` end to end: the bundled example, a user's function, resuming, and bad input exiting 2."""

import json
import re

import pytest

from .test_cli import bayeskit
from .test_fit_cli import bayeskit_in_process

OBJECTIVE = """
import math

def objective(params):
    if params["kind"] == "broken":
        return float("nan")
    return (params["x"] - 0.3) ** 2 + params["n"] * 0.01

def quadratic(params):
    return (params["x"] - 0.3) ** 2

def always_nan(params):
    return float("nan")

def always_raises(params):
    raise RuntimeError("the training data are missing")

def not_a_number(params):
    return "good"
"""
SPACE = {
    "x": {"type": "float", "low": -1.0, "high": 1.0},
    "n": {"type": "int", "low": 0, "high": 5},
    "kind": {"type": "categorical", "choices": ["ok", "broken"]},
}


@pytest.fixture()
def project(tmp_path, monkeypatch):
    (tmp_path / "userobjective.py").write_text(OBJECTIVE)
    (tmp_path / "space.json").write_text(json.dumps(SPACE))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_users_function_resumes_from_its_study(project):
    args = ("optimize", "userobjective:objective", "--space", "space.json", "--study", "s.db", "--json")
    first = bayeskit_in_process(*args, "--trials", "10")
    assert first.exit_code == 0, first.stderr
    payload = json.loads(first.stdout)
    assert payload["num_trials"] == 10 and payload["resumed_trials"] == 0
    second = bayeskit_in_process(*args, "--trials", "16", "--report", "bo.html")
    assert second.exit_code == 0, second.stderr
    payload = json.loads(second.stdout)
    assert payload["resumed_trials"] == 10 and payload["num_trials"] == 16
    assert payload["best_params"]["kind"] == "ok" and abs(payload["best_params"]["x"] - 0.3) < 0.2
    assert payload["num_failed"] == sum(t["state"] == "failed" for t in payload["trials"]) >= 1  # NaN = failed
    assert (project / "bo.html").read_text().count("data:image/png;base64,") == 2


def test_bundled_example_tunes_a_deep_ensemble():
    result = bayeskit_in_process("optimize", "--trials", "7", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["target"] == "bayeskit.optimize.examples:tune_ensemble"
    assert set(payload["best_params"]) == {"learning_rate", "weight_decay", "width"}
    assert 0.0 < payload["best_value"] < 2.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nocolon",), "the target must look like MODULE:FUNCTION"),
        (("no_such_module_xyz:f", "--space", "space.json"), "cannot import module 'no_such_module_xyz'"),
        (("userobjective:missing", "--space", "space.json"), "module 'userobjective' has no function 'missing'"),
        (("userobjective:objective",), "`--space` is required with your own function"),
        (("userobjective:objective", "--space", "nope.json"), "`--space` file 'nope.json' does not exist"),
        (("userobjective:objective", "--space", "space.json", "--acquisition", "best"), "unknown acquisition"),
        (("--trials", "0"), "`--trials` must be >= 1"),
        (("--workers", "0"), "`--workers` must be >= 1"),
        (
            ("userobjective:quadratic", "--space", "space.json", "--ray", "127.0.0.1:9"),
            "no Ray cluster answers at '127.0.0.1:9'",
        ),
    ],
)
def test_bad_input_exits_2(project, args, message):
    result = bayeskit("optimize", *args, cwd=project) if "nocolon" in args else bayeskit_in_process("optimize", *args)
    stderr = result.stderr
    code = result.returncode if hasattr(result, "returncode") else result.exit_code
    assert code == 2, stderr
    assert re.search(message, stderr), stderr


def test_workers_run_the_trials_in_worker_processes(project):
    args = ("optimize", "userobjective:quadratic", "--space", "space.json", "--study", "s.db", "--trials", "8")
    result = bayeskit_in_process(*args, "--workers", "2", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["executor"] == "process" and payload["workers"] == 2
    assert payload["num_trials"] == 8 and payload["num_failed"] == 0
    assert len({t["number"] for t in payload["trials"]}) == 8


def test_a_bad_space_file_is_named(project):
    (project / "bad.json").write_text('{"x": {"type": "float", "low": 1}}')
    result = bayeskit_in_process("optimize", "userobjective:objective", "--space", "bad.json")
    assert result.exit_code == 2 and "a float needs 'low' and 'high'" in result.stderr


@pytest.mark.parametrize(
    ("function", "last_error"),
    [
        ("always_raises", "RuntimeError: the training data are missing"),
        ("always_nan", "the objective returned nan"),
        ("not_a_number", "the objective returned 'good', not a number"),
    ],
)
def test_a_study_where_every_trial_failed_exits_1_and_keeps_its_file(project, function, last_error):
    args = ("optimize", f"userobjective:{function}", "--space", "space.json", "--study", "s.db")
    result = bayeskit(*args, "--trials", "3", cwd=project)
    assert result.returncode == 1, result.stderr
    assert "3 trials failed and none completed" in result.stderr and last_error in result.stderr
    assert "best value" not in result.stdout and "'s.db' keeps every trial" in result.stderr
    from bayeskit.optimize import Study
    from bayeskit.optimize.space import SearchSpace

    kept = Study(SearchSpace.from_json(project / "space.json"), storage=project / "s.db").trials()
    assert len(kept) == 3 and (kept["state"] == "failed").all()
    streak = bayeskit_in_process(*args, "--trials", "12")  # resumed: 3 + 2 more reach max_failures=5
    assert streak.exit_code == 1 and "5 trials failed in a row" in streak.stderr and last_error in streak.stderr


def test_the_table_names_the_objective_its_direction_and_the_resume(project):
    args = ("optimize", "userobjective:quadratic", "--space", "space.json", "--study", "s.db")
    first = bayeskit_in_process(*args, "--trials", "1")
    assert first.exit_code == 0, first.stderr
    assert "1 trial (minimized)" in first.stdout and "1 trials" not in first.stdout
    assert "best value of quadratic (lowest found)" in first.stdout
    second = bayeskit_in_process(*args, "--trials", "2", "--direction", "minimize")
    assert "resuming the study in 's.db': 1 trial recorded" in second.stderr
    assert "resumed from s.db" in second.stdout


def test_the_shipped_example_space_and_objective_run_as_documented():
    from pathlib import Path

    folder = Path(__file__).parents[2] / "examples" / "optimize"
    result = bayeskit("optimize", "objective:cv_error", "--space", "space.json", "--trials", "6", "--json", cwd=folder)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload["best_params"]) == {"alpha", "degree", "scale"} and payload["best_value"] > 0
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith((".", "__"))) == [
        "objective.py",
        "space.json",
    ]  # nothing written beside them
    help_text = bayeskit("optimize", "--help").stdout
    assert '"type"' in " ".join(help_text.split()) and "examples/optimize/space.json" in " ".join(help_text.split())
