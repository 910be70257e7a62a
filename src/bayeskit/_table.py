"""Reading user tables for the command line: every cell is text until validated, errors name column and line.

Every command reads its file through :func:`read_table`, so every command counts the same
way: a row is named by its line in the file (the header is line 1; blank lines count).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["MISSING", "SEPARATORS", "constant_columns", "line_label", "numeric_column", "read_table"]

MISSING = {"", "nan", "na", "n/a", "null", "none"}
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")  # 1,200 or 12,345.5
_DECIMAL_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})*(,\d*)?$|^[+-]?\d+(,\d*)?$")  # 1.200,5 or 0,25


def _sniff_separator(path: Path, limit: int = 50) -> str:
    """The separator that splits the header and the first lines into the most fields, consistently."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        lines = [line for _, line in zip(range(limit), handle, strict=False) if line.strip()]
    best, best_fields = ",", 1
    for separator in SEPARATORS:
        counts = {len(row) for row in csv.reader(lines, delimiter=separator)}
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = separator, fields
    return best


def _check_header(names: list[str]) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise ValueError(f"column {name!r} appears twice (columns {seen[name]} and {position}); rename one.")
        seen[name] = position


def read_table(path: str | Path, sep: str | None = None):
    """Read a delimited text file with every cell as text, failing clearly on missing, empty or unparsable files.

    The separator (comma, semicolon, tab or pipe) is detected unless ``sep`` is given; a
    repeated column name is an error; ``frame.attrs["lines"]`` holds each row's line number
    and ``frame.attrs["sep"]`` the separator.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise ValueError(f"data file {str(path)!r} does not exist.")
    if path.is_dir():
        raise ValueError(f"data file {str(path)!r} is a folder; give a CSV file.")
    if sep is not None and sep not in SEPARATORS:
        raise ValueError(f"the separator must be one of {', '.join(map(repr, SEPARATORS))}; got {sep!r}.")
    try:
        separator = sep or _sniff_separator(path)
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle, delimiter=separator), None)
        frame = pd.read_csv(
            path, sep=separator, dtype=str, keep_default_na=False, skipinitialspace=True, skip_blank_lines=False
        )
    except pd.errors.EmptyDataError:
        raise ValueError(f"data file {str(path)!r} is empty; expected a header row and data rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"could not parse {str(path)!r} as CSV: {error}") from None
    if header is not None:
        _check_header([name.strip() for name in header])
    lines = np.arange(len(frame)) + 2  # the header is line 1
    blank = (frame == "").all(axis=1).to_numpy() if len(frame.columns) else np.zeros(len(frame), bool)
    frame = frame.loc[~blank].reset_index(drop=True)
    if frame.empty:
        raise ValueError(f"data file {str(path)!r} has a header but no data rows.")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["lines"] = lines[~blank].tolist()
    frame.attrs["sep"] = separator
    if len(frame.columns) == 1 and header and (other := max(SEPARATORS, key=header[0].count)) != separator:
        if header[0].count(other):
            raise ValueError(
                f"{str(path)!r} looks {SEPARATORS[other]}-separated (its header has {header[0].count(other)} "
                f"{other!r}), but its first lines do not all split into the same number of fields; make every line "
                "have one value per column."
            )
    return frame


def line_label(frame, row: int) -> str:
    """``"line N"``: where 0-based data row ``row`` of ``frame`` sits in its file (header = line 1)."""
    lines = frame.attrs.get("lines")
    return f"line {lines[row] if lines is not None else row + 2}"


def _to_numbers(text, separator: str) -> np.ndarray:
    """Parse text cells to floats, reading grouped numbers too.

    In a comma-separated file a column whose unparsable cells all look like ``1,200`` is
    read with ``,`` as the thousands separator. In a semicolon-separated file a column
    with a decimal comma (``0,25``, ``1.200,5``) is read with ``,`` as the decimal mark
    and ``.`` as the thousands separator; without any comma ``.`` stays the decimal mark.
    """
    import pandas as pd

    if separator == ";" and text.str.contains(",", regex=False).any() and text.str.match(_DECIMAL_COMMA).all():
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, copy=True)
    failed = np.isnan(numbers) & ~text.str.lower().isin(MISSING).to_numpy()
    if separator != ";" and failed.any() and text[failed].str.match(_THOUSANDS).all():
        grouped = text[failed].str.replace(",", "", regex=False)
        numbers[failed] = pd.to_numeric(grouped, errors="coerce").to_numpy(dtype=float)
    return numbers


def numeric_column(frame, column: str, row_label: Callable[[int], str] | None = None) -> np.ndarray:
    """Parse a text column to floats, naming the first missing, non-numeric or infinite cell by its line."""
    label = row_label or (lambda row: line_label(frame, row))
    text = frame[column].astype(str).str.strip()
    missing = text.str.lower().isin(MISSING).to_numpy()
    if missing.any():
        row = int(np.argmax(missing))
        raise ValueError(f"column {column!r} has a missing value at {label(row)}; fill it in or drop the row.")
    numbers = _to_numbers(text, frame.attrs.get("sep", ","))
    bad = np.isnan(numbers)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"column {column!r} must be numeric; {label(row)} has {text.iloc[row]!r}.")
    infinite = np.isinf(numbers)
    if infinite.any():
        row = int(np.argmax(infinite))
        raise ValueError(f"column {column!r} has an infinite value at {label(row)}.")
    return numbers


def constant_columns(x) -> list[str]:
    """Warnings for the columns of the numeric frame ``x`` that hold one value in every row."""
    return [
        f"feature {name!r} is constant ({x[name].iloc[0]:g} in every row): the data say nothing about its "
        "coefficient, which stays where the prior puts it; drop it from --features."
        for name in x.columns
        if len(x) > 1 and np.ptp(x[name].to_numpy(dtype=float)) == 0
    ]
