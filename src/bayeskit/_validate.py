"""Boundary validation: turn user input into float64 arrays or raise a message that says how to fix it.

Every public shell function calls these before touching the numerical core, so
the core never sees NaN, text, or impossible counts. Messages follow the house
format: which argument, what was expected, what was received, and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "as_float_array",
    "check_choice",
    "check_finite",
    "check_integer_valued",
    "check_less_equal",
    "check_nonnegative",
    "check_positive",
    "check_prob",
    "first_bad_index",
]


def first_bad_index(bad: np.ndarray) -> tuple[int, ...] | int:
    """The first offending position in an array of booleans, as an int for 1-D input."""
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return index[0] if len(index) == 1 else index


def _where(bad: np.ndarray) -> str:
    if bad.ndim == 0:
        return ""
    return f" at index {first_bad_index(bad)}"


def as_float_array(value: Any, name: str) -> np.ndarray:
    """Convert ``value`` to a float64 array, raising ``TypeError`` for text or objects.

    Raises
    ------
    TypeError
        If ``value`` holds strings, booleans-only objects, ``None`` or other non-numbers.

    """
    if value is None:
        raise TypeError(f"`{name}` must be a number or an array of numbers; got None.")
    if isinstance(value, str | bytes):
        raise TypeError(f"`{name}` must be numeric; got the text {value!r}. Convert it to a number first.")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged lists
        raise TypeError(f"`{name}` must be a rectangular array of numbers; {error}.") from None
    if array.dtype.kind in "USO":
        flat = array.ravel()
        for i, item in enumerate(flat):
            item = item.item() if isinstance(item, np.generic) else item
            try:
                float(item)
            except (TypeError, ValueError):
                position = np.unravel_index(i, array.shape) if array.ndim > 1 else i
                raise TypeError(
                    f"`{name}` must be numeric; got {item!r} at index {position}. "
                    "Remove or convert the non-numeric entries."
                ) from None
    if array.dtype.kind == "c":
        raise TypeError(f"`{name}` must be real; got complex values.")
    return np.asarray(array, dtype=np.float64)


def check_finite(array: np.ndarray, name: str) -> np.ndarray:
    """Raise ``ValueError`` naming the first NaN or infinite entry."""
    bad = ~np.isfinite(array)
    if bad.any():
        value = array[bad].ravel()[0]
        kind = "NaN" if np.isnan(value) else "infinite"
        raise ValueError(
            f"`{name}` must be finite; got {value}{_where(bad)}. Drop or impute the {kind} entries before calling."
        )
    return array


def check_positive(array: np.ndarray, name: str) -> np.ndarray:
    """Raise ``ValueError`` unless every entry is finite and > 0."""
    check_finite(array, name)
    bad = array <= 0
    if bad.any():
        raise ValueError(f"`{name}` must be > 0; got {array[bad].ravel()[0]}{_where(bad)}.")
    return array


def check_nonnegative(array: np.ndarray, name: str) -> np.ndarray:
    """Raise ``ValueError`` unless every entry is finite and >= 0 (counts, exposures)."""
    check_finite(array, name)
    bad = array < 0
    if bad.any():
        raise ValueError(f"`{name}` must be >= 0; got {array[bad].ravel()[0]}{_where(bad)}. Counts cannot be negative.")
    return array


def check_integer_valued(array: np.ndarray, name: str) -> np.ndarray:
    """Raise ``ValueError`` unless every entry is a whole number (stored as float64)."""
    bad = array != np.round(array)
    if bad.any():
        raise ValueError(f"`{name}` must hold whole numbers (counts); got {array[bad].ravel()[0]}{_where(bad)}.")
    return array


def check_less_equal(small: np.ndarray, large: np.ndarray, small_name: str, large_name: str) -> None:
    """Raise ``ValueError`` where ``small > large``, naming the first offending index."""
    small_b, large_b = np.broadcast_arrays(small, large)
    bad = small_b > large_b
    if bad.any():
        index = first_bad_index(bad) if bad.ndim else None
        where = f"; index {index} has" if index is not None else "; got"
        raise ValueError(
            f"`{small_name}` must be <= `{large_name}` everywhere{where} "
            f"{small_b[bad].ravel()[0]:g} > {large_b[bad].ravel()[0]:g}."
        )


def check_prob(prob: Any, name: str = "prob") -> float:
    """Validate a probability mass for an interval: a float strictly between 0 and 1."""
    if isinstance(prob, str | bytes) or not np.isscalar(prob):
        raise TypeError(f"`{name}` must be a single number in (0, 1), e.g. 0.95; got {prob!r}.")
    value = float(prob)
    if not 0.0 < value < 1.0:
        raise ValueError(f"`{name}` must be in (0, 1), e.g. 0.95; got {value}.")
    return value


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Raise ``ValueError`` listing the valid choices when ``value`` is not one of them."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"unknown {name} {value!r}; choose one of {listed}.")
    return value
