"""DuckDB as the embedded engine: a Parquet file, a database file opened read-only, or one SELECT query.

A query is parsed by DuckDB first and must be a single ``SELECT``: no DDL, DML, ``COPY``
or ``PRAGMA`` ever runs, and a database file is opened read-only, so it is never
modified. The relation returned is lazy: the aggregation of
:func:`bayeskit.sources.statistics.sufficient_statistics` runs inside DuckDB.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["open_source"]


def _connect(db: Path | None):
    import duckdb

    if db is None:
        return duckdb.connect()
    if not db.is_file():
        raise ValueError(f"`--db` {str(db)!r} is not a file; pass the path of an existing DuckDB database.")
    try:
        return duckdb.connect(str(db), read_only=True)  # the file is never modified
    except duckdb.Error as error:
        raise ValueError(f"`--db` {str(db)!r} could not be opened as a DuckDB database: {error}") from None


def _select_only(connection, sql: str) -> None:
    import duckdb

    try:
        statements = connection.extract_statements(sql)
    except duckdb.Error as error:
        raise ValueError(f"`--sql` does not parse: {error}. Fix the query (DuckDB's SQL dialect).") from None
    kinds = [statement.type.name for statement in statements]
    if kinds != ["SELECT"]:
        raise ValueError(
            f"`--sql` must be one read-only SELECT query; got {len(kinds)} statement(s) "
            f"({', '.join(kinds) or 'none'}). bayeskit never runs DDL, DML, COPY or PRAGMA."
        )


def open_source(data: Path | None, db: Path | None, table: str | None, sql: str | None):
    """A DuckDB connection and relation for the input, and a description of it."""
    import duckdb

    if sum(x is not None for x in (table, sql)) > 1:
        raise ValueError("pass either `--table` or `--sql`, not both.")
    if data is not None and (db is not None or table is not None or sql is not None):
        raise ValueError("pass either a data file or `--db`/`--table`/`--sql`, not both.")
    if table is not None and db is None:
        raise ValueError("`--table` names a table of a DuckDB database; pass the database with `--db FILE`.")
    if db is not None and table is None and sql is None:
        raise ValueError('`--db` needs `--table NAME` or `--sql "SELECT ..."` to say what to read.')
    connection = _connect(db)
    try:
        if data is not None:
            if not data.is_file():
                raise ValueError(f"no file at {str(data)!r}; pass the path of a Parquet file.")
            relation = connection.read_parquet(str(data))
            source = str(data)
        elif table is not None:
            relation = connection.table(table)
            source = f"{db}: table {table}"
        else:
            _select_only(connection, sql)
            relation = connection.sql(sql)
            source = f"{db}: query" if db is not None else "query"
    except duckdb.Error as error:
        connection.close()
        what = "the query" if sql is not None else f"table {table!r}" if table else f"{str(data)!r}"
        raise ValueError(f"DuckDB could not read {what}: {error}") from None
    except ValueError:
        connection.close()
        raise
    return connection, relation, source
