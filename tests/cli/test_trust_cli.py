"""Issue #15's checks through the real `bayeskit` entry point: degenerate inputs refused or warned about,
targets that cannot be class labels refused before training, verdicts a reader can act on."""

import json

import numpy as np
import pandas as pd
import pytest

from .test_cli import bayeskit


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
    result = bayeskit(command, str(path), *(("--target", "y") if command == "fit" else ()))
    assert result.returncode == 2, result.stderr
    assert "has 1 " in result.stderr and "at least 2" in result.stderr


def test_what_can_be_fitted_but_should_not_is_warned_about(tmp_path):
    path = tmp_path / "data.csv"
    rng = np.random.default_rng(1)
    x = rng.normal(size=12)
    frame = pd.DataFrame({"y": 2 * x + rng.normal(size=12), "x": x, "const": 5.0, "id": [f"r{i}" for i in range(12)]})
    frame.to_csv(path, index=False)
    result = bayeskit("fit", str(path), "--target", "y", "--features", "x,const", "--json")
    assert result.returncode == 0, result.stderr
    assert "feature 'const' is constant (5 in every row)" in result.stderr
    assert any("'const' is constant" in w for w in json.loads(result.stdout)["warnings"])
    tiny = tmp_path / "tiny.csv"
    frame.iloc[:3].to_csv(tiny, index=False)
    few = bayeskit("fit", str(tiny), "--target", "y", "--features", "x,const")
    assert few.returncode == 0 and "3 rows for 3 coefficients" in few.stderr
    grouped = bayeskit(
        "fit",
        str(path),
        "--target",
        "y",
        "--features",
        "x",
        "--group",
        "id",
        "--warmup",
        "20",
        "--samples",
        "20",
        "--chains",
        "1",
        "--json",
    )
    assert grouped.returncode == 0, grouped.stderr
    assert "has a different level in every row (12 levels for 12 rows)" in grouped.stderr


def test_calibrate_states_a_verdict(tmp_path):
    result = bayeskit("calibrate")  # the bundled classifier is overconfident
    assert result.returncode == 0, result.stderr
    assert "verdict: miscalibrated (overconfident)" in " ".join(result.stdout.split())
    rng = np.random.default_rng(2)
    y = rng.normal(size=400)
    path = tmp_path / "pred.csv"
    pd.DataFrame({"y": y, "mean": 0.0, "std": 1.0}).to_csv(path, index=False)
    good = bayeskit("calibrate", str(path), "--json")
    verdicts = json.loads(good.stdout)["verdicts"]
    assert verdicts["model"].startswith("calibrated: every interval covers its level")
    pd.DataFrame({"y": y, "mean": 0.0, "std": 0.5}).to_csv(path, index=False)
    narrow = json.loads(bayeskit("calibrate", str(path), "--json").stdout)["verdicts"]["model"]
    assert narrow.startswith("miscalibrated:") and "too narrow" in narrow
    small = tmp_path / "small.csv"
    pd.DataFrame({"y": y[:30], "mean": 0.0, "std": 1.0}).to_csv(small, index=False)
    assert "only 30 predictions" in bayeskit("calibrate", str(small)).stderr
