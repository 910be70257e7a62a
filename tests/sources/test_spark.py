"""The same aggregation on Spark (PySpark in local mode, a real JVM): the in-memory result, exactly.

Spark needs a Java runtime: Debian's ``default-jre-headless`` (``.ci/run`` installs it when ``java`` is
missing). Without one the test is skipped and the run ends with a note; under CI it fails instead.
"""

import os

import numpy as np
import pandas as pd
import pytest

from bayeskit.decide import ab_test_table

from ._java import JAVA, MISSING_JAVA

if JAVA is None and os.environ.get("CI"):
    pytest.fail(MISSING_JAVA, pytrace=False)
pytestmark = [
    pytest.mark.skipif(JAVA is None, reason=MISSING_JAVA),
    # PySpark's own notices about pandas 3 (its conversion code, not ours)
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    # Spark starts its JVM by fork + exec (nothing of JAX runs in the child), which Python flags once JAX is loaded
    pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning"),
]


@pytest.fixture(scope="module")
def spark():
    """A local-mode session whose Python workers run this interpreter (PySpark refuses a mismatch)."""
    import sys

    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable

    session = (
        SparkSession.builder.master("local[1]")
        .appName("bayeskit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "false")  # no pyarrow: the plain conversion
        # A few tiny queries: the JVM's quick JIT tier, one partition, no adaptive planning or whole-stage codegen
        # (measured: 18 s instead of 21 s for the session and the queries)
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_runs_the_same_code_path_and_gives_the_in_memory_result(spark):
    rng = np.random.default_rng(2)
    size = 3_000
    events = pd.DataFrame(
        {
            "segment": rng.choice(["de", "fr"], size),
            "variant": rng.choice(["A", "B"], size),
            "converted": rng.binomial(1, 0.1, size),
            "pre": rng.gamma(2.0, 10.0, size).round(3),
        }
    )
    events["revenue"] = (0.8 * events["pre"] + rng.normal(0.0, 4.0, size)).round(3)
    frame = spark.createDataFrame(events)
    from_spark = ab_test_table(frame, by=["segment"], value="converted")
    pd.testing.assert_frame_equal(
        from_spark, ab_test_table(events, by=["segment"], value="converted"), check_dtype=False
    )
    adjusted = ab_test_table(frame, by=["segment"], value="revenue", metric="continuous", covariate="pre")
    expected = ab_test_table(events, by=["segment"], value="revenue", metric="continuous", covariate="pre")
    numeric = expected.select_dtypes("number").columns
    np.testing.assert_allclose(
        adjusted[numeric], expected[numeric], rtol=1e-9, atol=1e-12
    )  # float sums differ in order
    with pytest.raises(ValueError, match="column 'clicks' \\(the value\\) is not in the table"):
        ab_test_table(frame, value="clicks")
