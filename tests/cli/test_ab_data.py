"""Reading A/B tables: layout detection, invariances and every bad-input message."""

import io

import numpy as np
import pandas as pd
import pytest

from bayeskit.cli.ab_data import default_control, detect_ab_data, read_table, run_ab_test


def frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)


AGGREGATED = "variant,visitors,conversions\ncontrol,1000,50\nB,1000,64\nC,900,50\n"


def row_level_from_aggregated() -> pd.DataFrame:
    rows = []
    for variant, visitors, conversions in (("control", 1000, 50), ("B", 1000, 64), ("C", 900, 50)):
        rows += [(variant, "1")] * conversions + [(variant, "0")] * (visitors - conversions)
    return pd.DataFrame(rows, columns=["variant", "converted"])


def test_aggregated_and_row_level_give_the_same_result():
    aggregated = run_ab_test(detect_ab_data(frame(AGGREGATED)), sensitivity=False)
    rows = row_level_from_aggregated()
    row_level = run_ab_test(detect_ab_data(rows), sensitivity=False)
    assert aggregated.to_dict()["arms"] == row_level.to_dict()["arms"]
    shuffled = rows.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert run_ab_test(detect_ab_data(shuffled), sensitivity=False).to_dict()["arms"] == aggregated.to_dict()["arms"]


def test_row_order_of_aggregated_data_does_not_matter():
    reordered = "variant,visitors,conversions\nC,900,50\nB,1000,64\ncontrol,1000,50\n"
    one = run_ab_test(detect_ab_data(frame(AGGREGATED)), sensitivity=False).to_dict()
    two = run_ab_test(detect_ab_data(frame(reordered)), sensitivity=False).to_dict()
    assert one == two


def test_daily_rows_are_summed_per_arm():
    daily = "day,variant,visitors,conversions\n1,A,500,20\n1,B,500,30\n2,A,500,30\n2,B,500,34\n"
    data = detect_ab_data(frame(daily))
    np.testing.assert_array_equal(data.visitors, [1000, 1000])
    np.testing.assert_array_equal(data.conversions, [50, 64])


def test_layouts_are_detected():
    assert detect_ab_data(frame("arm,count,exposure\nA,5,10\nB,7,10\n")).metric == "count"
    values = "variant,revenue\nA,1.5\nA,2.5\nB,3.0\nB,0.0\n"
    assert detect_ab_data(frame(values)).metric == "continuous"
    assert detect_ab_data(frame("group,clicked\nA,1\nA,0\nB,1\n"), metric_col="clicked").metric == "binary"
    assert default_control(("B", "control", "Z")) == "control"
    assert default_control(("beta", "alpha")) == "beta"


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        (
            "variant,visitors,conversions\nA,100,5\nB,120,130\n",
            {},
            r"'conversions' must be <= 'visitors' in every row; line 3 \(variant 'B'\) has 130 > 120",
        ),
        (
            "variant,visitors,conversions\nA,100,five\nB,120,13\n",
            {},
            r"column 'conversions' must be numeric; line 2 \(variant 'A'\) has 'five'",
        ),
        (
            "variant,visitors,conversions\nA,100,\nB,120,13\n",
            {},
            r"column 'conversions' has a missing value at line 2 \(variant 'A'\)",
        ),
        ("variant,visitors,conversions\nA,100,NaN\nB,120,13\n", {}, r"missing value at line 2"),
        (
            "variant,visitors,conversions\nA,inf,5\nB,120,13\n",
            {},
            r"column 'visitors' has an infinite value at line 2",
        ),
        (
            "variant,visitors,conversions\nA,100,-5\nB,120,13\n",
            {},
            r"column 'conversions' must be >= 0; line 2 \(variant 'A'\) has -5",
        ),
        (
            "variant,visitors,conversions\nA,100.5,5\nB,120,13\n",
            {},
            r"column 'visitors' must hold whole numbers",
        ),
        ("variant,visitors,conversions\nA,100,5\nA,120,13\n", {}, r"only one arm \('A'\)"),
        (
            "variant,visitors,conversions\n,100,5\nB,120,13\n",
            {},
            r"column 'variant' \(the variant\) is empty at line 2",
        ),
        ("foo,visitors,conversions\nA,100,5\nB,120,13\n", {}, r"could not find the variant column"),
        ("variant,a,b\nA,1,2\nB,1,2\n", {}, r"could not tell the metric column"),
        ("variant,visitors\nA,100\nB,120\n", {}, r"looks aggregated but has no conversions column"),
        ("variant,conversions\nA,10\nB,12\n", {}, r"looks aggregated but has no visitors column"),
        ("variant,exposure\nA,10\nB,12\n", {}, r"looks aggregated but has no count column"),
        (
            "variant,converted\nA,1\nB,2\n",
            {"metric": "binary"},
            r"must be 0 or 1 for a binary metric; line 3 \(variant 'B'\) has 2",
        ),
        (
            "variant,converted\nA,1\nB,0\n",
            {"metric_col": "nope"},
            r"column 'nope' \(from --metric-col\) is not in the file",
        ),
        (
            "variant,converted\nA,1\nB,0\n",
            {"metric": "ratio"},
            r"unknown metric 'ratio'; choose one of 'binary', 'count', 'continuous'",
        ),
    ],
)
def test_bad_tables(text, kwargs, message):
    with pytest.raises(ValueError, match=message):
        detect_ab_data(frame(text), **kwargs)


def test_read_table_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        read_table(empty)
    header = tmp_path / "header.csv"
    header.write_text("variant,visitors,conversions\n")
    with pytest.raises(ValueError, match="has a header but no data rows"):
        read_table(header)
    with pytest.raises(ValueError, match="does not exist"):
        read_table(tmp_path / "missing.csv")
