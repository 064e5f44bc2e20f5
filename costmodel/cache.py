"""Result cache: an embedded SQLite database, keyed by a hash of everything that shapes a
result (Verilog, top, Yosys script, Liberty text, tool versions, stimulus parameters).

Location: ``$MACFORGE_CACHE`` if set, else ``~/.cache/macforge``; the file is
``costmodel.sqlite`` there. WAL journal mode so readers never block the writer (parallel
pytest workers, two shells); every write is one transaction (``INSERT OR REPLACE``), so a
crash leaves either the old row or the new one.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import zlib

__all__ = ["Cache", "cache_dir", "key"]

_SCHEMA = 1


def cache_dir() -> str:
    return os.environ.get("MACFORGE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                             "macforge")


def key(*parts) -> str:
    """sha256 over the JSON of ``parts`` (strings, numbers, dicts, lists)."""
    h = hashlib.sha256()
    h.update(json.dumps([_SCHEMA, *parts], sort_keys=True, default=str).encode())
    return h.hexdigest()


class Cache:
    """Get and put JSON-able dicts by key.

    Parameters
    ----------
    path : str, optional
        Database file (default ``cache_dir()/costmodel.sqlite``).
    refresh : bool
        Never return a stored result (``--no-cache``): recompute and overwrite.
    """

    def __init__(self, path: str | None = None, refresh: bool = False):
        self.path = path or os.path.join(cache_dir(), "costmodel.sqlite")
        self.refresh = refresh
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, kind TEXT, "
                       "created REAL, value BLOB)")

    def _connect(self):
        db = sqlite3.connect(self.path, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def get(self, k: str):
        if self.refresh:
            return None
        db = self._connect()
        try:
            row = db.execute("SELECT value FROM results WHERE key = ?", (k,)).fetchone()
        finally:
            db.close()
        if row is None:
            return None
        return json.loads(zlib.decompress(row[0]))

    def put(self, k: str, kind: str, value: dict) -> None:
        blob = zlib.compress(json.dumps(value, sort_keys=True).encode(), 6)
        db = self._connect()
        try:
            with db:                    # one transaction: all or nothing
                db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
                           (k, kind, time.time(), blob))
        finally:
            db.close()

    def __len__(self):
        db = self._connect()
        try:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            db.close()
