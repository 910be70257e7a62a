"""`bayeskit fit` end to end: bundled default, a user's CSV, checkpoints, banners and every bad input."""

import json

import numpy as np
import pandas as pd
import pytest

from bayeskit.cli.main import app

from .test_cli import bayeskit


def bayeskit_in_process(*args):
    """Run the command in this process, so compiled NUTS programs are shared between tests."""
    from typer.testing import CliRunner

    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    frame = pd.DataFrame({"x": x, "y": 1.0 + 2.0 * x + 0.5 * rng.normal(size=60), "clicked": (x > 0).astype(int)})
    path = tmp_path_factory.mktemp("fit") / "data.csv"
    frame.to_csv(path, index=False)
    return path


def test_bundled_hierarchical_fit_as_json():
    result = bayeskit_in_process("fit", "--json", "--warmup", "300", "--samples", "300")
    assert result.exit_code == 0, result.stderr
    assert "Warning" not in result.stderr  # no third-party warning reaches a user who did nothing wrong
    payload = json.loads(result.stdout)
    assert payload["group"] == "firm" and payload["method"] == "nuts"
    assert {"alpha[IBM]", "log_value", "log_capital", "tau", "sigma"} <= set(payload["summary"])
    assert payload["trustworthy"] == (payload["diagnostics"] == [])
    assert payload["summary"]["log_value"]["mean"] > 0  # investment rises with firm value
    assert payload["loo"]["pareto_k_bad"] >= 0 and payload["timings"]["compile_s"] > 0


