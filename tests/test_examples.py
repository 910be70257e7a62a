"""Every example script runs to completion (they are what a newcomer tries first)."""

import io
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted(p for p in (Path(__file__).parents[1] / "examples").glob("*.py") if p.name != "make_bundled_data.py")


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script):
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_bundled_data_is_what_the_generator_writes(tmp_path):
    """The CSVs in the package are reproducible from examples/make_bundled_data.py."""
    import importlib.util

    import pandas as pd

    spec = importlib.util.spec_from_file_location(
        "make_bundled_data", Path(__file__).parents[1] / "examples" / "make_bundled_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from bayeskit.datasets import load_dataset

    for name in (
        "coin_flips",
        "measurements",
        "ab_conversions",
        "ab_revenue",
        "calibration_classification",
        "calibration_regression",
        "uq_regression",
    ):
        generated = getattr(module, name)()
        pd.testing.assert_frame_equal(load_dataset(name), pd.read_csv(io.StringIO(generated.to_csv(index=False))))
