"""`bayeskit track` and `bayeskit bandit simulate` end to end, with bad input exiting 2."""

import json

import numpy as np
import pandas as pd
import pytest

from .test_fit_cli import bayeskit_in_process


@pytest.fixture(scope="module")
def track_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    t = np.arange(60.0)
    speed = 2.0 + np.cumsum(rng.normal(0, 0.05, 60))  # per step of 0.5: the east velocity drifts around 4
    east, north = np.cumsum(speed) + rng.normal(0, 1, 60), -t + rng.normal(0, 1, 60)
    frame = pd.DataFrame({"time": 0.5 * t, "east": east, "north": north})
    frame.attrs["final_east_velocity"] = speed[-1] / 0.5
    frame.loc[[5, 6, 30], "east"] = np.nan  # missed detections
    path = tmp_path_factory.mktemp("track") / "track.csv"
    frame.to_csv(path, index=False)
    return path, frame.attrs["final_east_velocity"]


def test_bundled_track_beats_the_raw_detections_and_covers_the_truth(tmp_path):
    report = tmp_path / "track.html"
    result = bayeskit_in_process("track", "--json", "--report", str(report))
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    check = payload["check_against_truth"]
    assert check["rmse_smoothed"] < check["rmse_filtered"] < 0.7 * check["rmse_raw"]
    assert 0.9 < check["coverage_filtered"] <= 1.0 and check["coverage_smoothed"] > 0.9
    assert abs(payload["measurement_noise"] - 16.0) < 3.0  # the data's 4 m noise, learned
    assert len(payload["smoothed"]) == payload["num_steps"] == 240 and payload["num_missing"] == 14 + 5
    assert report.read_text().count("data:image/png;base64,") == 1


def test_users_file_with_a_time_column_and_fixed_noise(track_csv):
    track_csv, final_velocity = track_csv
    args = ("track", str(track_csv), "--cols", "east,north", "--time-col", "time", "--json")
    result = bayeskit_in_process(*args, "--measurement-noise", "1.0")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["dt"] == 0.5 and payload["measurement_noise"] == 1.0
    assert payload["noise_learned"] == {"process": True, "measurement": False}
    velocity = {row["state"]: row for row in payload["final_state"]}
    assert velocity["velocity_east"]["low"] < final_velocity < velocity["velocity_east"]["high"]
    text = bayeskit_in_process("track", str(track_csv), "--cols", "east,north", "--time-col", "time")
    assert text.exit_code == 0 and "Smoothed final state" in text.stdout


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        (lambda f: f.assign(east=f["east"].astype(object).where(f.index != 3, "far")), (), "line 5 has 'far'"),
        (lambda f: f.assign(time=f["time"].where(f.index != 10, 99.0)), (), "column 'time' must increase"),
        (lambda f: f.assign(time=f["time"] ** 1.01), (), "time steps must be regular"),
        (lambda f: f, ("--dt", "2"), "`--dt` 2 disagrees with the time column's step 0.5"),
        (lambda f: f, ("--measurement-noise", "-1"), "`--measurement-noise` must be a positive variance"),
        (lambda f: f.assign(north=np.nan), (), "a column with no observed value"),
        (lambda f: f, ("--cols", "east,up"), "`--cols` ['up'] not in the data"),
    ],
)
def test_bad_track_input_exits_2(tmp_path, track_csv, edit, args, message):
    path = tmp_path / "bad.csv"
    edit(pd.read_csv(track_csv[0])).to_csv(path, index=False)
    base = ("track", str(path), "--time-col", "time")
    result = bayeskit_in_process(*base, *(args if "--cols" in args else ("--cols", "east,north", *args)))
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr.replace("\n", " ") or pytest.fail(result.stderr)


def test_bandit_simulate_prints_regret_and_writes_the_report(tmp_path):
    report = tmp_path / "bandit.html"
    args = ("bandit", "simulate", "--arms", "0.2,0.3,0.5", "--horizon", "3000", "--seeds", "16")
    result = bayeskit_in_process(*args, "--json", "--report", str(report))
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    regret = {row["policy"]: row for row in payload["summary"]}
    assert regret["thompson"]["regret"] < regret["epsilon-greedy"]["regret"]
    assert regret["thompson"]["best arm share"] > 0.8 and payload["horizon"] == 3000
    assert report.read_text().count("data:image/png;base64,") == 1
    text = bayeskit_in_process(*args, "--report", "")
    assert text.exit_code == 0 and "regret (mean ± se)" in text.stdout


def test_linear_arms_parse_rows():
    result = bayeskit_in_process(
        "bandit",
        "simulate",
        "--reward",
        "linear",
        "--arms",
        "1,0;0,1",
        "--horizon",
        "500",
        "--seeds",
        "4",
        "--json",
        "--report",
        "",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["arms"] == [[1.0, 0.0], [0.0, 1.0]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--arms", "0.1,abc"), "`--arms` must be numbers"),
        (("--arms", "0.1,1.5"), "Bernoulli arms are probabilities in [0, 1]"),
        (("--arms", "0.1"), "K >= 2 arms"),
        (("--reward", "binomial"), "`--reward` must be one of"),
        (("--horizon", "0"), "`horizon` must be a whole number >= 1"),
        (("--delay", "-2"), "`delay` must be a whole number >= 0"),
        (("--reward", "linear", "--arms", "1,0;1"), "rows must all have the same number"),
        (("--epsilon", "2"), "`epsilon` must be a probability"),
    ],
)
def test_bad_bandit_input_exits_2(args, message):
    result = bayeskit_in_process("bandit", "simulate", "--horizon", "100", "--seeds", "2", "--report", "", *args)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr.replace("\n", " ")


@pytest.mark.parametrize("scale", [1e-6, 1e6, 1e12])
def test_track_is_scale_free(track_csv, tmp_path, scale):
    """Micrometres or kilometres: the same track in the file's units (the noise used to be clamped at e^25)."""
    track_csv, _ = track_csv
    frame = pd.read_csv(track_csv)
    scaled = frame.assign(east=frame["east"] * scale, north=frame["north"] * scale)
    path = tmp_path / "scaled.csv"
    scaled.to_csv(path, index=False)
    args = ("--cols", "east,north", "--time-col", "time", "--json")
    unit = json.loads(bayeskit_in_process("track", str(track_csv), *args).stdout)
    result = bayeskit_in_process("track", str(path), *args)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["trustworthy"] and payload["findings"] == []
    np.testing.assert_allclose(payload["measurement_noise"], unit["measurement_noise"] * scale**2, rtol=1e-4)
    for ours, theirs in zip(payload["final_state"], unit["final_state"], strict=True):
        for key in ("mean", "low", "high"):
            np.testing.assert_allclose(ours[key], theirs[key] * scale, rtol=1e-4, atol=1e-6 * scale)


def test_a_noise_on_its_bound_is_reported_not_learned(tmp_path):
    t = np.arange(30.0)
    path = tmp_path / "line.csv"
    pd.DataFrame({"x": 3.0 * t, "y": -t}).to_csv(path, index=False)  # noise-free: no noise level to learn
    result = bayeskit_in_process("track", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert not payload["trustworthy"] and payload["noise_learned"]["measurement"] is False
    assert "measurement" in payload["noise_on_bound"]
    assert any(f.startswith("log measurement noise") for f in payload["findings"])
    assert "warning:" in result.stderr and "--measurement-noise" in result.stderr
    text = bayeskit_in_process("track", str(path))
    assert "NOT learned" in text.stdout
