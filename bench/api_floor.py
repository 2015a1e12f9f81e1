"""The floor of bench/api.py: the same pages read straight from the same SQLite file.

A page here is what the listing costs without HTTP, FastAPI, the service, the
model or the views: the marker's lookup and the keyset query for the next 1,000
rows (``created_at`` then ``id``, descending, Basalt's default order) on the
sqlite3 module, then ``json.dumps`` of the rows as column -> value objects. The
query carries the redundant bound ``created_at <= marker``, so SQLite seeks to
the marker instead of walking the index from the top: the floor is the best
this SQL can do. A show is the by-id SELECT plus ``json.dumps`` of the row.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

_COLUMNS = "SELECT * FROM volumes WHERE project_id = ?"
_ORDER = " ORDER BY created_at DESC, id DESC LIMIT ?"
FIRST_PAGE = _COLUMNS + _ORDER
NEXT_PAGE = (
    _COLUMNS + " AND created_at <= ? AND (created_at < ? OR (created_at = ? AND id < ?))" + _ORDER
)
MARKER = "SELECT created_at, id FROM volumes WHERE id = ? AND project_id = ?"
SHOW = "SELECT * FROM volumes WHERE id = ?"


@contextmanager
def reading(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only sqlite3 connection to a database a server is using (WAL)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        yield db
    finally:
        db.close()


def _dumped(cursor: sqlite3.Cursor, rows: Sequence[tuple[object, ...]]) -> str:
    names = [d[0] for d in cursor.description]
    return json.dumps({"volumes": [dict(zip(names, row, strict=True)) for row in rows]})


def walk(db: sqlite3.Connection, *, project_id: str, limit: int) -> list[tuple[int, float]]:
    """Read every page as bench/api.py's clients do through the API.

    Args:
        db: a connection from :func:`reading`.
        project_id: the project whose volumes are listed.
        limit: rows per page.

    Returns:
        (rows, seconds) for each page, the last (short or empty) one included.
    """
    pages: list[tuple[int, float]] = []
    marker: str | None = None
    while True:
        started = time.perf_counter()
        if marker is None:
            cursor = db.execute(FIRST_PAGE, (project_id, limit))
        else:
            at, key = db.execute(MARKER, (marker, project_id)).fetchone()
            cursor = db.execute(NEXT_PAGE, (project_id, at, at, at, key, limit))
        rows = cursor.fetchall()
        _dumped(cursor, rows)
        pages.append((len(rows), time.perf_counter() - started))
        if len(rows) < limit:
            return pages
        marker = str(rows[-1][[d[0] for d in cursor.description].index("id")])


def shows(db: sqlite3.Connection, volume_ids: Sequence[str]) -> list[float]:
    """Seconds of each by-id read plus json.dumps."""
    latencies: list[float] = []
    for volume_id in volume_ids:
        started = time.perf_counter()
        cursor = db.execute(SHOW, (volume_id,))
        _dumped(cursor, cursor.fetchall())
        latencies.append(time.perf_counter() - started)
    return latencies
