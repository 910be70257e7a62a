"""Validation of query parameters: every field named, its range stated, what was received quoted.

A request is a flat mapping of strings (the query string). Each endpoint declares its
fields with :class:`Field`; :func:`parse` checks that no unknown field was sent and turns
each value into a number, a list of numbers or a choice, or raises :class:`BadRequest`,
which the app answers with ``400`` and ``{"error", "field", "expected", "received"}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BadRequest", "Choice", "Field", "Names", "Number", "Numbers", "parse"]

_MAX_TEXT = 2_000  # longest raw value quoted back in an error (the rest is cut)


class BadRequest(ValueError):
    """A request the API refuses: one field, what it expected, what it received."""

    def __init__(
        self, field: str | None, expected: str, received: Any, fix: str = "", status: int = 400, message: str = ""
    ):
        self.field, self.expected, self.received, self.fix, self.status = field, expected, received, fix, status
        where = f"`{field}` must be " if field else "the request must be "
        super().__init__(message or f"{where}{expected}; got {_quote(received)}." + (f" {fix}" if fix else ""))

    def payload(self) -> dict[str, Any]:
        """The JSON body of the 400 answer."""
        received = self.received if not isinstance(self.received, str) else self.received[:_MAX_TEXT]
        return {"error": str(self), "field": self.field, "expected": self.expected, "received": received}


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:_MAX_TEXT] + ("..." if len(text) > _MAX_TEXT else "")) if isinstance(value, str) else text


def _range_text(low: float, high: float, integer: bool, low_open: bool) -> str:
    kind = "a whole number" if integer else "a finite number"
    low_text = f"> {low:g}" if low_open else f">= {low:g}"
    return f"{kind} {low_text} and <= {high:g}"


def _to_number(raw: str, name: str, low: float, high: float, integer: bool, low_open: bool) -> float:
    expected = _range_text(low, high, integer, low_open)
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(name, expected, raw) from None
    if not math.isfinite(value) or (integer and not value.is_integer()):
        raise BadRequest(name, expected, raw)
    if value > high or value < low or (low_open and value == low):
        raise BadRequest(name, expected, raw)
    return int(value) if integer else value


@dataclass(frozen=True)
class Number:
    """One number in ``[low, high]`` (``(low, high]`` when ``low_open``), optionally whole."""

    low: float
    high: float
    default: float | None = None
    integer: bool = False
    low_open: bool = False

    def read(self, raw: str | None, name: str) -> Any:
        """The value of field ``name`` (its default when absent)."""
        if raw is None or raw == "":
            if self.default is None:
                raise BadRequest(name, _range_text(self.low, self.high, self.integer, self.low_open), None)
            return self.default
        return _to_number(raw, name, self.low, self.high, self.integer, self.low_open)


@dataclass(frozen=True)
class Numbers:
    """A comma-separated list of ``min_count`` to ``max_count`` numbers, each checked like :class:`Number`."""

    low: float
    high: float
    min_count: int
    max_count: int
    integer: bool = False
    default: tuple | None = None

    def read(self, raw: str | None, name: str) -> list[Any]:
        """The values of field ``name``."""
        expected = (
            f"{self.min_count} to {self.max_count} comma-separated values, each "
            f"{_range_text(self.low, self.high, self.integer, False)}"
        )
        if raw is None or raw.strip() == "":
            if self.default is None:
                raise BadRequest(name, expected, None)
            return list(self.default)
        parts = [part.strip() for part in raw.split(",")]
        if not self.min_count <= len(parts) <= self.max_count:
            raise BadRequest(name, expected, raw, f"This request has {len(parts)}.")
        values = []
        for position, part in enumerate(parts):
            try:
                values.append(_to_number(part, name, self.low, self.high, self.integer, False))
            except BadRequest:
                raise BadRequest(name, expected, raw, f"Value {position + 1} ({part!r}) is not.") from None
        return values


@dataclass(frozen=True)
class Names:
    """Comma-separated distinct labels of 1 to 40 characters (letters, digits, ``_ -.``), ``count`` of them."""

    min_count: int
    max_count: int
    default: tuple | None = None

    def read(self, raw: str | None, name: str) -> list[str]:
        """The labels of field ``name``."""
        expected = f"{self.min_count} to {self.max_count} distinct comma-separated names (letters, digits, _ - .)"
        if raw is None or raw.strip() == "":
            if self.default is None:
                raise BadRequest(name, expected, None)
            return list(self.default)
        parts = [part.strip() for part in raw.split(",")]
        valid = all(0 < len(p) <= 40 and all(c.isalnum() or c in "_-. " for c in p) for p in parts)
        if not (self.min_count <= len(parts) <= self.max_count and valid and len(set(parts)) == len(parts)):
            raise BadRequest(name, expected, raw)
        return parts


@dataclass(frozen=True)
class Choice:
    """One of ``choices``."""

    choices: tuple[str, ...]
    default: str | None = None

    def read(self, raw: str | None, name: str) -> str:
        """The chosen value of field ``name``."""
        if raw is None or raw == "":
            if self.default is None:
                raise BadRequest(name, f"one of {', '.join(self.choices)}", None)
            return self.default
        if raw not in self.choices:
            raise BadRequest(name, f"one of {', '.join(self.choices)}", raw)
        return raw


Field = Number | Numbers | Names | Choice


def parse(query: Mapping[str, str], fields: Mapping[str, Field], repeated: Sequence[str] = ()) -> dict[str, Any]:
    """Read every declared field of ``query``; an unknown or repeated field is a :class:`BadRequest`.

    Parameters
    ----------
    query
        The request's parameters.
    fields
        Name to field specification, in the order they are documented.
    repeated
        Names that appeared more than once in the query string.

    Examples
    --------
    >>> parse({"n": "3"}, {"n": Number(0, 10, integer=True)})
    {'n': 3}
    >>> parse({"n": "nan"}, {"n": Number(0, 10)})
    Traceback (most recent call last):
        ...
    bayeskit.serve._params.BadRequest: `n` must be a finite number >= 0 and <= 10; got 'nan'.
    """
    unknown = [name for name in query if name not in fields]
    if unknown:
        raise BadRequest(
            unknown[0], f"absent: this endpoint takes only {', '.join(fields) or 'no parameters'}", query[unknown[0]]
        )
    if repeated:
        raise BadRequest(repeated[0], "given once", query[repeated[0]], "Send each parameter once.")
    return {name: field.read(query.get(name), name) for name, field in fields.items()}
