"""``bayeskit ab`` on data where it lives: Parquet files, DuckDB databases and read-only SQL queries.

The aggregation runs inside DuckDB (``GROUP BY segment, variant`` through
:func:`bayeskit.sources.statistics.sufficient_statistics`); only the per-arm sufficient
statistics come back to Python. The database is opened read-only and a query must be
a single ``SELECT`` (DuckDB parses it first: no DDL, DML, COPY or PRAGMA runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bayeskit.cli.ab_data import (
    CONVERSION_NAMES,
    COUNT_NAMES,
    EXPOSURE_NAMES,
    ROW_METRIC_NAMES,
    VARIANT_NAMES,
    VISITOR_NAMES,
    ABData,
)
from bayeskit.sources.duckdb import open_source

__all__ = ["PARQUET_SUFFIXES", "WarehouseData", "is_warehouse", "open_source", "read_statistics"]

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class WarehouseData:
    """Sufficient statistics per (segment, variant), with what was read and how."""

    statistics: Any  # pandas DataFrame
    metric: str
    layout: str
    columns: dict[str, str]
    segments: tuple[str, ...]
    num_rows: int


def is_warehouse(data: Path | None, db: Path | None, table: str | None, sql: str | None) -> bool:
    """True when the input is a Parquet file, a DuckDB database or a query (not a CSV)."""
    return (
        db is not None
        or table is not None
        or sql is not None
        or (data is not None and data.suffix.lower() in PARQUET_SUFFIXES)
    )


def _find(names: list[str], candidates: tuple[str, ...]) -> str | None:
    lower = {n.lower(): n for n in names}
    return next((lower[c] for c in candidates if c in lower), None)


def _named(names: list[str], column: str | None, flag: str) -> str | None:
    if column is not None and column not in names:
        raise ValueError(
            f"column {column!r} (from {flag}) is not in the data; columns are {', '.join(map(repr, names))}."
        )
    return column


def read_statistics(
    relation,
    *,
    variant_col: str | None,
    metric_col: str | None,
    metric: str | None,
    segments: tuple[str, ...],
    covariate: str | None,
) -> WarehouseData:
    """Detect the layout from the relation's columns, then aggregate inside DuckDB."""
    import duckdb
    import narwhals as nw

    from bayeskit.sources.statistics import sufficient_statistics

    names = list(relation.columns)
    variant = _named(names, variant_col, "--variant-col") or _find(names, VARIANT_NAMES)
    if variant is None:
        raise ValueError(
            f"could not find the variant column (looked for {', '.join(VARIANT_NAMES)}); columns are "
            f"{', '.join(map(repr, names))}. Name it with --variant-col."
        )
    for segment in segments:
        _named(names, segment, "--segment")
    _named(names, covariate, "--covariate")
    metric_col = _named(names, metric_col, "--metric-col")
    visitors, conversions = _find(names, VISITOR_NAMES), _find(names, CONVERSION_NAMES)
    counts, exposure = _find(names, COUNT_NAMES), _find(names, EXPOSURE_NAMES)
    kwargs: dict[str, Any]
    if metric_col is None and visitors and conversions and metric in (None, "binary") and covariate is None:
        metric, layout = "binary", "aggregated"
        kwargs, columns = (
            {"visitors": visitors, "conversions": conversions},
            {"visitors": visitors, "conversions": conversions},
        )
    elif metric_col is None and counts and exposure and metric in (None, "count"):
        metric, layout = "count", "aggregated"
        kwargs, columns = {"counts": counts, "exposure": exposure}, {"count": counts, "exposure": exposure}
    else:
        value = metric_col or _find(names, ROW_METRIC_NAMES)
        if value is None:
            raise ValueError(
                f"could not tell the metric column among {', '.join(map(repr, names))}; name it with --metric-col."
            )
        if metric is None:  # 0/1 everywhere: a conversion; anything else: a continuous metric
            x = nw.col(value)
            binary = nw.from_native(relation).select(((x == 0) | (x == 1) | x.is_null()).all()).collect("pandas")
            metric = "binary" if bool(binary.to_native().iloc[0, 0]) and covariate is None else "continuous"
        layout = "row-level"
        kwargs, columns = {"value": value}, {"metric": value}
    try:
        statistics = sufficient_statistics(
            relation, variant=variant, by=segments, metric=metric, covariate=covariate, **kwargs
        )
    except duckdb.Error as error:
        raise ValueError(f"DuckDB failed while aggregating: {error}") from None
    columns = {"variant": variant, **columns, **({"covariate": covariate} if covariate else {})}
    return WarehouseData(statistics, metric, layout, columns, tuple(segments), int(statistics["rows"].sum()))


def as_ab_data(data: WarehouseData) -> ABData:
    """One test's statistics as the CLI's per-arm data (arms sorted by name, as the CSV path sorts them)."""
    stats = data.statistics.sort_values(data.columns["variant"])
    names = tuple(str(v) for v in stats[data.columns["variant"]])
    if len(names) < 2:
        raise ValueError(f"the data has only one arm ({names[0]!r}); an A/B test needs at least 2 variants to compare.")
    n, total = stats["n"].to_numpy(float), stats["total"].to_numpy(float)
    if data.metric == "binary":
        return ABData("binary", data.layout, names, data.columns, visitors=n, conversions=total, num_rows=data.num_rows)
    if data.metric == "count":
        return ABData("count", data.layout, names, data.columns, counts=total, exposure=n, num_rows=data.num_rows)
    statistics = {k: stats[k].to_numpy(float) for k in ("n", "mean", "variance")}
    if "covariance" in stats.columns:
        statistics |= {k: stats[k].to_numpy(float) for k in ("mean_x", "variance_x", "covariance")}
    return ABData("continuous", data.layout, names, data.columns, statistics=statistics, num_rows=data.num_rows)


def segment_table(data: WarehouseData, control: str | None, **options: Any):
    """One exact test per segment, vectorized (:func:`bayeskit.decide.table.analyze_statistics`)."""
    from bayeskit.decide.table import analyze_statistics

    options.pop("lognormal", None)
    return analyze_statistics(
        data.statistics,
        variant=data.columns["variant"],
        by=data.segments,
        metric=data.metric,
        control=control,
        pool=data.segments if _poolable(data) else (),
        **options,
    )


def _poolable(data: WarehouseData) -> bool:
    """Partial pooling covers two-arm tests of a binary or count metric (see decide.pooling)."""
    if data.metric not in ("binary", "count"):
        return False
    arms = data.statistics.groupby(list(data.segments))[data.columns["variant"]].nunique()
    return bool((arms == 2).all())


def forest_rows(table) -> list[dict[str, Any]]:
    """The segment table as JSON-ready rows."""
    rows = []
    for record in table.to_dict(orient="records"):
        rows.append({k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in record.items()})
    return rows
