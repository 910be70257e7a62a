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
    assert "Warning" not in result.stderr  # no third-party warning reaches a user who did nothing wrong
    payload = json.loads(result.stdout)
    assert payload["method"] == "ensemble" and payload["num_test"] == 120
    metrics = payload["metrics"]
    assert {"rmse", "nll", "crps", "coverage_95", "mean_epistemic_var"} <= set(metrics)
    assert 0.8 <= metrics["coverage_95"] <= 1.0 and metrics["rmse"] < 1.0
    page = report.read_text()
    assert page.count("data:image/png;base64,") == 4  # through the gap, intervals, decomposition, calibration
    assert "through the whole range, gaps in the training rows included" in page


def test_mc_dropout_on_a_users_csv(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100)})
    frame["target"] = frame["a"] - frame["b"] + 0.1 * rng.normal(size=100)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    for method in ("mc-dropout", "laplace", "swag", "bbb"):
        result = bayeskit_in_process("uq", str(path), "--target", "target", "--method", method, "--epochs", "30")
        assert result.exit_code == 0, result.stderr
        assert f"{method} on" in result.stdout and "coverage_95" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--method", "forest"), "`--method` must be one of ensemble, mc-dropout, swag, bbb, laplace"),
        (("--task", "ranking"), "`--task` must be one of regression, classification"),
        (("--task", "classification", "--method", "laplace"), "`--method laplace` is the last-layer Laplace"),
        (("--test-fraction", "0.9"), "`--test-fraction` must be between 0.05 and 0.5"),
        (("--target", "z"), "`--target` column 'z' is not in the data"),
    ],
)
def test_bad_options_exit_2(args, message):
    result = bayeskit_in_process("uq", *args)  # refused before training; the entry point's exit 2: below
    assert result.exit_code == 2
    assert re.search(message, result.stderr), result.stderr


def test_text_in_a_feature_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i}\n" for i in range(30)) + "oops,3\n")
    result = bayeskit("uq", str(path), "--target", "y")
    assert result.returncode == 2 and "column 'x' must be numeric; line 32 has 'oops'" in result.stderr


def test_classification_on_the_bundled_table_with_a_report(tmp_path):
    report = tmp_path / "c.html"
    result = bayeskit_in_process("uq", "--task", "classification", "--json", "--epochs", "60", "--report", str(report))
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["task"] == "classification" and payload["target"] == "label"
    metrics = payload["metrics"]
    assert {"accuracy", "ece", "nll", "brier", "mean_epistemic_mi"} <= set(metrics)
    assert metrics["accuracy"] > 0.8 and metrics["ece"] < 0.15
    assert report.read_text().count("data:image/png;base64,") == 3  # reliability, entropies, uncertainty map


def test_classification_labels_are_checked(tmp_path):
    path = tmp_path / "labels.csv"
    rows = "".join(f"{i},{'yes' if i % 2 else 'no'}\n" for i in range(30))
    path.write_text("x,label\n" + rows + "31,\n")
    result = bayeskit("uq", str(path), "--target", "label", "--task", "classification")
    assert result.returncode == 2 and "column 'label' has a missing class label at line 32" in result.stderr
    path.write_text("x,label\n" + "".join(f"{i},same\n" for i in range(30)))
    result = bayeskit("uq", str(path), "--target", "label", "--task", "classification")
    assert result.returncode == 2 and "has a single class ('same')" in result.stderr


def test_the_report_plots_the_predictive_through_the_gap_and_says_what_it_did():
    """The bundled table has no rows with -1 < x1 < 1: the grid runs through it (shaded) and the title
    compares the epistemic sd there with that over the data (deep ensembles of ReLU nets hardly widen in
    such a gap; the report says so rather than implying they do)."""
    from bayeskit.cli.uq import run_uq
    from bayeskit.report.uq import _grid_figure

    result = run_uq(None, None, None, "ensemble", "regression", 0.2, 60, 0, progress=False)
    figure = _grid_figure(result["_model"], result["_train"], "x1")
    axis = figure.axes[0]
    assert any(t.get_text() == "no training rows" for t in axis.get_legend().get_texts())
    assert re.match(r"epistemic sd in the gap [0-9.e-]+ vs [0-9.e-]+ over the data", axis.get_title())
    low, high = axis.get_xlim()
    assert low < result["_train"][0]["x1"].min() and high > result["_train"][0]["x1"].max()


def test_dry_run_estimates_the_training_without_training():
    result = bayeskit_in_process("uq", "--dry-run", "--epochs", "60")
    assert result.exit_code == 0, result.stderr
    assert "deep ensemble training: 5 members, up to 60 epochs" in result.stdout
    assert "one epoch's scratch" in result.stdout and "time: about" in result.stdout
    assert "coverage_95" not in result.stdout  # nothing was trained or evaluated
