"""What a big run needs before it starts: memory, checked against what is free, and time from a short calibration.

``estimate(run, *args, **kwargs)`` calls ``run(*args, **kwargs)`` (``nuts``, a ``GPRegressor``'s
``fit``, a ``DeepEnsemble``'s ``fit``, or any function that reaches one of them, such as a
``HierarchicalRegression``'s ``fit``) in dry-run mode: the first NUTS run, exact GP fit or
network training it reaches works out the memory it would need, runs a short calibration
for the time, and stops there, returning a :class:`ResourceEstimate` instead of the result.
``bayeskit fit --dry-run`` and ``bayeskit uq --dry-run`` print one.

Outside a dry run the same engines check their memory before they allocate the big
arrays and raise :class:`ResourceError` (a ``MemoryError``) when it does not fit, naming
the number and the fix. The memory free is read from ``/proc/meminfo`` (``MemAvailable``)
and the cgroup limit (containers), and on a GPU or TPU from the device's allocator;
``BAYESKIT_MEMORY_LIMIT`` (host) and ``BAYESKIT_DEVICE_MEMORY_LIMIT`` (accelerator), e.g.
``"8GB"`` or ``"512MiB"``, cap it below what the machine has (a shared machine, a budget).
"""

from __future__ import annotations

import contextvars
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "HOST_LIMIT_VARIABLE",
    "DEVICE_LIMIT_VARIABLE",
    "Need",
    "ResourceError",
    "ResourceEstimate",
    "admit",
    "available",
    "compiled_bytes",
    "estimate",
    "format_bytes",
    "format_seconds",
    "free_memory",
    "in_dry_run",
    "parse_bytes",
]

