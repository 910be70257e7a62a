"""`bayeskit calibrate` end to end: detection, JSON, report, recalibration on a held-out half, bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

from .test_fit_cli import bayeskit_in_process


def bayeskit(*args):
    return subprocess.run([sys.executable, "-m", "bayeskit", *args], capture_output=True, text=True, timeout=300)


def test_bundled_classification_with_recalibration_and_report(tmp_path):
    report = tmp_path / "calibration.html"
    result = bayeskit("calibrate", "--recalibrate", "--json", "--report", str(report))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["task"] == "classification"
    raw, scaled = payload["metrics"].values()
    assert scaled["ece"] < raw["ece"] / 2  # temperature scaling fixes the overconfidence on unseen rows
    assert scaled["accuracy"] == raw["accuracy"]  # and never changes the argmax
    assert report.read_text().count("data:image/png;base64,") == 2


def test_regression_file_is_detected(tmp_path):
    data = tmp_path / "pred.csv"
    data.write_text("y,mean,std\n" + "".join(f"{i % 7 / 3:.3f},{i % 5 / 3:.3f},1.0\n" for i in range(40)))
    result = bayeskit("calibrate", str(data), "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]["model"]
    assert {"rmse", "nll", "crps", "coverage_95", "miscalibration_area"} <= set(metrics)


def test_quantile_predictions_with_cqr(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    rows = "".join(f"{v:.5f},{-0.8:.3f},0.0,0.8\n" for v in y)  # a too-narrow 90% interval
    data = tmp_path / "quantiles.csv"
    data.write_text("y,q05,q50,q95\n" + rows)
    result = bayeskit("calibrate", str(data), "--recalibrate", "--json")
    assert result.returncode == 0, result.stderr
    raw, conformal = json.loads(result.stdout)["metrics"].values()
    assert raw["coverage_90"] < 0.65 and abs(conformal["coverage_90"] - 0.9) < 0.06


def test_quantile_levels_from_column_names():
    from bayeskit.cli.calibrate import quantile_level

    assert [quantile_level(c) for c in ("q05", "q50", "q975", "q0.9", "q_0.25", "mean")] == [
        0.05,
        0.5,
        0.975,
        0.9,
        0.25,
        None,
    ]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("label,p_0,p_1\n0,0.5,0.6\n", [], "line 2 sums to 1.1"),
        ("label,p_0,p_1\n0,0.5,abc\n", [], "column 'p_1' must be numeric; line 2 has 'abc'"),
        ("label,p_0,p_1\n2,0.5,0.5\n", [], "column 'label' must hold class numbers 0 to 1; line 2 has 2"),
        ("label,p_0,p_1\n0,0.5,0.5\n\n1,0.2,0.9\n", [], "line 4 sums to 1.1"),  # a blank line counts
        ("label,p_0,p_1\n0,0.5,0.5\n1,1.2,-0.2\n", [], "must lie in [0, 1]; line 3 has"),
        ("label,p_0,p_1\n0,,0.5\n", [], "column 'p_0' has a missing value at line 2"),
        ("y,mean,std\n1,0,0\n", [], "must be > 0; got 0"),
        ("a,b\n1,2\n", [], "could not tell the columns apart"),
        ("label,p_0,p_1\n0,0.5,0.5\n", ["--label-col", "nope"], "column 'nope' (from --label-col) is not in the file"),
        ("label,p_0,p_1\n0,0.5,0.5\n", ["--task", "ranking"], "unknown task 'ranking'"),
        ("label,p_0,p_1\n0,0.5,0.5\n1,0.4,0.6\n", ["--recalibrate"], "--recalibrate needs at least 20 rows"),
        ("", [], "is empty"),
        ("y,q05,q95\n1,2,1\n", [], "must not decrease with the level; line 2"),
        (
            "y,lo,hi\n1,0,2\n",
            ["--quantile-cols", "lo,hi", "--quantile-levels", "0.1"],
            "2 quantile columns but 1 level",
        ),
        ("y,lo,hi\n1,0,2\n", ["--quantile-cols", "lo,hi"], "give --quantile-levels"),
    ],
)
def test_bad_input_exits_2(tmp_path, content, args, message):
    data = tmp_path / "pred.csv"
    data.write_text(content)
    result = bayeskit_in_process("calibrate", str(data), *args)  # refused before any work; entry point: elsewhere
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_input_exits_2_through_the_entry_point(tmp_path):
    data = tmp_path / "empty.csv"
    data.write_text("")
    result = bayeskit("calibrate", str(data))
    assert result.returncode == 2 and "is empty" in result.stderr and "Traceback" not in result.stderr
