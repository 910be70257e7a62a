"""Ctrl-C through the real `bayeskit` entry point: every command says what it kept and exits 130.

Each test waits for a condition (a checkpoint or study on disk) or for a run that lasts far longer than the
wait, then sends SIGINT as a terminal would."""

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

# The console script's entry point, with SIGINT handled as in a terminal even when this test runs as a
# background job (whose children start with SIGINT ignored); no preexec_fn, so no fork of a JAX process.
ENTRY = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv = ['bayeskit', *sys.argv[1:]]; from bayeskit.cli.main import run; run()"
)


def start(*args, cwd=None):
    return subprocess.Popen(
        [sys.executable, "-c", ENTRY, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
    )


def interrupt(process, ready=lambda: True, timeout=240.0):
    deadline = time.monotonic() + timeout
    while not ready() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, "the command finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def test_fit_keeps_its_checkpoint_and_resumes(tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    args = ("fit", "--warmup", "3000", "--samples", "3000", "--checkpoint", str(checkpoint), "--json")
    code, _, err = interrupt(start(*args), ready=checkpoint.exists)
    assert code == 130, err
    assert "interrupted: the checkpoint" in err and "rerun the same command to resume" in err
    assert "Traceback" not in err and "Segmentation" not in err
    from bayeskit.infer.checkpoint import read_checkpoint

    meta, _ = read_checkpoint(checkpoint)  # complete and readable: the interrupt never tears it
    assert 0 < meta["done"] < 6000


def test_optimize_keeps_its_study(tmp_path):
    (tmp_path / "slow.py").write_text("import time\n\ndef objective(p):\n    time.sleep(0.3)\n    return p['x'] ** 2\n")
    (tmp_path / "space.json").write_text('{"x": {"type": "float", "low": -1, "high": 1}}')
    study = tmp_path / "s.db"

    def three_done():
        if not study.exists():
            return False
        try:
            with sqlite3.connect(study) as db:
                return db.execute("SELECT COUNT(*) FROM trials WHERE state = 'complete'").fetchone()[0] >= 3
        except sqlite3.OperationalError:  # the file exists, its table not yet
            return False

    args = ("optimize", "slow:objective", "--space", "space.json", "--study", "s.db", "--trials", "200")
    code, _, err = interrupt(start(*args, cwd=tmp_path), ready=three_done)
    assert code == 130 and "interrupted: the study 's.db' keeps every finished trial" in err, err
    again = subprocess.run(
        [sys.executable, "-m", "bayeskit", *args[:-1], "5"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    assert "resuming the study in 's.db'" in again.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("uq", "--epochs", "100000"),
        ("bandit", "simulate", "--horizon", "5000000", "--seeds", "200", "--report", ""),
    ],
    ids=["uq", "bandit"],
)
def test_long_commands_exit_130_and_say_so(args):
    process = start(*args)
    time.sleep(2.5)  # both run for minutes
    code, _, err = interrupt(process)
    assert code == 130, err
    assert "interrupted: nothing was saved" in err and "Traceback" not in err
