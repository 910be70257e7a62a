"""Issue #15's checks through the real `bayeskit` entry point: degenerate inputs refused or warned about,
targets that cannot be class labels refused before training, verdicts a reader can act on."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from .test_cli import bayeskit
from .test_fit_cli import bayeskit_in_process


@pytest.fixture()
def continuous_csv(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    path = tmp_path / "continuous.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": x @ [1.0, -0.5] + rng.normal(size=60)}).to_csv(path, index=False)
    return path


def test_classification_of_a_continuous_target_is_refused_before_training(continuous_csv):
    result = bayeskit("uq", str(continuous_csv), "--target", "y", "--task", "classification", "--epochs", "5000")
    assert result.returncode == 2, result.stderr
    assert "has 60 distinct values in 60 rows" in result.stderr and "Use --task regression" in result.stderr
    assert "epoch" not in result.stderr  # nothing was trained


@pytest.mark.parametrize(
    ("command", "content"),
    [("fit", "y,x\n1,2\n"), ("calibrate", "label,p_0,p_1\n0,0.4,0.6\n")],
)
def test_one_row_files_are_refused(tmp_path, command, content):
    path = tmp_path / "one.csv"
    path.write_text(content)
    result = bayeskit_in_process(command, str(path), *(("--target", "y") if command == "fit" else ()))
    assert result.exit_code == 2, result.stderr
    assert "has 1 " in result.stderr and "at least 2" in result.stderr


def test_what_can_be_fitted_but_should_not_is_warned_about(tmp_path):
    path = tmp_path / "data.csv"
    rng = np.random.default_rng(1)
    x = rng.normal(size=12)
    frame = pd.DataFrame({"y": 2 * x + rng.normal(size=12), "x": x, "const": 5.0, "id": [f"r{i}" for i in range(12)]})
    frame.to_csv(path, index=False)
    result = bayeskit("fit", str(path), "--target", "y", "--features", "x,const", "--json")  # the entry point
    assert result.returncode == 0, result.stderr
    assert "feature 'const' is constant (5 in every row)" in result.stderr
    assert any("'const' is constant" in w for w in json.loads(result.stdout)["warnings"])
    tiny = tmp_path / "tiny.csv"
    frame.iloc[:3].to_csv(tiny, index=False)
    few = bayeskit_in_process("fit", str(tiny), "--target", "y", "--features", "x,const")
    assert few.exit_code == 0 and "3 rows for 3 coefficients" in few.stderr
    grouped = bayeskit_in_process(
        "fit",
        str(path),
        "--target",
        "y",
        "--features",
        "x",
        "--group",
        "id",
        "--warmup",
        "30",
        "--samples",
        "30",
        "--chains",
        "1",
        "--json",
    )
    assert "has a different level in every row (12 levels for 12 rows)" in grouped.stderr, grouped.stderr


def test_calibrate_states_a_verdict(tmp_path):
    result = bayeskit("calibrate")  # the bundled classifier is overconfident
    assert result.returncode == 0, result.stderr
    assert "verdict: miscalibrated (overconfident)" in " ".join(result.stdout.split())
    rng = np.random.default_rng(2)
    y = rng.normal(size=400)
    path = tmp_path / "pred.csv"
    pd.DataFrame({"y": y, "mean": 0.0, "std": 1.0}).to_csv(path, index=False)
    good = bayeskit_in_process("calibrate", str(path), "--json")
    verdicts = json.loads(good.stdout)["verdicts"]
    assert verdicts["model"].startswith("calibrated: every interval covers its level")
    pd.DataFrame({"y": y, "mean": 0.0, "std": 0.5}).to_csv(path, index=False)
    narrow = json.loads(bayeskit_in_process("calibrate", str(path), "--json").stdout)["verdicts"]["model"]
    assert narrow.startswith("miscalibrated:") and "too narrow" in narrow
    small = tmp_path / "small.csv"
    pd.DataFrame({"y": y[:30], "mean": 0.0, "std": 1.0}).to_csv(small, index=False)
    assert "only 30 predictions" in bayeskit_in_process("calibrate", str(small)).stderr


def test_abbreviation_is_deterministic_and_never_ambiguous():
    from bayeskit.cli.fit import abbreviate

    names = ["alpha[General Motors Corporation]", "alpha[General Motors Corporations]", "alpha[IBM]", "x"]
    short = abbreviate(names, 22)
    assert short == abbreviate(names, 22)
    assert len(set(short.values())) == len(names)
    assert short["alpha[IBM]"] == "alpha[IBM]" and short["x"] == "x"
    assert all(len(text) <= 22 or text == name for name, text in short.items())


def test_the_fit_table_never_cuts_a_name_or_a_number_at_80_columns(tmp_path):
    rng = np.random.default_rng(0)
    firms = ["General Motors Corporation", "General Electric Company", "General Dynamics Holdings", "IBM"]
    group = rng.choice(firms, 120)
    x = rng.normal(size=120)
    path = tmp_path / "firms.csv"
    pd.DataFrame({"y": x + rng.normal(size=120), "x": x, "firm": group}).to_csv(path, index=False)
    result = bayeskit("fit", str(path), "--target", "y", "--group", "firm", "--warmup", "100", "--samples", "100")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("parameter")) + 2  # header, then the rule
    table = lines[start : start + 8]
    rows = [line.split() for line in table]
    names = [" ".join(row[:-7]) for row in rows]
    assert len(set(names)) == 8 and names[-4:] == ["x", "mu_alpha", "sigma", "tau"]  # 4 groups, then the rest
    assert "alpha[IBM]" in names and all(len(line) <= 80 for line in lines[start - 2 : start + 8])
    for row in rows:
        assert not any("…" in cell for cell in row[-7:])  # every number whole
    assert not any(name.startswith(("z[", "mu_alpha_c")) for name in names)  # internal sites never shown
    assert not re.search(r"at (z\[\d+\]|mu_alpha_c)(?! \()", result.stdout + result.stderr)  # or explained


def test_nothing_is_written_that_was_not_asked_for(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bayeskit", "bandit", "simulate", "--horizon", "200", "--seeds", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []  # no bandit.html by default


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("ab", "--report", "missing/ab.html"), "--report"),
        (("calibrate", "--report", "missing/cal.html"), "--report"),
        (("track", "--report", "missing/t.html"), "--report"),
        (("bandit", "simulate", "--report", "missing/b.html"), "--report"),
        (("fit", "--checkpoint", "missing/run.ckpt"), "--checkpoint"),
        (("optimize", "--study", "missing/s.db"), "--study"),
        (("demo", "--out", "missing/out"), "--out"),
    ],
)
def test_a_missing_parent_folder_is_an_error_not_created(tmp_path, monkeypatch, args, option):
    monkeypatch.chdir(tmp_path)
    result = bayeskit_in_process(*args)  # refused before any work, so in process is as good as the entry point
    assert result.exit_code == 2, result.stderr
    assert f"`{option}`" in result.stderr and "the folder 'missing' does not exist" in result.stderr
    assert not (tmp_path / "missing").exists()


def test_the_ab_table_states_expected_loss_in_the_unit_of_its_sentence():
    result = bayeskit_in_process("ab")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "0.205%" in text and "costs an expected 0.205% of the control's mean" in text  # table = sentence
    assert "P(ROPE): the probability that the arm's lift over the control is within +/-1%" in text
    arms = json.loads(bayeskit_in_process("ab", "--json").stdout)["arms"]
    button = next(arm for arm in arms if arm["name"] == "new_button")
    assert round(100 * button["expected_loss_relative"], 3) == 0.205


def test_a_bad_checkpoint_is_refused_before_anything_compiles(tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    checkpoint.write_bytes(b"not a checkpoint")
    result = bayeskit("fit", "--checkpoint", str(checkpoint))
    assert result.returncode == 2 and "checkpoint" in result.stderr, result.stderr
    assert "compiling the model" not in result.stderr  # a fresh process: the model was never compiled


def test_long_stages_are_labelled(capsys, monkeypatch):
    """The pooling comparison's extra fits are labelled runs, and a labelled bar or stage prints its label."""
    import pandas as pd

    from bayeskit._progress import progress_bar, status
    from bayeskit.models import HierarchicalRegression

    seen = []

    def record(self, X, y, groups=None):
        seen.append((self.pooling, self.progress, self.checkpoint))
        return self

    monkeypatch.setattr(HierarchicalRegression, "fit", record)
    model = HierarchicalRegression(group="g", progress=True, checkpoint="run.ckpt")
    model.fit_pooling_comparison(pd.DataFrame({"x": [0.0], "g": ["a"]}), [0.0])  # recorded, not fitted
    assert seen == [
        ("partial", True, "run.ckpt"),
        ("complete", "complete pooling (comparison 1 of 2)", None),  # never the chosen fit's checkpoint
        ("none", "no pooling (comparison 2 of 2)", None),
    ]
    with progress_bar("warmup", 3, "no pooling (comparison 2 of 2)") as advance:
        advance(3, description="sampling")
    with status("compiling the model", "complete pooling (comparison 1 of 2)"):
        pass
    err = capsys.readouterr().err
    assert "no pooling (comparison 2 of 2): sampling" in err
    assert "complete pooling (comparison 1 of 2): compiling the model" in err


def test_the_demo_summary_uses_the_same_unit_as_its_sentence():
    from rich.console import Console

    from bayeskit.cli.main import _print_ab_summary
    from bayeskit.decide import ab_test_binary

    result = ab_test_binary(["control", "B"], [9580, 9745], [448, 527]).to_dict()
    console = Console(record=True, width=120)
    _print_ab_summary(console, result)
    text = console.export_text()
    loss = next(arm for arm in result["arms"] if arm["name"] == "B")["expected_loss_relative"]
    assert "% of control" in text and f"{loss:.3%}" in text
