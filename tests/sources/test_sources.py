"""Data where it lives: DuckDB opened read-only and SELECT-only; one aggregation for every engine."""

import duckdb
import pandas as pd
import pytest

from bayeskit.sources import sufficient_statistics
from bayeskit.sources.duckdb import open_source


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "shop.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "CREATE TABLE events AS SELECT (i % 2)::VARCHAR AS variant, (i % 7 = 0)::INT AS x FROM range(700) t(i)"
        )
        connection.execute(f"COPY events TO '{path.with_suffix('.parquet')}' (FORMAT parquet)")
    return path


def test_every_source_gives_the_same_statistics(database):
    expected = sufficient_statistics(
        pd.DataFrame({"variant": [str(i % 2) for i in range(700)], "x": [int(i % 7 == 0) for i in range(700)]}),
        value="x",
    )
    for args in (
        (None, database, "events", None),
        (None, database, None, "SELECT * FROM events"),
        (database.with_suffix(".parquet"), None, None, None),
    ):
        connection, relation, _ = open_source(*args)
        with connection:
            got = sufficient_statistics(relation, value="x")
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM events", r"one read-only SELECT query; got 1 statement\(s\) \(DELETE\)"),
        ("CREATE TABLE t AS SELECT 1", r"\(CREATE\)"),
        ("COPY events TO '/tmp/x.csv'", r"\(COPY\)"),
        ("SELEC 1", "does not parse"),
    ],
)
def test_only_one_select_ever_runs_and_the_file_is_untouched(database, sql, message):
    modified = database.stat().st_mtime_ns
    with pytest.raises(ValueError, match=message):
        open_source(None, database, None, sql)
    assert database.stat().st_mtime_ns == modified
