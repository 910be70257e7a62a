"""Reading user tables for the command line: every cell is text until validated, errors name column and row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["MISSING", "numeric_column", "read_table"]

MISSING = {"", "nan", "na", "n/a", "null", "none"}


def read_table(path: str | Path):
    """Read a CSV file with every cell as text, failing clearly on missing, empty or unparsable files."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise ValueError(f"data file {str(path)!r} does not exist.")
    if path.is_dir():
        raise ValueError(f"data file {str(path)!r} is a folder; give a CSV file.")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ValueError(f"data file {str(path)!r} is empty; expected a header row and data rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"could not parse {str(path)!r} as CSV: {error}") from None
    if frame.empty:
        raise ValueError(f"data file {str(path)!r} has a header but no data rows.")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def numeric_column(frame, column: str, row_label: Callable[[int], str] | None = None) -> np.ndarray:
    """Parse a text column to floats, naming the first missing, non-numeric or infinite cell by row."""
    import pandas as pd

    label = row_label or (lambda row: f"row {row + 1}")
    text = frame[column].astype(str).str.strip()
    missing = text.str.lower().isin(MISSING).to_numpy()
    if missing.any():
        row = int(np.argmax(missing))
        raise ValueError(f"column {column!r} has a missing value at {label(row)}; fill it in or drop the row.")
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(numbers)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"column {column!r} must be numeric; {label(row)} has {text.iloc[row]!r}.")
    infinite = np.isinf(numbers)
    if infinite.any():
        row = int(np.argmax(infinite))
        raise ValueError(f"column {column!r} has an infinite value at {label(row)}.")
    return numbers
