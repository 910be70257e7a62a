"""Search spaces: float (linear or log scale), integer and categorical parameters, mapped to a unit cube.

The optimizer's GP lives on ``[0, 1]^D``: a float or integer parameter takes one
coordinate (log-scaled when ``log=True``), a categorical one coordinate per choice
(one-hot; the largest wins when decoding). ``constraints`` are functions of the
decoded parameters that must all return True for a point to be suggested.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Categorical", "Float", "Integer", "SearchSpace"]


@dataclass(frozen=True)
class Float:
    """A real parameter in ``[low, high]`` (``log=True``: uniform in log space; needs ``low > 0``)."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"a float parameter needs finite low < high; got low={self.low!r}, high={self.high!r}.")
        if self.log and self.low <= 0:
            raise ValueError(f"a log-scale parameter needs low > 0; got low={self.low!r}.")

    @property
    def width(self) -> int:
        """Unit-cube coordinates it takes."""
        return 1

    def _span(self) -> tuple[float, float]:
        return (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)

    def encode(self, value: Any) -> list[float]:
        """Value to unit coordinates."""
        low, high = self._span()
        value = math.log(value) if self.log else float(value)
        return [(value - low) / (high - low)]

    def decode(self, unit: np.ndarray) -> float:
        """Unit coordinates to a value (clipped to the bounds)."""
        low, high = self._span()
        value = low + float(np.clip(unit[0], 0.0, 1.0)) * (high - low)
        return float(min(max(math.exp(value) if self.log else value, self.low), self.high))

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a number inside the bounds."""
        return isinstance(value, int | float) and not isinstance(value, bool) and self.low <= value <= self.high


@dataclass(frozen=True)
class Integer(Float):
    """An integer parameter in ``[low, high]`` (inclusive); optionally log-scaled."""

    def __post_init__(self):
        if int(self.low) != self.low or int(self.high) != self.high:
            raise ValueError(f"an integer parameter needs whole bounds; got low={self.low!r}, high={self.high!r}.")
        super().__post_init__()

    def _span(self) -> tuple[float, float]:
        # Widen by half a step so that every integer owns an equal share of the unit interval.
        low, high = self.low - 0.4999, self.high + 0.4999
        return (math.log(max(low, 1e-12)), math.log(high)) if self.log else (low, high)

    def decode(self, unit: np.ndarray) -> int:
        """Unit coordinates to the nearest integer in bounds."""
        low, high = self._span()
        value = low + float(np.clip(unit[0], 0.0, 1.0)) * (high - low)
        return int(min(max(round(math.exp(value) if self.log else value), self.low), self.high))

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a whole number inside the bounds."""
        return super().contains(value) and float(value).is_integer()


