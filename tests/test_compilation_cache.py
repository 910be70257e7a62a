"""The persistent compilation cache: opt-in in Python, on for the CLI's own process, never over the caller's."""

import json
import os
import subprocess
import sys

import jax

from bayeskit.compilation_cache import enable_compilation_cache

PROBE = """
import json, os, sys
import jax, jax.numpy as jnp
from bayeskit.compilation_cache import enable_compilation_cache
path = enable_compilation_cache()
jax.jit(lambda x: jnp.sin(x) * 2.0)(jnp.ones(3)).block_until_ready()
print(json.dumps({"path": None if path is None else str(path), "config": jax.config.jax_compilation_cache_dir}))
"""

CLI = """
import json, os
from bayeskit.cli.main import _compilation_cache
_compilation_cache()
print(json.dumps({k: v for k, v in os.environ.items() if k.startswith("JAX_")}))
"""


def _run(code, tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "BAYESKIT_"))}
    clean.update(BAYESKIT_CACHE_DIR=str(tmp_path), **env)
    out = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_enabling_the_cache_writes_compiled_programs_to_bayeskits_folder(tmp_path):
    got = _run(PROBE, tmp_path)
    assert got["path"] == got["config"] == str(tmp_path / "jax")
    assert any((tmp_path / "jax").iterdir())  # the jitted program is on disk for the next process


def test_the_cache_stays_off_when_asked(tmp_path):
    got = _run(PROBE, tmp_path, BAYESKIT_COMPILATION_CACHE="0")
    assert got["path"] is None and not got["config"]


def test_a_cache_the_caller_configured_is_kept():
    before = jax.config.jax_compilation_cache_dir  # the test session's own (tests/conftest.py)
    assert str(enable_compilation_cache("/nonexistent/elsewhere")) == before
    assert jax.config.jax_compilation_cache_dir == before


def test_the_command_turns_it_on_for_its_own_process_only_through_the_environment(tmp_path):
    assert _run(CLI, tmp_path)["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "jax")
    assert "JAX_COMPILATION_CACHE_DIR" not in _run(CLI, tmp_path, BAYESKIT_COMPILATION_CACHE="0")
    mine = _run(CLI, tmp_path, JAX_COMPILATION_CACHE_DIR=str(tmp_path / "mine"))
    assert mine["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "mine")