def test_a_users_csv_exact_by_default_with_a_report(small_csv, tmp_path):
    report = tmp_path / "fit.html"
    result = bayeskit("fit", str(small_csv), "--target", "y", "--features", "x", "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert "gaussian regression of y (exact" in result.stdout and "intercept" in result.stdout
    page = report.read_text()
    assert page.count("data:image/png;base64,") == 2  # intervals and predictive check (no draws to trace)


def test_logistic_fit_with_laplace(small_csv):
    result = bayeskit(
        "fit", str(small_csv), "--target", "clicked", "--features", "x", "--family", "bernoulli", "--method", "laplace"
    )
    assert result.returncode == 0, result.stderr
    assert "bernoulli regression of clicked (laplace" in result.stdout


def test_a_failing_fit_carries_the_banner_everywhere(tmp_path):
    args = ("fit", "--warmup", "10", "--samples", "20", "--chains", "2")
    text = bayeskit_in_process(*args)
    assert text.exit_code == 0
    assert "DO NOT TRUST THESE NUMBERS" in text.stdout
    assert "DO NOT TRUST THESE NUMBERS" in text.stderr and "do not trust these numbers" in text.stderr
    as_json = bayeskit_in_process(*args, "--json")
    payload = json.loads(as_json.stdout)
    assert payload["trustworthy"] is False and payload["diagnostics"]
    assert {"check", "value", "threshold", "where", "advice"} == set(payload["findings"][0])
    assert "DO NOT TRUST THESE NUMBERS" in as_json.stderr  # a script reading the JSON still sees it on stderr


def test_strict_exits_1_on_failed_checks_and_still_prints_everything(small_csv):
    result = bayeskit_in_process("fit", "--warmup", "10", "--samples", "20", "--chains", "2", "--json", "--strict")
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["trustworthy"] is False  # nothing lost
    assert "--strict: " in result.stderr and "convergence check(s) failed" in result.stderr
    healthy = bayeskit_in_process("fit", str(small_csv), "--target", "y", "--features", "x", "--strict")
    assert healthy.exit_code == 0, healthy.stderr


def test_checkpoint_and_resume_from_the_command_line(tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    args = ("fit", "--json", "--warmup", "100", "--samples", "100", "--checkpoint", str(checkpoint))
    first = bayeskit_in_process(*args)
    assert first.exit_code == 0, first.stderr
    assert checkpoint.exists()
    again = bayeskit_in_process(*args)  # the finished checkpoint is reused: same draws, no sampling
    assert json.loads(again.stdout)["summary"] == json.loads(first.stdout)["summary"]
    assert json.loads(again.stdout)["timings"]["sampling_s"] == 0.0
    assert f"resumed from the checkpoint {str(checkpoint)!r}: 200 of 200 transitions" in again.stderr
    checkpoint.write_bytes(checkpoint.read_bytes()[:-10])
    corrupt = bayeskit_in_process(*args)
    assert corrupt.exit_code == 2 and "corrupt" in corrupt.stderr


@pytest.mark.parametrize(
    ("mass_matrix", "init", "precision"), [("diag", "prior", "float64"), ("lowrank", "pathfinder", "float32")]
)
def test_bayeskits_warmup_from_the_command_line(small_csv, mass_matrix, init, precision):
    result = bayeskit_in_process(
        "fit", str(small_csv), "--target", "y", "--features", "x", "--method", "nuts", "--mass-matrix", mass_matrix,
        "--init", init, "--precision", precision, "--warmup", "300", "--samples", "300", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["mass_matrix"] == mass_matrix and payload["method"] == "nuts"
    assert payload["init"] == init and payload["precision"] == precision
    assert abs(payload["summary"]["x"]["mean"] - 2.0) < 0.3  # y = 1 + 2 x + noise(0.5), 60 rows: sd ~0.07


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "`--target` is required with a data file; columns are: x, y, clicked"),
        (("--target", "sales"), "`--target` column 'sales' is not in the data"),
        (("--target", "y", "--features", "x,z"), "`--features` \\['z'\\] not in the data"),
        (("--target", "y", "--family", "gamma"), "`--family` must be one of gaussian, bernoulli, poisson, student"),
        (("--target", "y", "--family", "bernoulli", "--method", "exact"), "`--method exact` needs `--family gaussian`"),
        (("--target", "y", "--method", "laplace", "--checkpoint", "c"), "`--checkpoint` applies to --method nuts only"),
        (("--target", "y", "--family", "bernoulli", "--method", "laplace"), "`y` must be 0/1 for a logistic model"),
        (("--target", "y", "--method", "gibbs"), "`--method` must be one of exact, laplace, nuts, advi"),
        (("--target", "y", "--method", "nuts", "--mass-matrix", "dense"), "`--mass-matrix` must be one of numpyro,"),
        (("--target", "y", "--mass-matrix", "diag"), "`--mass-matrix` applies to --method nuts only; this fit uses ex"),
        (
            ("--target", "y", "--method", "nuts", "--init", "zero"),
            "`--init` must be one of auto, uniform, prior, pathfinder; got 'zero'",
        ),
        (("--target", "y", "--method", "nuts", "--init", "prior"), "needs --method nuts with one of bayeskit's warmup"),
        (("--target", "y", "--precision", "float16"), "`--precision` must be one of float32, float64; got 'float16'"),
        (("--target", "y", "--precision", "float64"), "the exact fit is float64 already: drop it"),
    ],
)
def test_bad_input_exits_2_with_a_message(small_csv, extra, message):
    import re

    result = bayeskit("fit", str(small_csv), *extra)
    assert result.returncode == 2, result.stderr
    assert re.search(message, result.stderr), result.stderr


def test_text_in_a_numeric_column_is_named_by_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n2,three\n")
    result = bayeskit("fit", str(path), "--target", "y")
    assert result.returncode == 2
    assert "column 'y' must be numeric; line 3 has 'three'" in result.stderr


def test_dry_run_prints_the_memory_and_time_and_fits_nothing(tmp_path):
    checkpoint = tmp_path / "never.npz"
    result = bayeskit_in_process(
        "fit", "--dry-run", "--warmup", "300", "--samples", "300", "--checkpoint", str(checkpoint)
    )
    assert result.exit_code == 0, result.stderr
    assert "nuts: 4 chains x (300 warmup + 300 draws)" in result.stdout and "fits: yes" in result.stdout
    assert "time: about" in result.stdout and "posterior draws in constrained space" in result.stdout
    assert not checkpoint.exists()  # nothing ran past the calibration
    payload = json.loads(
        bayeskit_in_process("fit", "--dry-run", "--json", "--warmup", "300", "--samples", "300").stdout
    )
    assert payload["fits"] and payload["seconds"] > 0 and payload["memory_bytes"]["host"] > 0


def test_a_fit_that_cannot_fit_is_refused_naming_the_fix_and_a_dry_run_says_so(monkeypatch):
    monkeypatch.setenv("BAYESKIT_MEMORY_LIMIT", "30MB")
    refused = bayeskit_in_process("fit", "--warmup", "300", "--samples", "300000")
    assert refused.exit_code == 2
    assert "refused before allocating" in refused.stderr and "Pass num_samples=" in refused.stderr
    dry = bayeskit_in_process("fit", "--dry-run", "--warmup", "300", "--samples", "300000")
    assert dry.exit_code == 1 and "fits: NO" in dry.stdout and "would not fit" in dry.stderr
    monkeypatch.setenv("BAYESKIT_MEMORY_LIMIT", "lots")
    bad = bayeskit_in_process("fit", "--dry-run", "--warmup", "300", "--samples", "300")
    assert bad.exit_code == 2 and "`BAYESKIT_MEMORY_LIMIT` must be a size such as 8GB" in bad.stderr
