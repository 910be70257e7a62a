"""`bayeskit uq` end to end: held-out metrics as JSON, a report, and every bad input exits 2."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from .test_cli import bayeskit
from .test_fit_cli import bayeskit_in_process


def test_bundled_default_as_json_with_a_report(tmp_path):
    report = tmp_path / "uq.html"
    result = bayeskit_in_process("uq", "--json", "--epochs", "60", "--report", str(report))
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["method"] == "ensemble" and payload["num_test"] == 120
    metrics = payload["metrics"]
    assert {"rmse", "nll", "crps", "coverage_95", "mean_epistemic_var"} <= set(metrics)
    assert 0.8 <= metrics["coverage_95"] <= 1.0 and metrics["rmse"] < 1.0
    assert report.read_text().count("data:image/png;base64,") == 3


def test_mc_dropout_on_a_users_csv(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100)})
    frame["target"] = frame["a"] - frame["b"] + 0.1 * rng.normal(size=100)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    for method in ("mc-dropout", "laplace"):
        result = bayeskit_in_process("uq", str(path), "--target", "target", "--method", method, "--epochs", "30")
        assert result.exit_code == 0, result.stderr
        assert f"{method} on" in result.stdout and "coverage_95" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--method", "swag"), "`--method swag` is not available yet"),
        (("--method", "forest"), "`--method` must be one of ensemble, mc-dropout, laplace"),
        (("--task", "classification"), "`--task classification` is not available yet"),
        (("--test-fraction", "0.9"), "`--test-fraction` must be between 0.05 and 0.5"),
        (("--target", "z"), "`--target` column 'z' is not in the data"),
    ],
)
def test_bad_options_exit_2(args, message):
    result = bayeskit("uq", *args)
    assert result.returncode == 2
    assert re.search(message, result.stderr), result.stderr


def test_text_in_a_feature_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i}\n" for i in range(30)) + "oops,3\n")
    result = bayeskit("uq", str(path), "--target", "y")
    assert result.returncode == 2 and "column 'x' must be numeric; row 31 has 'oops'" in result.stderr
