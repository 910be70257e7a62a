"""The `bayeskit` command end to end, as a user runs it."""

import json
import subprocess
import sys

import pytest

from bayeskit.decide.ab import DECISIONS


def bayeskit(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "bayeskit", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_help_and_version():
    result = bayeskit("--help")
    assert result.returncode == 0
    assert "demo" in result.stdout
    version = bayeskit("--version")
    assert version.returncode == 0 and version.stdout.startswith("bayeskit ")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = bayeskit("demo", "--out", str(out), "--json", "--quick")  # the full demo is `make demo`
    return result, out


def test_demo_writes_a_self_contained_report(demo_run):
    result, out = demo_run
    assert result.returncode == 0, result.stderr
    page = (out / "index.html").read_text()
    # 5 conjugate + 3 A/B + 3 calibration + 5 regression (intervals, trace, rank, predictive check, shrinkage)
    # + 4 neural-network regression (through the gap, intervals, decomposition, calibration) + 3 classification
    # (reliability, entropies, uncertainty map) + 3 VAE (ELBO terms, images, latent space) + track + bandit regret
    # + 3 topics (word bars, document-topic map, bound per pass) + 1 continual (forgetting curves)
    assert page.count("data:image/png;base64,") == 32
    assert 'src="http' not in page and "<script src" not in page
    headings = ("Coin flips", "MLE vs MAP", "Robust estimation", "Bayes factor", "A/B test", "Calibration of a")
    for heading in (
        *headings,
        "Bayesian gaussian regression of log_invest",
        "Neural network uncertainty: ensemble",
        "Variational autoencoder",
        "Tracking: bundled track",
        "Bandit simulation: bernoulli arms",
        "10 topics of",
        "Continual learning: 3 permuted-digit tasks",
    ):
        assert heading in page


def test_demo_json_on_stdout_and_messages_on_stderr(demo_run):
    result, _ = demo_run
    payload = json.loads(result.stdout)
    assert payload["ab_test"]["decision"] in DECISIONS
    raw, scaled = payload["calibration"]["classification"].values()
    assert scaled["ece"] < raw["ece"]  # the demo's side by side: recalibration helps on unseen rows
    conjugate = payload["conjugate"]
    assert conjugate["num_flips"] == 100
    low, high = conjugate["posterior"]["eti_95"]
    assert low < conjugate["posterior"]["mean"] < high
    robust = conjugate["robust"]
    assert abs(robust["student_t_loc"] - robust["mean_of_good_weighings"]) < abs(
        robust["gaussian_mle_mean"] - robust["mean_of_good_weighings"]
    )
    assert "wrote" in result.stderr
    assert "next: bayeskit serve" in result.stderr and "http://127.0.0.1:8765/" in result.stderr  # a next step
    assert payload["uq"]["regression"]["metrics"]["coverage_95"] > 0.85
    assert payload["uq"]["classification"]["metrics"]["accuracy"] > 0.8
    vae = payload["vae"]["held_out"]
    assert vae["kl"] > 0 and vae["elbo"] < vae["log_likelihood_iw100"] < 0
    assert len(payload["topics"]["topics"]) == 10 and payload["topics"]["documents"] > 1000
    continual = payload["continual"]
    assert continual["online-laplace"]["first_task_forgetting"] < continual["finetune"]["first_task_forgetting"]
    check = payload["track"]["check_against_truth"]
    assert check["rmse_smoothed"] < check["rmse_filtered"] < check["rmse_raw"]
    regret = {row["policy"]: row["regret"] for row in payload["bandit"]}
    assert regret["thompson"] < regret["epsilon-greedy"] and regret["thompson"] < regret["ucb"]
    fit = payload["fit"]
    assert fit["trustworthy"] and fit["group"] == "firm" and fit["summary"]["log_value"]["mean"] > 0


def test_bad_output_path_exits_2_with_a_message(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("keep me")
    result = bayeskit("demo", "--out", str(blocker))
    assert result.returncode == 2
    assert "`--out` must be a folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert blocker.read_text() == "keep me"


def test_unknown_command_exits_2():
    result = bayeskit("nope")
    assert result.returncode == 2
    assert "No such command" in result.stderr
