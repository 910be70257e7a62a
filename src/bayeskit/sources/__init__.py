"""Data where it lives: tables of any engine reduced to sufficient statistics inside that engine.

``statistics.sufficient_statistics`` (Narwhals: pandas, Polars, DuckDB, PySpark, ...) and
``duckdb.open_source`` (Parquet files, read-only database files, SELECT-only queries).
"""

from bayeskit.sources.statistics import METRICS, sufficient_statistics

__all__ = ["METRICS", "sufficient_statistics"]
