"""``bayeskit ab`` on Parquet, a real DuckDB database file and read-only SQL: same answers as the CSV path."""

import json
import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

from bayeskit.cli.main import app


def bayeskit_in_process(*args):
    from typer.testing import CliRunner

    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """An events table as CSV, Parquet and a DuckDB database file (written by DuckDB itself)."""
    rng = np.random.default_rng(8)
    size = 6_000
    events = pd.DataFrame(
        {
            "country": rng.choice(["de", "fr", "us"], size),
            "variant": rng.choice(["A", "B"], size),
            "converted": rng.binomial(1, 0.1, size),
            "pre_revenue": rng.gamma(2.0, 10.0, size).round(2),
        }
    )
    events["revenue"] = (2.0 + 0.8 * events["pre_revenue"] + rng.normal(0.0, 4.0, size)).round(2)
    folder = tmp_path_factory.mktemp("shop")
    events.to_csv(folder / "events.csv", index=False)
    with duckdb.connect(str(folder / "shop.duckdb")) as connection:
        connection.execute("CREATE TABLE events AS SELECT * FROM events")
        connection.execute(f"COPY events TO '{folder / 'events.parquet'}' (FORMAT parquet)")
    return folder


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_parquet_database_and_query_equal_the_csv_path(shop):
    from_csv = _json(bayeskit_in_process("ab", str(shop / "events.csv"), "--metric-col", "converted", "--json"))
    from_parquet = _json(bayeskit_in_process("ab", str(shop / "events.parquet"), "--metric-col", "converted", "--json"))
    database = shop / "shop.duckdb"
    modified = database.stat().st_mtime_ns
    from_table = _json(bayeskit_in_process("ab", "--db", str(database), "--table", "events", "--json"))
    query = "SELECT variant, converted FROM events"
    from_query = _json(bayeskit_in_process("ab", "--db", str(database), "--sql", query, "--json"))
    assert database.stat().st_mtime_ns == modified  # opened read-only
    for other in (from_parquet, from_table, from_query):
        assert other["arms"] == from_csv["arms"]  # 0/1 sums: exactly the same numbers
        assert other["decision"] == from_csv["decision"] and other["srm"] == from_csv["srm"]


def test_segments_and_cuped(shop):
    database = str(shop / "shop.duckdb")
    payload = _json(bayeskit_in_process("ab", "--db", database, "--table", "events", "--segment", "country", "--json"))
    assert payload["segments"] == ["country"] and len(payload["tests"]) == 6
    assert {row["country"] for row in payload["tests"]} == {"de", "fr", "us"}
    fr = pd.read_csv(shop / "events.csv").query("country == 'fr'")
    b = next(row for row in payload["tests"] if row["country"] == "fr" and row["variant"] == "B")
    assert b["n"] == int((fr["variant"] == "B").sum()) and b["total"] == int(
        fr.loc[fr["variant"] == "B", "converted"].sum()
    )

    plain = _json(bayeskit_in_process("ab", "--db", database, "--table", "events", "--metric-col", "revenue", "--json"))
    adjusted = _json(
        bayeskit_in_process(
            "ab",
            "--db",
            database,
            "--table",
            "events",
            "--metric-col",
            "revenue",
            "--covariate",
            "pre_revenue",
            "--json",
        )
    )
    assert plain["metric"] == adjusted["metric"] == "continuous"
    assert adjusted["adjustment"]["variance_reduction"] > 0.5
    width = [p["arms"][1]["interval"][1] - p["arms"][1]["interval"][0] for p in (plain, adjusted)]
    assert width[1] < 0.8 * width[0]


