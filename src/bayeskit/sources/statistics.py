"""Sufficient statistics where the data live: one Narwhals aggregation for every table engine.

pandas and Polars frames, DuckDB relations, PySpark DataFrames and the other backends
`Narwhals <https://narwhals-dev.github.io/narwhals/>`_ reads run the same ``GROUP BY``
in their own engine (counts, sums, means, variances, covariate moments) and return only
the per-group statistics, with every bad cell counted there too, so the error names the
column, the group and the fix without bringing a row back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bayeskit._validate import check_choice

__all__ = ["METRICS", "sufficient_statistics"]

METRICS = ("binary", "count", "continuous")


def _columns_of(frame) -> list[str]:
    return list(frame.collect_schema().names())


def _require(names: list[str], wanted: dict[str, str | None]) -> None:
    for role, column in wanted.items():
        if column is not None and column not in names:
            raise ValueError(
                f"column {column!r} (the {role}) is not in the table; its columns are "
                f"{', '.join(map(repr, names))}. Name the right one (CLI: --{role.replace(' ', '-')}-col)."
            )


def _layout(metric: str, value, visitors, conversions, counts, exposure) -> str:
    if metric == "binary" and visitors is not None and conversions is not None:
        return "aggregated"
    if metric == "count" and counts is not None and exposure is not None:
        return "aggregated"
    if value is not None:
        return "row-level"
    needs = {
        "binary": "`value` (a 0/1 column per visitor) or both `visitors` and `conversions`",
        "count": "`value` (events per unit) or both `counts` and `exposure`",
        "continuous": "`value` (the metric per unit)",
    }[metric]
    raise ValueError(f"a {metric} table needs {needs}; none were given.")


def sufficient_statistics(
    frame: Any,
    *,
    variant: str = "variant",
    by: Sequence[str] = (),
    metric: str = "binary",
    value: str | None = None,
    visitors: str | None = None,
    conversions: str | None = None,
    counts: str | None = None,
    exposure: str | None = None,
    covariate: str | None = None,
):
    """Per (``by``, variant) group: the sufficient statistics of ``metric``, computed where the data lives.

    Returns a pandas DataFrame sorted by ``by`` and variant with columns ``n`` (units; exposure for
    counts), ``rows`` (table rows in the group) and ``total`` (conversions, events or the sum of
    values), plus ``mean`` and ``variance`` (population variance) for a continuous metric, and with
    ``covariate`` (CUPED) ``mean_x``, ``variance_x`` and ``covariance``. Raises ``ValueError`` naming
    the column, the group and the fix for missing columns, missing values, non-binary values,
    negative counts and conversions above visitors.
    """
    import narwhals as nw

    metric = check_choice(metric, "metric", METRICS)
    data = nw.from_native(frame)
    data = data.lazy() if isinstance(data, nw.DataFrame) else data
    names = _columns_of(data)
    by = [str(b) for b in by]
    _require(names, {"variant": variant, **{f"segment {b}": b for b in by}})
    layout = _layout(metric, value, visitors, conversions, counts, exposure)
    keys = [*by, variant]
    # Row-wise indicator columns first, then only simple aggregations (sums, counts, mean, variance):
    # every backend runs those natively (pandas included, without a per-group Python fallback).
    if layout == "aggregated":
        size, total = (visitors, conversions) if metric == "binary" else (exposure, counts)
        _require(names, {"visitors" if metric == "binary" else "exposure": size})
        _require(names, {"conversions" if metric == "binary" else "counts": total})
        s, t = nw.col(size), nw.col(total)
        checks = {
            "_missing": s.is_null() | t.is_null(),
            "_negative_size": s < 0,
            "_negative_total": t < 0,
            "_over": t > s,
        }
        if metric != "binary":
            checks.pop("_over")
        sums = {"n": s, "total": t}
    else:
        _require(names, {"value": value})
        x = nw.col(value)
        checks = {"_missing": x.is_null(), "_not_finite": ~x.is_finite(), "_negative_total": x < 0}
        if metric == "binary":
            checks["_not_binary"] = (x != 0) & (x != 1)
        if metric == "continuous":
            checks.pop("_negative_total")
        if covariate is not None:
            if metric != "continuous":
                raise ValueError(f"a covariate (CUPED) adjusts a continuous metric; got metric={metric!r}.")
            _require(names, {"covariate": covariate})
            c = nw.col(covariate)
            checks["_missing_covariate"] = c.is_null()
            checks["_not_finite_covariate"] = ~c.is_finite()
        sums = {"total": x}
    data = data.with_columns(*(check.cast(nw.Int64).alias(name) for name, check in checks.items()))
    aggregates = [nw.col(name).sum().alias(name) for name in checks]
    aggregates += [column.sum().alias(name) for name, column in sums.items()]
    aggregates.append(nw.len().alias("rows"))
    if layout == "row-level":
        aggregates.append(nw.len().alias("n"))
    if metric == "continuous":
        aggregates += [nw.col(value).mean().alias("mean"), nw.col(value).var(ddof=0).alias("variance")]
    if covariate is not None:
        data = data.with_columns((nw.col(value) * nw.col(covariate)).alias("_xy"))
        aggregates += [
            nw.col(covariate).mean().alias("mean_x"),
            nw.col(covariate).var(ddof=0).alias("variance_x"),
            nw.col("_xy").mean().alias("_mean_xy"),
        ]
    grouped = data.group_by(keys).agg(*aggregates).sort(keys)
    stats = grouped.collect(backend="pandas").to_native().reset_index(drop=True)
    if covariate is not None:  # population covariance from the means (the engines have no covariance aggregate)
        stats["covariance"] = stats["_mean_xy"] - stats["mean_x"] * stats["mean"]
    _check_statistics(stats, keys, metric, layout, value, visitors, conversions, counts, exposure)
    return stats[[*keys, *[c for c in stats.columns if c not in keys and not c.startswith("_")]]]


def _group_name(stats, keys: list[str], row: int) -> str:
    return ", ".join(f"{k}={stats[k].iloc[row]!r}" for k in keys)


def _check_statistics(stats, keys, metric, layout, value, visitors, conversions, counts, exposure) -> None:
    checks = [
        ("_missing", "has {count:g} missing value(s) in {what}; drop or fill them before the test"),
        ("_not_finite", "has {count:g} infinite value(s) in {what}; drop them before the test"),
        ("_negative_size", "has {count:g} negative value(s) in {what}"),
        ("_not_binary", "has {count:g} value(s) in {what} that are not 0 or 1; use metric='continuous'"),
        ("_over", "has {count:g} row(s) where {what}: conversions cannot exceed visitors"),
        ("_missing_covariate", "has {count:g} missing value(s) in the covariate; drop or fill them (CUPED)"),
        ("_not_finite_covariate", "has {count:g} infinite value(s) in the covariate; drop them (CUPED)"),
    ]
    if metric != "continuous":
        checks.insert(3, ("_negative_total", "has {count:g} negative value(s) in {what}"))
    what = {
        "_missing": ", ".join(repr(c) for c in (value, visitors, conversions, counts, exposure) if c),
        "_not_finite": repr(value),
        "_negative_size": repr(visitors or exposure),
        "_negative_total": repr(conversions or counts or value),
        "_not_binary": repr(value),
        "_over": f"{conversions!r} > {visitors!r}",
        "_missing_covariate": "",
        "_not_finite_covariate": "",
    }
    for column, message in checks:
        if column in stats.columns:
            bad = stats[column].fillna(0).to_numpy() > 0
            if bad.any():
                row = int(np.argmax(bad))
                count = float(stats[column].iloc[row])
                detail = message.format(count=count, what=what[column])
                raise ValueError(f"group ({_group_name(stats, keys, row)}) {detail}.")
    empty = stats["n"].to_numpy() <= 0
    if empty.any():
        row = int(np.argmax(empty))
        unit = "visitors" if metric == "binary" else "exposure" if metric == "count" else "rows"
        raise ValueError(
            f"group ({_group_name(stats, keys, row)}) has zero {unit}; a variant with nothing assigned cannot be "
            "compared. Drop it from the query (or check the assignment: it may be a sample-ratio failure)."
        )
    if metric == "continuous" and (stats["n"].to_numpy() < 2).any():
        row = int(np.argmax(stats["n"].to_numpy() < 2))
        raise ValueError(f"group ({_group_name(stats, keys, row)}) has 1 row; a continuous metric needs >= 2 per arm.")
