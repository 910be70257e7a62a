"""``bayeskit serve`` by its real entry point: it prints its address, answers, refuses bad options, stops on Ctrl-C."""

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from bayeskit.conjugate import BetaBinomial

from .test_interrupt_cli import ENTRY


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(*args):
    return subprocess.Popen(
        [sys.executable, "-c", ENTRY, "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_serve_prints_its_address_answers_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    server = start("--port", str(port), "--study", str(tmp_path / "later.db"))
    try:
        line = server.stdout.readline()  # blocks until the socket listens
        assert f"http://127.0.0.1:{port}/" in line and "Ctrl-C" in line
        url = f"http://127.0.0.1:{port}/api/beta-binomial?alpha=2&beta=2&successes=3&trials=10"
        with urllib.request.urlopen(url, timeout=30) as response:
            answer = json.load(response)
        assert answer["mean"] == pytest.approx(float(BetaBinomial(2, 2).update(3, 10).mean()), rel=1e-12)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/studies", timeout=30) as response:
            assert b"Optimization studies, live" in response.read()
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode in (0, 130), stderr
    assert "does not exist yet" in stderr  # the named study is noted, not refused


def test_bad_options_exit_2_before_listening(tmp_path):
    from .test_fit_cli import bayeskit_in_process

    result = subprocess.run([sys.executable, "-c", ENTRY, "serve", "--port", "0"], capture_output=True, text=True)
    assert result.returncode == 2 and "`--port` must be a whole number from 1 to 65535" in result.stderr
    for args, words in (
        (("--port", "70000"), "from 1 to 65535"),
        (("--study", str(tmp_path)), "`--study` must name a file"),
        (("--checkpoint", str(tmp_path)), "`--checkpoint` must name a file"),
        (("--host", "203.0.113.7"), "cannot listen on 203.0.113.7"),
    ):
        refused = bayeskit_in_process("serve", *args)  # checked before listening: in process is the same
        assert refused.exit_code == 2, (args, refused.stderr)
        assert words in refused.stderr


def test_a_taken_port_is_refused_with_the_fix():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-c", ENTRY, "serve", "--port", str(port)], capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 2 and "Pass another --port" in result.stderr


def test_off_loopback_it_warns(monkeypatch):
    """Checked in process with the server stubbed: a test binds nothing but loopback."""
    from typer.testing import CliRunner

    import bayeskit.cli.serve
    import bayeskit.serve.server
    from bayeskit.cli.main import app
    from bayeskit.serve.server import is_loopback

    calls = []
    monkeypatch.setattr(bayeskit.cli.serve, "check_address", lambda host, port: None)
    monkeypatch.setattr(bayeskit.serve.server, "serve", lambda *args, **kwargs: calls.append(args))
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "9999"])
    assert result.exit_code == 0 and calls and calls[0][:2] == ("0.0.0.0", 9999)
    assert "not loopback" in result.output and "anyone who can reach this machine" in result.output
    quiet = CliRunner().invoke(app, ["serve"])
    assert quiet.exit_code == 0 and "not loopback" not in quiet.output
    assert all(map(is_loopback, ("127.0.0.1", "localhost", "::1", "[::1]", "127.8.9.1")))
    assert not any(map(is_loopback, ("0.0.0.0", "192.0.2.1", "example.org")))