@dataclass(frozen=True)
class Categorical:
    """One of ``choices`` (strings, numbers or booleans)."""

    choices: tuple

    def __post_init__(self):
        if len(self.choices) < 2 or len(set(self.choices)) != len(self.choices):
            raise ValueError(f"a categorical parameter needs at least two distinct choices; got {self.choices!r}.")
        object.__setattr__(self, "choices", tuple(self.choices))

    @property
    def width(self) -> int:
        """Unit-cube coordinates it takes (one per choice)."""
        return len(self.choices)

    def encode(self, value: Any) -> list[float]:
        """One-hot coordinates of ``value``."""
        return [1.0 if value == choice else 0.0 for choice in self.choices]

    def decode(self, unit: np.ndarray) -> Any:
        """The choice with the largest coordinate."""
        return self.choices[int(np.argmax(unit))]

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is one of the choices."""
        return value in self.choices


@dataclass(frozen=True)
class SearchSpace:
    """Named parameters, and constraints (functions of the decoded parameters) every suggestion satisfies.

    Examples
    --------
    >>> space = SearchSpace(
    ...     {"lr": Float(1e-4, 1e-1, log=True), "layers": Integer(1, 4), "act": Categorical(("relu", "tanh"))}
    ... )
    >>> space.dimension
    4
    >>> params = space.decode(space.encode({"lr": 5e-3, "layers": 3, "act": "tanh"}))
    >>> round(params["lr"], 12), params["layers"], params["act"]
    (0.005, 3, 'tanh')
    """

    parameters: dict[str, Float | Integer | Categorical]
    constraints: Sequence[Callable[[dict[str, Any]], bool]] = field(default=())

    def __post_init__(self):
        if not self.parameters:
            raise ValueError("a search space needs at least one parameter.")
        for name, dimension in self.parameters.items():
            if not isinstance(dimension, Float | Categorical):
                raise TypeError(f"parameter {name!r} must be a Float, Integer or Categorical; got {type(dimension)}.")

    @property
    def needs_snapping(self) -> bool:
        """Whether unit points must be snapped (integer or categorical parameters present)."""
        return any(isinstance(d, Integer | Categorical) for d in self.parameters.values())

    @property
    def dimension(self) -> int:
        """Coordinates of the unit cube."""
        return sum(dimension.width for dimension in self.parameters.values())

    def encode(self, params: dict[str, Any]) -> np.ndarray:
        """Parameters to a point of the unit cube (checks names and bounds)."""
        missing = [name for name in self.parameters if name not in params]
        if missing:
            raise ValueError(f"parameters {missing} are missing; the space has {list(self.parameters)}.")
        unit = []
        for name, dimension in self.parameters.items():
            if not dimension.contains(params[name]):
                raise ValueError(f"parameter {name!r} = {params[name]!r} is outside its range {dimension}.")
            unit += dimension.encode(params[name])
        return np.asarray(unit)

    def decode(self, unit: np.ndarray) -> dict[str, Any]:
        """A point of the unit cube to parameters."""
        out, start = {}, 0
        for name, dimension in self.parameters.items():
            out[name] = dimension.decode(np.asarray(unit[start : start + dimension.width]))
            start += dimension.width
        return out

    def feasible(self, params: dict[str, Any]) -> bool:
        """Whether every constraint holds."""
        return all(bool(constraint(params)) for constraint in self.constraints)

    def round_trip(self, unit: np.ndarray) -> np.ndarray:
        """The unit point of what ``unit`` decodes to (snaps integers and categories)."""
        return self.encode(self.decode(unit))

    @classmethod
    def from_dict(cls, spec: dict[str, dict[str, Any]]) -> SearchSpace:
        """From ``{"name": {"type": "float"|"int"|"categorical", "low", "high", "log", "choices"}}`` (JSON)."""
        parameters = {}
        for name, entry in spec.items():
            kind = entry.get("type") if isinstance(entry, dict) else None
            if kind in ("float", "int"):
                unknown = set(entry) - {"type", "low", "high", "log"}
                if unknown or "low" not in entry or "high" not in entry:
                    raise ValueError(
                        f"parameter {name!r}: a {kind} needs 'low' and 'high' (and optionally 'log'); "
                        f"got keys {sorted(entry)}."
                    )
                maker = Float if kind == "float" else Integer
                parameters[name] = maker(entry["low"], entry["high"], bool(entry.get("log", False)))
            elif kind == "categorical":
                if "choices" not in entry:
                    raise ValueError(f"parameter {name!r}: a categorical needs 'choices'.")
                parameters[name] = Categorical(tuple(entry["choices"]))
            else:
                raise ValueError(
                    f"parameter {name!r} needs a 'type' of 'float', 'int' or 'categorical'; got {entry!r}."
                )
        return cls(parameters)

    @classmethod
    def from_json(cls, path: str | Path) -> SearchSpace:
        """Read :meth:`from_dict`'s format from a JSON file."""
        try:
            spec = json.loads(Path(path).read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error}.") from None
        if not isinstance(spec, dict):
            raise ValueError(f"{path} must hold a JSON object of parameters; got {type(spec).__name__}.")
        return cls.from_dict(spec)