def test_a_broken_split_leads_every_output_and_exits_1(shop, tmp_path):
    report = tmp_path / "ab.html"
    result = bayeskit_in_process(
        "ab",
        str(shop / "events.parquet"),
        "--metric-col",
        "converted",
        "--split",
        "70,30",
        "--json",
        "--report",
        str(report),
    )
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert list(payload)[:2] == ["broken", "banner"] and payload["decision"] == "withheld"
    assert "SAMPLE-RATIO MISMATCH" in payload["banner"] and "SAMPLE-RATIO MISMATCH" in result.stderr
    assert "Experiment broken, decision withheld" in report.read_text()
    text = bayeskit_in_process("ab", str(shop / "events.parquet"), "--metric-col", "converted", "--split", "70,30")
    assert text.exit_code == 1 and text.stdout.lstrip().startswith("╭") and "EXPERIMENT BROKEN" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--sql", "DROP TABLE events"), "must be one read-only SELECT query; got 1 statement(s) (DROP)"),
        (("--sql", "SELECT 1; SELECT 2"), "got 2 statement(s)"),
        (("--sql", "SELECT * FROM missing_table"), "DuckDB could not read the query: Catalog Error"),
        (("--table", "events", "--metric-col", "nope"), "column 'nope' (from --metric-col) is not in the data"),
        (("--table", "events", "--segment", "region"), "column 'region' (from --segment) is not in the data"),
        (("--table", "events", "--split", "50,x"), "`--split` must be comma-separated numbers"),
        (("--table", "events", "--split", "50,30,20"), "`split` must have one weight per arm (2"),
    ],
)
def test_bad_queries_and_options_exit_2_and_leave_the_database_alone(shop, args, message):
    database = shop / "shop.duckdb"
    modified = database.stat().st_mtime_ns
    result = bayeskit_in_process("ab", "--db", str(database), *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert database.stat().st_mtime_ns == modified
    with duckdb.connect(str(database), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM events").fetchone()[0] == 6_000


def test_bad_rows_name_the_group(tmp_path):
    database = tmp_path / "bad.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "CREATE TABLE t AS SELECT * FROM (VALUES ('A', 10, 3), ('B', 10, 12), ('A', 5, 1)) "
            "v(variant, visitors, conversions)"
        )
        connection.execute(
            "CREATE TABLE r AS SELECT * FROM (VALUES ('A', 1.0, NULL), ('A', 2.0, 1.0), ('B', 1.0, 2.0), "
            "('B', 3.0, 1.0)) v(variant, revenue, pre)"
        )
    over = bayeskit_in_process("ab", "--db", str(database), "--table", "t")
    assert over.exit_code == 2 and "group (variant='B') has 1 row(s) where 'conversions' > 'visitors'" in over.stderr
    nan = bayeskit_in_process(
        "ab", "--db", str(database), "--table", "r", "--metric-col", "revenue", "--covariate", "pre"
    )
    assert nan.exit_code == 2 and "group (variant='A') has 1 missing value(s) in the covariate" in nan.stderr


def test_the_real_entry_point_reads_a_database(shop):
    """One subprocess run of the installed command (the others run in process)."""
    result = subprocess.run(
        [sys.executable, "-m", "bayeskit", "ab", "--db", str(shop / "shop.duckdb"), "--table", "events", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # no warning reaches the user
    assert json.loads(result.stdout)["srm"]["broken"] is False


def test_planned_visitors_say_how_settled_the_decision_is(tmp_path):
    data = tmp_path / "ab.csv"
    data.write_text("variant,visitors,conversions\nA,2000,100\nB,2000,112\n")
    payload = _json(bayeskit_in_process("ab", str(data), "--planned-visitors", "10000", "--json"))
    settled = payload["settledness"]
    assert payload["decision"] == "keep testing" and 0.5 < settled["prob_change"] < 0.9 and settled["mcse"] < 0.02
    text = bayeskit_in_process("ab", str(data), "--planned-visitors", "10000")
    assert text.exit_code == 0 and "how settled: if the test runs to 10,000 visitors per arm" in text.stdout
    too_few = bayeskit_in_process("ab", str(data), "--planned-visitors", "1000")
    assert too_few.exit_code == 2 and "against a plan of 1,000" in too_few.stderr


def test_the_bandit_command_runs_the_numpy_engine():
    args = ("bandit", "simulate", "--horizon", "2000", "--seeds", "20", "--engine", "numpy", "--json")
    result = bayeskit_in_process(*args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["engine"] == "numpy"
    wrong = bayeskit_in_process(
        "bandit", "simulate", "--reward", "linear", "--arms", "1,0;0,1", "--engine", "numpy", "--horizon", "100"
    )
    assert wrong.exit_code == 2 and "Use engine='jax'" in wrong.stderr
