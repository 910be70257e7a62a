"""Many tests at once (decide.ab_test_table) against the one-test engine, on pandas and on a real DuckDB file."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from bayeskit.decide import ab_test_binary, ab_test_continuous, ab_test_count, ab_test_table
from bayeskit.decide.table import analyze_statistics, sufficient_statistics


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(3)
    size = 24_000
    segment = rng.choice(["de", "fr", "us"], size)
    variant = rng.choice(["A", "B", "C"], size)
    converted = rng.binomial(1, np.where(variant == "C", 0.12, 0.1))
    pre = rng.gamma(2.0, 10.0, size)
    revenue = 5.0 + 0.7 * pre + rng.normal(0.0, 8.0, size) + np.where(variant == "B", 0.5, 0.0)
    return pd.DataFrame(
        {"segment": segment, "variant": variant, "converted": converted, "pre": pre, "revenue": revenue}
    )


def _arm_columns(table, segment):
    rows = table[table["segment"] == segment].set_index("variant")
    return rows.loc[["A", "B", "C"]]


def test_binary_table_equals_the_one_test_engine(events):
    table = ab_test_table(events, by=["segment"], value="converted")
    for segment in ("de", "fr", "us"):
        part = events[events["segment"] == segment]
        visitors = [int((part["variant"] == v).sum()) for v in "ABC"]
        conversions = [int(part.loc[part["variant"] == v, "converted"].sum()) for v in "ABC"]
        one = ab_test_binary(["A", "B", "C"], visitors, conversions, sensitivity=False, lift=False)
        rows = _arm_columns(table, segment)
        for name in "ABC":
            arm = one.arm(name)
            assert rows.loc[name, "prob_best"] == pytest.approx(arm.prob_best, abs=1e-12)
            assert rows.loc[name, "expected_loss"] == pytest.approx(arm.expected_loss, abs=1e-12)
            if arm.prob_in_rope is not None:
                assert rows.loc[name, "prob_in_rope"] == pytest.approx(arm.prob_in_rope, abs=1e-12)
        assert rows["decision"].iloc[0] == one.decision
        assert rows["srm_p_value"].iloc[0] == pytest.approx(one.srm.p_value, rel=1e-12)


def test_two_arm_tables_of_each_metric_equal_the_one_test_engine(events):
    two = events[events["variant"] != "C"]
    table = ab_test_table(two, by=["segment"], value="converted", rope=0.05)
    part = two[two["segment"] == "fr"]
    visitors = [int((part["variant"] == v).sum()) for v in "AB"]
    conversions = [int(part.loc[part["variant"] == v, "converted"].sum()) for v in "AB"]
    one = ab_test_binary(["A", "B"], visitors, conversions, rope=0.05, sensitivity=False, lift=False)
    rows = table[table["segment"] == "fr"].set_index("variant")
    assert rows.loc["B", "prob_best"] == pytest.approx(one.arm("B").prob_best, abs=1e-12)
    assert rows.loc["B", "prob_in_rope"] == pytest.approx(one.arm("B").prob_in_rope, abs=1e-12)
    assert rows.loc["A", "expected_loss"] == pytest.approx(one.arm("A").expected_loss, abs=1e-12)

    counts = pd.DataFrame({"variant": ["A", "B"], "events": [420, 470], "days": [30.0, 31.5]})
    table = ab_test_table(counts, metric="count", counts="events", exposure="days").set_index("variant")
    one = ab_test_count(["A", "B"], [420, 470], [30.0, 31.5], sensitivity=False, lift=False)
    assert table.loc["B", "prob_best"] == pytest.approx(one.arm("B").prob_best, abs=1e-12)
    assert table.loc["B", "expected_loss"] == pytest.approx(one.arm("B").expected_loss, abs=1e-12)
    assert "srm_p_value" not in table.columns  # exposure is not a count of units

    part = two[two["segment"] == "us"]
    values = [part.loc[part["variant"] == v, "revenue"].to_numpy() for v in "AB"]
    covariate = [part.loc[part["variant"] == v, "pre"].to_numpy() for v in "AB"]
    table = ab_test_table(part, value="revenue", metric="continuous", covariate="pre").set_index("variant")
    one = ab_test_continuous(["A", "B"], values, covariate=covariate, sensitivity=False, lift=False)
    assert table.loc["B", "prob_best"] == pytest.approx(one.arm("B").prob_best, abs=1e-10)
    assert table.loc["B", "mean"] == pytest.approx(one.arm("B").mean, rel=1e-12)
    assert table.loc["B", "variance_reduction"] == pytest.approx(one.adjustment["variance_reduction"], rel=1e-10)


def test_a_duckdb_database_file_gives_the_in_memory_result(events, tmp_path):
    database = tmp_path / "shop.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE TABLE events AS SELECT * FROM events")
    modified = database.stat().st_mtime_ns
    with duckdb.connect(str(database), read_only=True) as connection:
        from_file = ab_test_table(connection.table("events"), by=["segment"], value="converted")
        continuous = ab_test_table(
            connection.sql("SELECT * FROM events WHERE variant <> 'C'"),
            by=["segment"],
            value="revenue",
            metric="continuous",
        )
    assert database.stat().st_mtime_ns == modified
    in_memory = ab_test_table(events, by=["segment"], value="converted")
    pd.testing.assert_frame_equal(from_file, in_memory, check_dtype=False)  # 0/1 sums: exactly equal
    expected = ab_test_table(events[events["variant"] != "C"], by=["segment"], value="revenue", metric="continuous")
    numeric = expected.select_dtypes("number").columns
    np.testing.assert_allclose(continuous[numeric], expected[numeric], rtol=1e-12, atol=1e-12)  # float sums


def test_aggregated_rows_are_summed(events):
    totals = events.groupby(["segment", "variant"], as_index=False).agg(
        visitors=("converted", "size"), conversions=("converted", "sum")
    )
    halves = pd.concat(
        [
            totals.assign(visitors=totals.visitors // 2, conversions=totals.conversions // 2),
            totals.assign(
                visitors=totals.visitors - totals.visitors // 2,
                conversions=totals.conversions - totals.conversions // 2,
            ),
        ]
    )
    from_totals = ab_test_table(halves, by=["segment"], visitors="visitors", conversions="conversions")
    from_events = ab_test_table(events, by=["segment"], value="converted")
    np.testing.assert_array_equal(from_totals["prob_best"], from_events["prob_best"])


def test_a_broken_split_withholds_the_decision():
    stats = pd.DataFrame({"variant": ["A", "B"], "n": [10_000, 10_700], "total": [500, 620]})
    table = analyze_statistics(stats)
    assert set(table["decision"]) == {"withheld"}
    assert table["srm_p_value"].iloc[0] < 1e-3
    planned = analyze_statistics(stats, split=[100, 107])  # the plan was uneven: nothing is wrong
    assert planned["decision"].iloc[0] != "withheld"


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (pd.DataFrame({"variant": ["A"], "x": [1]}), {"value": "converted"}, "column 'converted' (the value)"),
        (pd.DataFrame({"arm": ["A", "B"], "x": [1, 0]}), {"value": "x"}, "column 'variant' (the variant)"),
        (
            pd.DataFrame({"variant": ["A", "B"], "visitors": [0, 10], "conversions": [0, 1]}),
            {"visitors": "visitors", "conversions": "conversions"},
            "group (variant='A') has zero visitors",
        ),
        (
            pd.DataFrame({"variant": ["A", "B"], "visitors": [10, 10], "conversions": [11, 1]}),
            {"visitors": "visitors", "conversions": "conversions"},
            "group (variant='A') has 1 row(s) where 'conversions' > 'visitors'",
        ),
        (pd.DataFrame({"variant": ["A", "B", "B"], "x": [1, 0, 2]}), {"value": "x"}, "that are not 0 or 1"),
        (
            pd.DataFrame({"variant": list("AABB"), "y": [1.0, 2, 3, 4], "pre": [1.0, np.nan, 2, 3]}),
            {"value": "y", "metric": "continuous", "covariate": "pre"},
            "group (variant='A') has 1 missing value(s) in the covariate",
        ),
        (
            pd.DataFrame({"segment": ["x", "x", "y", "y"], "variant": ["A", "B", "B", "C"], "v": [1, 0, 1, 1]}),
            {"value": "v", "by": ["segment"], "control": "A"},
            "the control 'A' is missing from test (segment='y')",
        ),
    ],
)
def test_bad_tables_name_the_column_and_the_group(frame, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ab_test_table(frame, **kwargs)


def test_sufficient_statistics_are_what_the_engine_sees(events):
    stats = sufficient_statistics(events, by=["segment"], value="revenue", metric="continuous", covariate="pre")
    part = events[(events["segment"] == "de") & (events["variant"] == "B")]
    row = stats[(stats["segment"] == "de") & (stats["variant"] == "B")].iloc[0]
    assert row["n"] == len(part)
    assert row["variance"] == pytest.approx(part["revenue"].var(ddof=0), rel=1e-12)
    assert row["covariance"] == pytest.approx(np.cov(part["pre"], part["revenue"], ddof=0)[0, 1], rel=1e-9)


def test_partial_pooling_shrinks_small_segments_most_and_the_model_is_the_normal_normal_one():
    from bayeskit.decide.pooling import pool_effects

    # eight schools (Rubin 1981): the marginal-likelihood tau is 0, every school pooled to the weighted mean
    effects = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
    variances = np.array([15.0, 10, 16, 11, 9, 11, 10, 18]) ** 2
    mean, _, mu, tau = pool_effects(effects, variances)
    assert tau == 0.0 and mu == pytest.approx(np.sum(effects / variances) / np.sum(1 / variances))
    np.testing.assert_allclose(mean, mu)

    rng = np.random.default_rng(4)
    visitors = np.repeat([[300, 300], [20_000, 20_000]], 6, axis=0)
    lifts = np.tile(rng.normal(0.0, 0.15, 6), 2)  # real heterogeneity: tau > 0
    conversions = rng.binomial(visitors, 0.1 * np.stack([np.ones(12), np.exp(lifts)], axis=1))
    stats = pd.DataFrame(
        {
            "segment": np.repeat(np.arange(12), 2),
            "variant": np.tile(["A", "B"], 12),
            "n": visitors.ravel(),
            "total": conversions.ravel(),
        }
    )
    table = analyze_statistics(stats, by=["segment"], pool=["segment"])
    arm = table[~table["is_control"]].reset_index(drop=True)
    raw = np.log(arm["total"] / arm["n"]) - np.log(table.loc[table["is_control"], "total"].to_numpy() / visitors[:, 0])
    pooled = np.log1p(arm["pooled_lift_median"])
    moved = np.abs(pooled - raw)
    assert moved[:6].mean() > 3 * moved[6:].mean()  # the 300-visitor segments move most
    assert np.all(
        (arm["pooled_lift_low"] < arm["pooled_lift_median"]) & (arm["pooled_lift_median"] < arm["pooled_lift_high"])
    )
    assert set(table["pooled_decision"]) <= {"ship", "keep testing", "no meaningful difference"}


def test_partial_pooling_raises_fewer_false_alarms_over_many_small_segments():
    """40 experiments x 20 segments of ~300 visitors per arm, no effect anywhere: P(best) > 0.95 is a false alarm."""
    rng = np.random.default_rng(9)
    num_experiments, num_segments = 40, 20
    visitors = rng.integers(150, 450, (num_experiments, num_segments, 2))
    rates = rng.uniform(0.03, 0.08, (num_experiments, num_segments, 1))  # segments differ; arms do not
    conversions = rng.binomial(visitors, rates)
    stats = pd.DataFrame(
        {
            "experiment": np.repeat(np.arange(num_experiments), num_segments * 2),
            "segment": np.tile(np.repeat(np.arange(num_segments), 2), num_experiments),
            "variant": np.tile(["A", "B"], num_experiments * num_segments),
            "n": visitors.ravel(),
            "total": conversions.ravel(),
        }
    )
    table = analyze_statistics(stats, by=["experiment", "segment"], pool=["segment"])
    assert table["pooled_prob_best"].notna().all()
    # the false alarm that matters: an experiment in which some segment looks like a winner
    alarms = table.assign(raw=table["prob_best"] > 0.95, pooled=table["pooled_prob_best"] > 0.95)
    per_experiment = alarms.groupby("experiment")[["raw", "pooled"]].any().mean()
    assert per_experiment["raw"] > 0.6  # 20 independent looks: 1 - 0.9^20 = 0.88 of experiments alarm
    assert per_experiment["pooled"] < 0.5 * per_experiment["raw"]  # pooled: about the experiment-level 10%
