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


@pytest.fixture(scope="session")
def local_ray():
    """A local Ray cluster of 2 CPUs, started once per test process by the first test that needs it."""
    import ray  # in the test extra: these tests run, never skip

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _persistent_compilation_cache() -> None:
    """Reuse compiled JAX programs across test sessions and in the CLI subprocesses the tests start.

    The cache lives outside the checkout (CI runs in a fresh clone on a machine that keeps ~/.cache);
    the environment variables reach ``bayeskit`` subprocesses (CLI tests, examples, the demo), where
    JAX reads them at start-up. The package itself never changes JAX's configuration.
    """
    import os
    from pathlib import Path

    import jax

    path = os.environ.get("BAYESKIT_JAX_CACHE", str(Path.home() / ".cache" / "bayeskit" / "jax-tests"))
    settings = {
        "jax_compilation_cache_dir": path,
        "jax_persistent_cache_min_compile_time_secs": 0.05,
        "jax_persistent_cache_min_entry_size_bytes": 0,
    }
    for name, value in settings.items():
        jax.config.update(name, value)
        os.environ.setdefault(name.upper(), str(value))


_persistent_compilation_cache()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say at the end of the run, not only in a skip reason, when the browser or Spark tests did not run."""
    from tests.serve._browser import CHROMIUM, MISSING
    from tests.sources._java import JAVA, MISSING_JAVA

    skipped = terminalreporter.stats.get("skipped", [])
    if CHROMIUM is None and any("test_browser" in getattr(report, "nodeid", "") for report in skipped):
        terminalreporter.write_line(f"NOTE: {MISSING}", yellow=True, bold=True)
    if JAVA is None and any("test_spark" in getattr(report, "nodeid", "") for report in skipped):
        terminalreporter.write_line(f"NOTE: {MISSING_JAVA}", yellow=True, bold=True)


# The files that take longest (measured: `make test` lists the slowest tests), started first. Two workers take whole
# files (`--dist loadfile`); a long file handed out last would leave one worker idle while the other finishes it.
SLOW_FIRST = (
    "tests/cli/test_cli.py",
    "tests/test_posterior_protocol.py",
    "tests/serve/test_browser.py",
    "tests/cli/test_fit_cli.py",
    "tests/cli/test_trust_cli.py",
    "tests/optimize/test_optimize.py",
    "tests/test_examples.py",
    "tests/models/test_regressions.py",
    "tests/cli/test_interrupt_cli.py",
    "tests/infer/test_nuts.py",
    "tests/gp/test_gp_bayes.py",
    "tests/infer/test_nuts_robust.py",
    "tests/statistical/test_sbc.py",
    "tests/gp/test_gp.py",
    "tests/sources/test_spark.py",
    "tests/cli/test_optimize_cli.py",
)


def pytest_collection_modifyitems(session, config, items):
    """Slowest files first, each file's tests in their own order."""
    rank = {path: index for index, path in enumerate(SLOW_FIRST)}

    def order(item):
        path = item.nodeid.split("::", 1)[0]
        return rank.get(path, len(rank))

    items.sort(key=order)  # stable: everything else keeps its collected order
