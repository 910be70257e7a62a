"""Resumable NUTS: a real SIGKILL mid-run loses and repeats nothing; corrupt or foreign checkpoints are refused."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from bayeskit.infer import CheckpointError, nuts
from bayeskit.infer.checkpoint import MAGIC, read_checkpoint

from ._kill_model import SETTINGS, X, Y, logistic, run

HERE = Path(__file__).parent
TOTAL = SETTINGS["num_warmup"] + SETTINGS["num_samples"]


def _progress(path):
    try:
        return read_checkpoint(path)[0]["done"]
    except (FileNotFoundError, CheckpointError):
        return 0


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return run(tmp_path_factory.mktemp("whole") / "run.ckpt")


def test_sigkill_then_resume_loses_and_repeats_no_draw(tmp_path, uninterrupted):
    checkpoint = tmp_path / "run.ckpt"
    env = {**os.environ, "PYTHONPATH": f"{HERE.parent.parent / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from tests.infer._kill_model import run_until_killed; "
            "run_until_killed(sys.argv[1], int(sys.argv[2]))",
            str(checkpoint),
            str(SETTINGS["num_warmup"] + 40),
        ],
        cwd=HERE.parent.parent,
        env=env,
    )
    child.wait(timeout=600)
    assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed: make the model slower"
    killed_at = _progress(checkpoint)
    assert SETTINGS["num_warmup"] < killed_at < TOTAL

    resumed = run(checkpoint)
    assert resumed.details["resumed_from"] == killed_at
    assert resumed.draws["beta"].shape == (SETTINGS["num_chains"], SETTINGS["num_samples"], 4)
    np.testing.assert_array_equal(resumed.draws["beta"], uninterrupted.draws["beta"])
    np.testing.assert_array_equal(
        resumed.idata.sample_stats["diverging"].values, uninterrupted.idata.sample_stats["diverging"].values
    )
    assert _progress(checkpoint) == TOTAL


def test_a_finished_checkpoint_returns_the_same_draws_without_sampling(tmp_path, uninterrupted):
    checkpoint = tmp_path / "run.ckpt"
    run(checkpoint)
    again = run(checkpoint)
    assert again.details["resumed_from"] == TOTAL
    assert again.timings["sampling_s"] == 0.0
    np.testing.assert_array_equal(again.draws["beta"], uninterrupted.draws["beta"])


def test_a_corrupt_checkpoint_is_detected_not_trusted(tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    run(checkpoint)
    raw = bytearray(checkpoint.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    checkpoint.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="corrupt"):
        run(checkpoint)
    checkpoint.write_bytes(bytes(raw[: len(raw) // 3]))  # truncated copy
    with pytest.raises(CheckpointError, match="corrupt"):
        run(checkpoint)
    checkpoint.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a bayeskit NUTS checkpoint"):
        run(checkpoint)
    assert raw.startswith(MAGIC)


def test_a_checkpoint_from_another_run_is_refused(tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    run(checkpoint)
    with pytest.raises(CheckpointError, match="belongs to a different run"):
        nuts(logistic, X, y=1 - Y, key=jax.random.key(3), checkpoint=checkpoint, **SETTINGS)
    with pytest.raises(CheckpointError, match="belongs to a different run"):
        nuts(logistic, X, y=Y, key=jax.random.key(4), checkpoint=checkpoint, **SETTINGS)
