"""Ctrl-C through the real `bayeskit` entry point: every command says what it kept and exits 130.

Each test waits for a condition (a checkpoint or study on disk) or for a run that lasts far longer than the
wait, then sends SIGINT as a terminal would."""

import os
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


def slow_study(folder):
    """Write a 0.3 s objective and its space into ``folder``; return a reader of the study's trial counts by state."""
    (folder / "slow.py").write_text("import time\n\ndef objective(p):\n    time.sleep(0.3)\n    return p['x'] ** 2\n")
    (folder / "space.json").write_text('{"x": {"type": "float", "low": -1, "high": 1}}')
    study = folder / "s.db"

    def states():
        if not study.exists():
            return {}
        try:
            with sqlite3.connect(study) as db:
                return dict(db.execute("SELECT state, COUNT(*) FROM trials GROUP BY state").fetchall())
        except sqlite3.OperationalError:  # the file exists, its table not yet
            return {}

    return states


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
    states = slow_study(tmp_path)
    args = ("optimize", "slow:objective", "--space", "space.json", "--study", "s.db", "--trials", "200")
    code, _, err = interrupt(start(*args, cwd=tmp_path), ready=lambda: states().get("complete", 0) >= 3)
    assert code == 130 and "interrupted: the study 's.db' keeps every finished trial" in err, err
    again = subprocess.run(
        [sys.executable, "-m", "bayeskit", *args[:-1], "5"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    assert "resuming the study in 's.db'" in again.stderr


def test_optimize_with_workers_keeps_its_study_through_ctrl_c_and_a_killed_driver(tmp_path):
    states = slow_study(tmp_path)
    args = ("optimize", "slow:objective", "--space", "space.json", "--study", "s.db", "--workers", "2")
    running = start(*args, "--trials", "200", cwd=tmp_path)
    workers = set()

    def ready():
        workers.update(_children(running.pid))
        return states().get("complete", 0) >= 3

    code, _, err = interrupt(running, ready=ready)
    assert code == 130 and "interrupted: the study 's.db' keeps every finished trial" in err, err
    assert "Traceback" not in err
    assert workers or not os.path.isdir("/proc")
    assert not _still_alive_after(workers)  # Ctrl-C stopped the workers too
    kept = states().get("complete", 0)
    assert kept >= 3 and states().get("running", 0) <= 2  # the trials in flight resume next time

    driver = subprocess.Popen(
        [sys.executable, "-c", ENTRY, *args, "--trials", "200"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    workers = set()
    while states().get("complete", 0) < kept + 3 and time.monotonic() < deadline and driver.poll() is None:
        workers.update(_children(driver.pid))
        time.sleep(0.2)
    driver.kill()  # SIGKILL: no handler runs
    driver.wait(timeout=60)
    assert workers or not os.path.isdir("/proc")
    assert not _still_alive_after(workers)  # the workers noticed their driver was gone
    before = states().get("complete", 0)
    assert before >= kept + 3

    target = before + 4
    again = subprocess.run(
        [sys.executable, "-m", "bayeskit", *args, "--trials", str(target), "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    import json

    trials = json.loads(again.stdout)["trials"]
    assert len(trials) == target and len({t["number"] for t in trials}) == target  # nothing lost, nothing twice
    assert all(t["state"] == "complete" for t in trials)


def _children(pid):
    """Live processes whose parent is ``pid`` (Linux /proc; elsewhere an empty set)."""
    found = set()
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        fields = _status(entry)
        if fields.get("PPid") == str(pid) and fields.get("State", "Z")[0] != "Z":
            found.add(entry)
    return found


def _alive(pids):
    return {pid for pid in pids if _status(pid).get("State", "Z")[0] != "Z"}  # a zombie has ended


def _still_alive_after(pids, timeout=30.0):
    """The processes of ``pids`` still running after ``timeout`` s (multiprocessing's resource tracker, a
    child too, ends a moment after its parent)."""
    deadline = time.monotonic() + timeout
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _alive(pids)


def _status(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            return dict((key, value.strip()) for key, _, value in (line.partition(":") for line in status))
    except OSError:
        return {}


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
