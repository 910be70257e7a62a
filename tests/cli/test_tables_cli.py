"""How every command reads its file: one reader, so duplicate headers, separators, grouped numbers and line
numbers behave the same in ab, calibrate, fit, track and uq (through the real `bayeskit` entry point)."""

import json

import pytest

from bayeskit._table import line_label, read_table

from .test_cli import bayeskit
from .test_fit_cli import bayeskit_in_process

DUPLICATED = {
    "ab": "variant,visitors,visitors\nA,100,5\nB,120,9\n",
    "calibrate": "label,p_0,p_0\n0,0.5,0.5\n1,0.2,0.8\n",
    "track": "t,x,x\n0,1,1\n1,2,2\n2,3,3\n3,4,4\n",
    "fit": "y,x,x\n1,2,3\n2,3,4\n3,4,5\n",
    "uq": "y,x,x\n1,2,3\n2,3,4\n3,4,5\n",
}


@pytest.mark.parametrize("command", sorted(DUPLICATED))
def test_every_command_rejects_a_duplicate_header(tmp_path, command):
    path = tmp_path / "data.csv"
    path.write_text(DUPLICATED[command])
    extra = ("--target", "y") if command in ("fit", "uq") else ()
    result = (bayeskit if command == "ab" else bayeskit_in_process)(command, str(path), *extra)  # one real run
    assert getattr(result, "returncode", getattr(result, "exit_code", None)) == 2, result.stderr
    assert "appears twice (columns 2 and 3); rename one" in result.stderr
    assert "Traceback" not in result.stderr


AB = "variant,visitors,conversions\ncontrol,1200,50\nB,1100,64\n"


@pytest.mark.parametrize(
    "content",
    [
        AB.replace(",", ";"),
        AB.replace(",", "\t"),
        'variant,visitors,conversions\ncontrol,"1,200",50\nB,"1,100",64\n',  # a spreadsheet's thousands separators
    ],
    ids=["semicolon", "tab", "thousands-comma"],
)
def test_separators_and_grouped_numbers_give_the_same_test(tmp_path, content):
    reference, other = tmp_path / "ref.csv", tmp_path / "other.csv"
    reference.write_text(AB)
    other.write_text(content)
    expected = json.loads(bayeskit_in_process("ab", str(reference), "--json").stdout)
    run = bayeskit if "\t" in content else bayeskit_in_process  # one case through the entry point
    result = run("ab", str(other), "--json")
    assert getattr(result, "returncode", getattr(result, "exit_code", None)) == 0, result.stderr
    assert json.loads(result.stdout)["arms"] == expected["arms"]


def test_decimal_commas_in_a_semicolon_file(tmp_path):
    rows = [(1000 + i + 0.5, 1000 + 1.1 * i, 1.5) for i in range(30)]

    def european(value):
        return f"{value:,.2f}".translate(str.maketrans(",.", ".,"))  # 1000.5 -> 1.000,50

    path, plain = tmp_path / "pred.csv", tmp_path / "plain.csv"
    path.write_text("y;mean;std\n" + "".join(";".join(map(european, row)) + "\n" for row in rows))
    plain.write_text("y,mean,std\n" + "".join(",".join(f"{v:.2f}" for v in row) + "\n" for row in rows))
    assert read_table(path).attrs["sep"] == ";"
    result = bayeskit_in_process("calibrate", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    expected = bayeskit_in_process("calibrate", str(plain), "--json")
    assert json.loads(result.stdout)["metrics"] == json.loads(expected.stdout)["metrics"]


def test_rows_are_named_by_their_line_in_the_file_in_every_command(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("y,x\n1,2\n\n2,oops\n3,4\n")  # the bad cell is on line 4 (a blank line counts)
    assert line_label(read_table(path), 1) == "line 4"
    for command in ("fit", "uq"):
        result = bayeskit_in_process(command, str(path), "--target", "y")
        assert result.exit_code == 2 and "line 4 has 'oops'" in result.stderr, (command, result.stderr)
    track = tmp_path / "track.csv"
    track.write_text("x,y\n1,2\n\n2,oops\n3,4\n")
    result = bayeskit("track", str(track))
    assert result.returncode == 2 and "line 4 has 'oops'" in result.stderr, result.stderr


def test_a_ragged_semicolon_file_is_named(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("variant;visitors;conversions\nA;100;5\nB;120\n")
    result = bayeskit_in_process("ab", str(path))
    assert result.exit_code == 2 and "looks semicolon-separated" in result.stderr, result.stderr
