"""`bayeskit ab` end to end: exit codes, JSON schema, report file, bad input."""

import json
import subprocess
import sys

import pytest

from bayeskit.decide.ab import DECISIONS

from .test_fit_cli import bayeskit_in_process


def bayeskit(*args):
    return subprocess.run([sys.executable, "-m", "bayeskit", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    report = tmp_path_factory.mktemp("ab") / "ab.html"
    return bayeskit("ab", "--json", "--report", str(report)), report


def test_bundled_example_json_schema(bundled):
    result, _ = bundled
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr  # no third-party warning reaches a user who did nothing wrong
    payload = json.loads(result.stdout)
    assert payload["decision"] in DECISIONS
    assert payload["layout"] == "aggregated"
    names = [arm["name"] for arm in payload["arms"]]
    assert names == sorted(names) and len(names) == 3
    for arm in payload["arms"]:
        low, high = arm["interval"]
        assert low < arm["mean"] < high
        assert 0 <= arm["prob_best"] <= 1 and arm["expected_loss"] >= 0
    assert sum(arm["prob_best"] for arm in payload["arms"]) == pytest.approx(1.0, abs=1e-8)


def test_report_is_written_and_self_contained(bundled):
    result, report = bundled
    page = report.read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "Prior sensitivity" in page and "Decision:" in page
    assert "wrote" in result.stderr


def test_table_output_and_row_level_file(tmp_path):
    data = tmp_path / "rows.csv"
    data.write_text("group,converted\n" + "A,1\n" * 30 + "A,0\n" * 370 + "B,1\n" * 45 + "B,0\n" * 355)
    result = bayeskit("ab", str(data), "--control", "A")
    assert result.returncode == 0, result.stderr
    assert "Bayesian A/B test" in result.stdout and "decision" in result.stdout


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("variant,visitors,conversions\nA,100,5\nB,120,130\n", [], "line 3 (variant 'B') has 130 > 120"),
        (
            "variant,visitors,conversions\nA,100,x\nB,120,13\n",
            [],
            "column 'conversions' must be numeric; line 2",
        ),
        ("variant,visitors,conversions\nA,100,5\n", [], "only one arm"),
        ("variant,visitors\nA,100\nB,120\n", [], "has no conversions column"),
        ("", [], "is empty"),
        ("variant,visitors,conversions\nA,100,5\nB,120,13\n", ["--control", "Z"], "unknown control 'Z'"),
        ("variant,visitors,conversions\nA,100,5\nB,120,13\n", ["--prob", "2"], "`--prob` must be in (0, 1)"),
        (
            "variant,visitors,conversions\nA,100,5\nB,120,13\n",
            ["--metric", "ratio"],
            "unknown metric 'ratio'",
        ),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path, content, args, message):
    data = tmp_path / "data.csv"
    data.write_text(content)
    result = bayeskit_in_process("ab", str(data), *args)  # refused before any work; the entry point: below
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert data.read_text() == content


def test_missing_file_exits_2(tmp_path):
    result = bayeskit("ab", str(tmp_path / "none.csv"))
    assert result.returncode == 2 and "does not exist" in result.stderr
