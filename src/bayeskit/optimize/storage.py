"""Where a study's trials live: SQLite (a file, or memory) in WAL mode, one row per trial.

A row is written when a trial is asked for (state ``running``) and updated when it is told;
the ``meta`` table pins the search space and direction so that a file is never resumed by
a different study.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

__all__ = ["TrialStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    number INTEGER PRIMARY KEY,
    params TEXT NOT NULL,
    value REAL,
    state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'failed')),
    started REAL NOT NULL,
    finished REAL,
    error TEXT
);
"""


class TrialStore:
    """The trials table of one study: ``(number, params, value, state, error)`` rows, nothing else.

    Parameters
    ----------
    path
        A SQLite file (created, or reopened to resume), or None for memory only.
    meta
        What the study was created with (e.g. the space and direction); reopening a file
        with different values is an error naming the key.
    """

    def __init__(self, path: str | Path | None, meta: dict[str, str]):
        self.path = None if path is None else Path(path)
        self._connection = sqlite3.connect(":memory:" if path is None else str(self.path), timeout=30.0)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.executescript(_SCHEMA)
        with self._connection:
            for key, value in meta.items():
                row = self._connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
                if row is None:
                    self._connection.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
                elif row[0] != value:
                    raise ValueError(
                        f"the study in {self.path} was created with another {key} ({row[0]}); "
                        f"this call has {value}. Use a new --study file or the original {key}."
                    )

    def rows(self, state: str | None = None) -> list[tuple]:
        """``(number, params JSON, value, state, error)`` rows in trial order, optionally of one state."""
        query = "SELECT number, params, value, state, error FROM trials"
        if state is not None:
            return self._connection.execute(query + " WHERE state = ? ORDER BY number", (state,)).fetchall()
        return self._connection.execute(query + " ORDER BY number").fetchall()

    def state(self, number: int) -> str | None:
        """The state of trial ``number``, or None when there is no such trial."""
        row = self._connection.execute("SELECT state FROM trials WHERE number = ?", (number,)).fetchone()
        return None if row is None else row[0]

    def start(self, params: dict[str, Any]) -> int:
        """Record a new running trial; returns its number."""
        with self._connection:
            cursor = self._connection.execute(
                "INSERT INTO trials (params, state, started) VALUES (?, 'running', ?)",
                (json.dumps(params), time.time()),
            )
        return int(cursor.lastrowid)

    def finish(self, number: int, value: float | None, state: str, error: str | None) -> None:
        """Record a trial's outcome (``state`` ``"complete"`` or ``"failed"``)."""
        with self._connection:
            self._connection.execute(
                "UPDATE trials SET value = ?, state = ?, finished = ?, error = ? WHERE number = ?",
                (value, state, time.time(), error, number),
            )

    def close(self) -> None:
        """Close the database connection."""
        self._connection.close()
