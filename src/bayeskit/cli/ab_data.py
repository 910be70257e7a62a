"""Read A/B test data from a table: detect the layout, validate every cell, aggregate per arm.

Layouts (column names are matched case-insensitively):

- aggregated conversion: ``variant, visitors, conversions`` (one row per arm, or several
  rows per arm that are summed, e.g. one per day);
- aggregated counts: ``variant, count, exposure``;
- row-level: ``variant`` plus one metric column (``converted`` 0/1, or ``value`` for a
  continuous metric, or counts with ``metric="count"``).

Arms are sorted by name, so results do not depend on the order of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bayeskit._table import MISSING, line_label, numeric_column, read_table
from bayeskit.decide.ab import ab_test_binary, ab_test_continuous, ab_test_count

__all__ = ["ABData", "default_control", "detect_ab_data", "read_table", "run_ab_test"]

VARIANT_NAMES = ("variant", "arm", "group", "bucket", "treatment", "version")
VISITOR_NAMES = ("visitors", "users", "trials", "sessions", "n", "exposures")
CONVERSION_NAMES = ("conversions", "converted", "successes", "conversion_count", "orders")
COUNT_NAMES = ("count", "counts", "events")
EXPOSURE_NAMES = ("exposure", "exposure_time", "days", "duration", "time")
ROW_METRIC_NAMES = ("converted", "conversion", "value", "revenue", "count", "events", "metric", "y")
METRICS = ("binary", "count", "continuous")


@dataclass(frozen=True)
class ABData:
    """Per-arm data ready for the A/B engine, with a description of how it was read."""

    metric: str
    layout: str
    names: tuple[str, ...]
    columns: dict[str, str]
    visitors: np.ndarray | None = None
    conversions: np.ndarray | None = None
    counts: np.ndarray | None = None
    exposure: np.ndarray | None = None
    values: tuple[np.ndarray, ...] | None = None
    num_rows: int = 0
    statistics: dict[str, np.ndarray] | None = None  # continuous: per-arm n, mean, variance (from a warehouse)


def _find(frame, candidates: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in frame.columns}
    for name in candidates:
        if name in lower:
            return lower[name]
    return None


def _column(frame, name: str | None, flag: str) -> str:
    if name is None:
        return None
    if name not in frame.columns:
        raise ValueError(
            f"column {name!r} (from {flag}) is not in the file; columns are {', '.join(map(repr, frame.columns))}."
        )
    return name


def _row_label(frame, variant_col: str, row: int) -> str:
    return f"{line_label(frame, row)} (variant {frame[variant_col].iloc[row]!r})"


def _numbers(frame, column: str, variant_col: str) -> np.ndarray:
    """Parse a text column to floats, naming the first bad cell by row and variant."""
    return numeric_column(frame, column, lambda row: _row_label(frame, variant_col, row))


def _check_counts(frame, numbers: np.ndarray, column: str, variant_col: str) -> None:
    negative = numbers < 0
    if negative.any():
        row = int(np.argmax(negative))
        raise ValueError(f"column {column!r} must be >= 0; {_row_label(frame, variant_col, row)} has {numbers[row]:g}.")
    fractional = numbers != np.round(numbers)
    if fractional.any():
        row = int(np.argmax(fractional))
        raise ValueError(
            f"column {column!r} must hold whole numbers; {_row_label(frame, variant_col, row)} has {numbers[row]:g}."
        )


def _variants(frame, variant_col: str) -> np.ndarray:
    names = frame[variant_col].astype(str).str.strip()
    missing = names.str.lower().isin(MISSING).to_numpy()
    if missing.any():
        row = int(np.argmax(missing))
        raise ValueError(
            f"column {variant_col!r} (the variant) is empty at {line_label(frame, row)}; every row needs a variant "
            "name."
        )
    return names.to_numpy()


def _arms(variants: np.ndarray) -> tuple[str, ...]:
    names = tuple(sorted(set(variants.tolist())))
    if len(names) < 2:
        raise ValueError(f"the data has only one arm ({names[0]!r}); an A/B test needs at least 2 variants to compare.")
    return names


def _sum_by(variants: np.ndarray, names: tuple[str, ...], values: np.ndarray) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    out = np.zeros(len(names))
    np.add.at(out, np.array([index[v] for v in variants]), values)
    return out


def detect_ab_data(
    frame: Any, variant_col: str | None = None, metric_col: str | None = None, metric: str | None = None
) -> ABData:
    """Detect the layout of ``frame`` (a DataFrame of text cells), validate it and aggregate per arm.

    Raises
    ------
    ValueError
        Naming the column and row of the first bad cell: missing values, text in a
        numeric column, negative or fractional counts, conversions above visitors, a
        single arm, unknown columns.

    """
    if metric is not None and metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(map(repr, METRICS))}.")
    variant_col = _column(frame, variant_col, "--variant-col") or _find(frame, VARIANT_NAMES)
    if variant_col is None:
        raise ValueError(
            f"could not find the variant column (looked for {', '.join(VARIANT_NAMES)}); columns are "
            f"{', '.join(map(repr, frame.columns))}. Name it with --variant-col."
        )
    metric_col = _column(frame, metric_col, "--metric-col")
    variants = _variants(frame, variant_col)

    visitors_col, conversions_col = _find(frame, VISITOR_NAMES), _find(frame, CONVERSION_NAMES)
    count_col, exposure_col = _find(frame, COUNT_NAMES), _find(frame, EXPOSURE_NAMES)
    if metric_col is not None and metric_col in (conversions_col, count_col):
        pass  # an explicit metric column that is part of an aggregated layout
    elif metric_col is not None:
        visitors_col = exposure_col = None

    if visitors_col and conversions_col and metric in (None, "binary"):
        names = _arms(variants)
        visitors = _numbers(frame, visitors_col, variant_col)
        conversions = _numbers(frame, conversions_col, variant_col)
        _check_counts(frame, visitors, visitors_col, variant_col)
        _check_counts(frame, conversions, conversions_col, variant_col)
        over = conversions > visitors
        if over.any():
            row = int(np.argmax(over))
            raise ValueError(
                f"{conversions_col!r} must be <= {visitors_col!r} in every row; {_row_label(frame, variant_col, row)} "
                f"has {conversions[row]:g} > {visitors[row]:g}."
            )
        return ABData(
            "binary",
            "aggregated",
            names,
            {"variant": variant_col, "visitors": visitors_col, "conversions": conversions_col},
            visitors=_sum_by(variants, names, visitors),
            conversions=_sum_by(variants, names, conversions),
            num_rows=len(frame),
        )
    if count_col and exposure_col and metric in (None, "count"):
        names = _arms(variants)
        counts = _numbers(frame, count_col, variant_col)
        exposure = _numbers(frame, exposure_col, variant_col)
        _check_counts(frame, counts, count_col, variant_col)
        not_positive = exposure <= 0
        if not_positive.any():
            row = int(np.argmax(not_positive))
            raise ValueError(
                f"column {exposure_col!r} must be > 0; {_row_label(frame, variant_col, row)} has {exposure[row]:g}."
            )
        return ABData(
            "count",
            "aggregated",
            names,
            {"variant": variant_col, "count": count_col, "exposure": exposure_col},
            counts=_sum_by(variants, names, counts),
            exposure=_sum_by(variants, names, exposure),
            num_rows=len(frame),
        )

    if metric_col is None:
        # Half of an aggregated layout is a missing column, not a row-level metric ('converted' and
        # 'count' are also row-level names, so they alone do not count as half).
        row_level = {c.lower() for c in (conversions_col, count_col) if c} & set(ROW_METRIC_NAMES)
        for present, missing_names, wanted in (
            (visitors_col and not conversions_col, CONVERSION_NAMES, "conversions"),
            (conversions_col and not visitors_col and not row_level, VISITOR_NAMES, "visitors"),
            (exposure_col and not count_col, COUNT_NAMES, "count"),
        ):
            if present:
                raise ValueError(
                    f"the file looks aggregated but has no {wanted} column (looked for {', '.join(missing_names)}); "
                    f"columns are {', '.join(map(repr, frame.columns))}. Add the column, or name a row-level "
                    "metric with --metric-col."
                )
        others = [c for c in frame.columns if c != variant_col]
        metric_col = _find(frame, ROW_METRIC_NAMES) or (others[0] if len(others) == 1 else None)
    if metric_col is None:
        raise ValueError(
            f"could not tell the metric column among {', '.join(map(repr, frame.columns))}; name it with --metric-col "
            "(or use the aggregated layout variant, visitors, conversions)."
        )
    names = _arms(variants)
    values = _numbers(frame, metric_col, variant_col)
    is_binary = bool(np.isin(values, (0.0, 1.0)).all())
    metric = metric or ("binary" if is_binary else "continuous")
    if metric == "binary":
        not_binary = ~np.isin(values, (0.0, 1.0))
        if not_binary.any():
            row = int(np.argmax(not_binary))
            raise ValueError(
                f"column {metric_col!r} must be 0 or 1 for a binary metric; {_row_label(frame, variant_col, row)} has "
                f"{values[row]:g}. Use --metric continuous for other values."
            )
        return ABData(
            "binary",
            "row-level",
            names,
            {"variant": variant_col, "metric": metric_col},
            visitors=_sum_by(variants, names, np.ones_like(values)),
            conversions=_sum_by(variants, names, values),
            num_rows=len(frame),
        )
    if metric == "count":
        _check_counts(frame, values, metric_col, variant_col)
        return ABData(
            "count",
            "row-level",
            names,
            {"variant": variant_col, "metric": metric_col},
            counts=_sum_by(variants, names, values),
            exposure=_sum_by(variants, names, np.ones_like(values)),
            num_rows=len(frame),
        )
    per_arm = tuple(values[variants == name] for name in names)
    for name, arm_values in zip(names, per_arm, strict=True):
        if arm_values.size < 2:
            raise ValueError(
                f"variant {name!r} has {arm_values.size} row; a continuous metric needs at least 2 per arm."
            )
    return ABData(
        "continuous",
        "row-level",
        names,
        {"variant": variant_col, "metric": metric_col},
        values=per_arm,
        num_rows=len(frame),
    )


def default_control(names: tuple[str, ...]) -> str:
    """``control`` (or ``baseline``, ``a``) when an arm is called that, else the first name in sorted order."""
    lower = {n.lower(): n for n in names}
    for candidate in ("control", "baseline", "a"):
        if candidate in lower:
            return lower[candidate]
    return names[0]


def run_ab_test(data: ABData, control: str | None = None, **options: Any):
    """Run the A/B engine that fits ``data.metric`` on the aggregated arms."""
    control = control if control is not None else default_control(data.names)
    lognormal = options.pop("lognormal", False)
    if data.metric == "binary":
        return ab_test_binary(data.names, data.visitors, data.conversions, control=control, **options)
    if data.metric == "count":
        if options.pop("split", None) is not None:
            raise ValueError("--split checks units per arm; a count metric's exposure is not a count of units.")
        return ab_test_count(data.names, data.counts, data.exposure, control=control, **options)
    if data.statistics is not None:
        if lognormal:
            raise ValueError("--lognormal needs the raw values; it is not available on aggregated statistics.")
        return ab_test_continuous(data.names, statistics=data.statistics, control=control, **options)
    return ab_test_continuous(data.names, list(data.values), control=control, lognormal=lognormal, **options)
