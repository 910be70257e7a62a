"""Output helpers: data to stdout, progress and messages to stderr, JSON that round-trips."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["jsonable", "print_json", "print_warnings", "stderr_console", "stdout_console"]


def stdout_console():
    """Rich console on stdout, for results."""
    from rich.console import Console

    return Console()


def stderr_console():
    """Rich console on stderr, for progress and messages (not hard-wrapped: one message, one line in a log)."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def print_warnings(warnings: list[str]) -> None:
    """Each warning on its own stderr line, as ``warning: ...`` (the JSON output carries them too)."""
    if warnings:
        console = stderr_console()
        for warning in warnings:
            console.print(f"[yellow]warning:[/yellow] {warning}")


def jsonable(value: Any) -> Any:
    """Convert results (NumPy scalars and arrays, DataFrames, dicts) to JSON-ready values; NaN/inf -> None."""
    import pandas as pd

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return jsonable(value.reset_index().to_dict(orient="records"))
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(value: Any) -> None:
    """Print ``value`` as strict JSON on stdout."""
    print(json.dumps(jsonable(value), indent=2, allow_nan=False))