HOST_LIMIT_VARIABLE = "BAYESKIT_MEMORY_LIMIT"
DEVICE_LIMIT_VARIABLE = "BAYESKIT_DEVICE_MEMORY_LIMIT"
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS.update({"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "k": 2**10, "m": 2**20, "g": 2**30})


class ResourceError(MemoryError):
    """A run that would need more memory than is free, refused before it allocated anything big."""


@dataclass(frozen=True)
class Need:
    """One line of the memory a run needs.

    Attributes
    ----------
    what
        What the memory holds (``"draws kept on the host"``).
    bytes
        How many bytes.
    where
        ``"host"`` (main memory) or ``"device"`` (the accelerator's memory; on a CPU that is main memory too).
    how
        The arithmetic, so that a user can check it (``"4 chains x 1,000 draws x 13 numbers x 4 B x 2"``).
    """

    what: str
    bytes: int
    where: str
    how: str = ""


@dataclass(frozen=True)
class ResourceEstimate:
    """The memory and time one run needs, against what the machine has free.

    Attributes
    ----------
    run
        The run, in words (``"nuts: 4 chains x (1,000 warmup + 1,000 draws), vectorized"``).
    needs
        The memory, line by line (:class:`Need`).
    available
        Free bytes by place (``"host"``, and ``"device"`` on an accelerator); None where unknown.
    seconds, seconds_at_most
        The estimated run time after compilation, and a bound (every NUTS tree at the depth
        limit, every training epoch run); None when not calibrated (outside a dry run).
    compile_seconds
        What compiling took during the estimate (a later run in the same process reuses the program).
    calibration
        What the calibration ran and measured, in words.
    fix
        What to change when the run does not fit.
    devices
        The devices the run is split over; the device lines are per device.
    """

    run: str
    needs: tuple[Need, ...]
    available: dict[str, int | None]
    seconds: float | None = None
    seconds_at_most: float | None = None
    compile_seconds: float | None = None
    calibration: str = ""
    fix: str = ""
    devices: int = 1
    details: dict[str, Any] = field(default_factory=dict)

    def memory(self, where: str | None = None) -> int:
        """Bytes needed in ``where`` (``"host"``, ``"device"``), or in all (None)."""
        return sum(need.bytes for need in self.needs if where is None or need.where == where)

    def _pools(self) -> dict[str, tuple[int, int | None]]:
        """Needed and free bytes per memory pool: one pool on a CPU (host and device are the same memory)."""
        if "device" not in self.available:
            return {"host": (self.memory(), self.available.get("host"))}
        return {
            "host": (self.memory("host"), self.available.get("host")),
            "device": (self.memory("device"), self.available.get("device")),
        }

    @property
    def fits(self) -> bool:
        """Whether every pool has the memory free (True where the free memory is unknown)."""
        return all(free is None or needed <= free for needed, free in self._pools().values())

    def shortfall(self) -> str:
        """The pools that are short, in words ('' when it fits)."""
        short = [
            f"{format_bytes(needed)} of {'main' if pool == 'host' else 'accelerator'} memory"
            f"{' per device' if pool == 'device' and self.devices > 1 else ''} where {format_bytes(free)} is free"
            for pool, (needed, free) in self._pools().items()
            if free is not None and needed > free
        ]
        return "; ".join(short)

    def check(self) -> ResourceEstimate:
        """Self when the run fits; else a :class:`ResourceError` naming the numbers and the fix."""
        if self.fits:
            return self
        biggest = max(self.needs, key=lambda need: need.bytes)
        raise ResourceError(
            f"{self.run} needs {self.shortfall()}; refused before allocating. The largest part is "
            f"{biggest.what}: {format_bytes(biggest.bytes)} ({biggest.how}). {self.fix} "
            f"(A lower cap set by {HOST_LIMIT_VARIABLE} or {DEVICE_LIMIT_VARIABLE} counts as free memory.)"
        )

    def table(self) -> str:
        """The estimate as a plain-text table (what ``--dry-run`` prints)."""
        rows = [(need.what, need.where, format_bytes(need.bytes), need.how) for need in self.needs]
        for pool, (needed, free) in self._pools().items():
            name = "total" if len(self._pools()) == 1 else f"total on the {pool}"
            rows.append((name, pool, format_bytes(needed), f"free: {format_bytes(free)}"))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [f"{self.run}", ""]
        lines += [f"  {a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip() for a, b, c, d in rows]
        lines.append("")
        lines.append(f"  fits: {'yes' if self.fits else 'NO: ' + self.shortfall()}")
        if self.seconds is not None:
            bound = f" (at most {format_seconds(self.seconds_at_most)})" if self.seconds_at_most is not None else ""
            lines.append(f"  time: about {format_seconds(self.seconds)}{bound}, compilation aside")
        if self.compile_seconds is not None:
            lines.append(
                f"  compilation: {format_seconds(self.compile_seconds)} (reused by a later run in this process)"
            )
        if self.calibration:
            lines.append(f"  calibration: {self.calibration}")
        if not self.fits and self.fix:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (bytes as integers, seconds as floats)."""
        return {
            "run": self.run,
            "needs": [{"what": n.what, "where": n.where, "bytes": n.bytes, "how": n.how} for n in self.needs],
            "memory_bytes": {pool: needed for pool, (needed, _) in self._pools().items()},
            "available_bytes": {pool: free for pool, (_, free) in self._pools().items()},
            "fits": self.fits,
            "seconds": self.seconds,
            "seconds_at_most": self.seconds_at_most,
            "compile_seconds": self.compile_seconds,
            "calibration": self.calibration,
            "fix": self.fix,
            "devices": self.devices,
        }


class _Stop(BaseException):
    """Raised inside a dry run once the estimate is made; carries it out past the caller's ``except Exception``."""

    def __init__(self, result: ResourceEstimate):
        super().__init__(result.run)
        self.result = result


_DRY_RUN: contextvars.ContextVar[bool] = contextvars.ContextVar("bayeskit_dry_run", default=False)


def in_dry_run() -> bool:
    """Whether the current code runs inside :func:`estimate`."""
    return _DRY_RUN.get()


def estimate(run: Callable[..., Any], *args: Any, **kwargs: Any) -> ResourceEstimate:
    """The memory and time ``run(*args, **kwargs)`` needs, found without doing the run.

    Parameters
    ----------
    run
        :func:`bayeskit.infer.nuts`, an estimator's ``fit`` (``GPRegressor``, ``DeepEnsemble``,
        ``MCDropout``, the GLMs with ``method="nuts"``) or any function that reaches one of them.
    *args, **kwargs
        Exactly what the run would be called with.

    Returns
    -------
    ResourceEstimate
        Printable (``print(plan)``); ``plan.fits``, ``plan.memory()``, ``plan.seconds``.

    Raises
    ------
    ValueError
        When ``run`` finishes without reaching a NUTS run, a GP fit or a network's training
        (then it has done its work: there was nothing big to estimate).

    Examples
    --------
    >>> import numpy as np
    >>> from bayeskit.gp import GPRegressor
    >>> x = np.linspace(0, 1, 30)[:, None]
    >>> plan = estimate(GPRegressor(restarts=0).fit, x, np.sin(6 * x[:, 0]))
    >>> plan.fits, plan.memory() > 30 * 30 * 8
    (True, True)
    """
    if not callable(run):
        raise ValueError(
            f"`run` must be the function to estimate, e.g. estimate(nuts, model, data, key=key) or "
            f"estimate(model.fit, X, y); got {type(run).__name__} {run!r}."
        )
    token = _DRY_RUN.set(True)
    try:
        run(*args, **kwargs)
    except _Stop as stop:
        return stop.result
    finally:
        _DRY_RUN.reset(token)
    name = getattr(run, "__qualname__", repr(run))
    raise ValueError(
        f"{name} ran to the end without a NUTS run, an exact GP fit or a network's training, so there was nothing "
        "to estimate (and it has now run). Pass nuts, GPRegressor(...).fit, DeepEnsemble(...).fit or a fit that "
        "uses one of them (method='nuts')."
    )


def admit(build: Callable[[bool], ResourceEstimate]) -> None:
    """The gate a big run passes before it allocates: ``build(calibrate)`` makes its estimate.

    Inside :func:`estimate`, the estimate is built with its calibration and the run stops
    there (the estimate is returned to the caller). Otherwise it is built without
    calibration (memory only, no work done) and a run that does not fit raises
    :class:`ResourceError`.
    """
    if in_dry_run():
        raise _Stop(build(True))
    build(False).check()


# ------------------------------------------------------------------ free memory
def parse_bytes(text: str, name: str = HOST_LIMIT_VARIABLE) -> int:
    """``"8GB"``, ``"512MiB"``, ``"1.5g"`` or ``"1000000"`` as bytes; a ValueError naming ``name`` otherwise."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(
            f"`{name}` must be a size such as 8GB, 512MiB or 2000000000 (bytes); got {text!r}. "
            "Units: B, KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB (powers of 1024)."
        )
    return int(float(match.group(1)) * _UNITS[unit])


def _meminfo_available(path: str = "/proc/meminfo") -> int | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_available(root: str = "/sys/fs/cgroup") -> int | None:
    """What the cgroup (v2) limit leaves: ``memory.max - memory.current``; None without a limit."""
    try:
        limit = Path(root, "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int(Path(root, "memory.current").read_text().strip()))
    except (OSError, ValueError):
        return None


def _device_available() -> int | None:
    """Free bytes on the first local accelerator; None on a CPU."""
    import jax

    device = jax.local_devices()[0]
    if device.platform == "cpu":
        return None
    stats = device.memory_stats() if hasattr(device, "memory_stats") else None
    if not stats or "bytes_limit" not in stats:
        return None
    return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))


def available(where: str = "host") -> int | None:
    """Free bytes in ``where``: ``"host"`` (main memory) or ``"device"`` (an accelerator's; None on a CPU).

    The smallest of what the operating system reports free, what a cgroup limit leaves and
    the cap in ``BAYESKIT_MEMORY_LIMIT`` (host) or ``BAYESKIT_DEVICE_MEMORY_LIMIT`` (device).
    """
    if where not in ("host", "device"):
        raise ValueError(f"`where` must be 'host' or 'device'; got {where!r}.")
    variable = HOST_LIMIT_VARIABLE if where == "host" else DEVICE_LIMIT_VARIABLE
    found = [_meminfo_available(), _cgroup_available()] if where == "host" else [_device_available()]
    if where == "device" and found[0] is None:
        return None
    if os.environ.get(variable):
        found.append(parse_bytes(os.environ[variable], variable))
    known = [value for value in found if value is not None]
    return min(known) if known else None


def free_memory() -> dict[str, int | None]:
    """Free bytes by pool: ``{"host": ...}`` on a CPU, ``{"host": ..., "device": ...}`` with an accelerator."""
    device = available("device")
    return {"host": available("host")} if device is None else {"host": available("host"), "device": device}


# ------------------------------------------------------------------ words
def format_bytes(value: int | None) -> str:
    """``1536 -> "1.5 KiB"``; None -> ``"unknown"``."""
    if value is None:
        return "unknown"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def format_seconds(value: float | None) -> str:
    """``0.004 -> "4 ms"``, ``95 -> "1.6 min"``, ``7200 -> "2.0 h"``."""
    if value is None or not math.isfinite(value):
        return "unknown"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    if value < 3600:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def compiled_bytes(compiled: Any, scratch_only: bool = False) -> int:
    """Peak bytes a compiled XLA program holds while it runs (arguments, outputs and scratch, less what aliases).

    ``scratch_only``: its temporary buffers alone (where the arguments and outputs are counted apart).
    """
    stats = compiled.memory_analysis()
    if stats is None:
        return 0
    if scratch_only:
        return int(stats.temp_size_in_bytes)
    peak = int(getattr(stats, "peak_memory_in_bytes", 0) or 0)
    parts = stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
    return max(peak, int(parts - stats.alias_size_in_bytes))
