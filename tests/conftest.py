import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Fixed example streams: a failing property test fails the same way every day.
settings.register_profile(
    "bayeskit",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("bayeskit")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def _persistent_compilation_cache() -> None:
    """Reuse compiled JAX programs across test sessions (CI runs on a machine that keeps ~/.cache)."""
    import os
    from pathlib import Path

    import jax

    path = os.environ.get("BAYESKIT_JAX_CACHE", str(Path.home() / ".cache" / "bayeskit" / "jax-tests"))
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


_persistent_compilation_cache()
