"""`bayeskit topics` end to end: the bundled corpus as JSON with a report, a user's file, and every bad input."""

import json

import pytest

from .test_fit_cli import bayeskit_in_process

TEXTS = ["cats purr and cats sleep all day", "dogs bark and dogs run in the park", "cats and dogs play together"]


def test_bundled_docstrings_as_json_with_a_report(tmp_path):
    report = tmp_path / "topics.html"
    result = bayeskit_in_process("topics", "--json", "--topics", "5", "--passes", "2", "--report", str(report))
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["documents"] > 1000 and len(payload["topics"]) == 5
    sizes = [topic["size"] for topic in payload["topics"]]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == pytest.approx(1.0)
    assert all(len(topic["top_words"]) == 10 and -1 <= topic["coherence"] <= 1 for topic in payload["topics"])
    assert len(payload["elbo"]) == 2
    page = report.read_text()
    assert page.count("data:image/png;base64,") == 3 and "Document-topic map" in page


def test_a_text_file_and_a_csv_column(tmp_path):
    lines = tmp_path / "docs.txt"
    lines.write_text("\n".join(TEXTS * 5) + "\n\n")
    result = bayeskit_in_process("topics", str(lines), "--topics", "2", "--words", "3")
    assert result.exit_code == 0, result.stderr
    assert "2 topics of 15 documents" in result.stdout and "cats" in result.stdout
    table = tmp_path / "docs.csv"
    table.write_text("id,body\n" + "\n".join(f"{i},{text}" for i, text in enumerate(TEXTS * 5)))
    result = bayeskit_in_process("topics", str(table), "--column", "body", "--topics", "2", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["documents"] == 15


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.txt"], "is not a file"),
        (["{csv}"], "is a CSV: pass `--column NAME`"),
        (["{csv}", "--column", "text"], "`--column` 'text' is not in"),
        (["{one}"], "holds 1 non-empty document(s); topics need at least 2"),
        (["{txt}", "--topics", "0"], "`--topics` must be >= 1"),
        (["{txt}", "--topics", "40"], "`num_topics` (40) is more than the 15 documents"),
        (["{txt}", "--method", "gibbs"], "unknown method 'gibbs'"),
        (["--column", "body"], "`--column` needs a CSV file"),
    ],
)
def test_bad_input_exits_2_naming_the_fix(tmp_path, args, message):
    files = {"csv": tmp_path / "d.csv", "one": tmp_path / "one.txt", "txt": tmp_path / "d.txt"}
    files["csv"].write_text("id,body\n1,cats\n2,dogs\n")
    files["one"].write_text("only one document here\n")
    files["txt"].write_text("\n".join(TEXTS * 5))
    result = bayeskit_in_process("topics", *[arg.format(**files) for arg in args])
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
