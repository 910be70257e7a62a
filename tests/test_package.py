"""Package hygiene: fast import, no global JAX changes, explicit randomness."""

import subprocess
import sys

import numpy as np
import pytest

from bayeskit._rng import as_generator


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def test_import_is_lazy_and_leaves_jax_alone():
    out = _python(
        "import sys, bayeskit, bayeskit.conjugate, bayeskit.estimate, bayeskit.info; "
        "print('jax' in sys.modules, 'arviz' in sys.modules, 'matplotlib' in sys.modules)"
    )
    assert out == "False False False"


def test_importing_bayeskit_does_not_change_jax_config():
    out = _python(
        "import jax; before = (jax.config.jax_enable_x64, jax.config.jax_platforms); "
        "import bayeskit, bayeskit.conjugate, bayeskit.info, bayeskit.cli.main; "
        "print(before == (jax.config.jax_enable_x64, jax.config.jax_platforms))"
    )
    assert out == "True"


def test_rng_accepts_generator_seed_and_jax_key_but_never_none():
    import jax

    generator = np.random.default_rng(1)
    assert as_generator(generator) is generator
    assert as_generator(5).uniform() == np.random.default_rng(5).uniform()
    key = jax.random.key(3)
    assert as_generator(key).uniform() == as_generator(jax.random.key(3)).uniform()
    assert as_generator(jax.random.PRNGKey(3)).uniform() == as_generator(jax.random.PRNGKey(3)).uniform()
    with pytest.raises(TypeError, match=r"`key` must be a JAX key, a numpy\.random\.Generator or an int seed"):
        as_generator(None)
    with pytest.raises(TypeError, match="`key` must be"):
        as_generator(True)
    with pytest.raises(ValueError, match="`key` as an int seed must be >= 0"):
        as_generator(-1)
    # different JAX keys give different streams (the key's words seed a SeedSequence, never their sum)
    assert as_generator(jax.random.key(1)).uniform() != as_generator(jax.random.key(2)).uniform()
