"""Result cache: an embedded SQLite database, keyed by a hash of everything that shapes a
result (Verilog, top, Yosys script, Liberty text, tool versions, stimulus parameters).

Location: ``$MACFORGE_CACHE`` if set, else ``~/.cache/macforge``; the file is
``costmodel.sqlite`` there. WAL journal mode so readers never block the writer (parallel
pytest workers, two shells); every write is one transaction (``INSERT OR REPLACE``), so a
crash leaves either the old row or the new one.

A cache that is not a directory, or a database SQLite cannot read (``database disk image is
malformed``), is a :class:`CacheError`: one line naming the file and the fix (move it aside).
It is never rebuilt silently: a cache holds hours of synthesis.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import zlib

from macforge.errors import MacforgeError

__all__ = ["Cache", "CacheError", "cache_dir", "corrupted", "key", "logs_dir"]

_SCHEMA = 1


class CacheError(ValueError, MacforgeError):
    """The cache directory or database cannot be used; the message names it and the fix."""


def cache_dir() -> str:
    return os.environ.get("MACFORGE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                             "macforge")


def _ensure_dir(path: str) -> str:
    try:
        os.makedirs(path, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        env = " (MACFORGE_CACHE)" if os.environ.get("MACFORGE_CACHE") else ""
        raise CacheError(f"cache directory {path}{env} is a file or lies below one; point "
                         "MACFORGE_CACHE at a directory") from None
    except OSError as exc:
        raise CacheError(f"cannot create cache directory {path}: {exc.strerror}") from None
    return path


def logs_dir() -> str:
    """``cache_dir()/logs``: where the log of a failed tool run in a scratch directory is
    kept (created on use)."""
    return _ensure_dir(os.path.join(cache_dir(), "logs"))


def corrupted(path: str, exc: BaseException, what: str, fix: str) -> MacforgeError:
    """The one-line error for a database SQLite cannot read (``fix`` says what to do); for
    an operational failure (locked, unwritable) the message says that instead."""
    msg = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, sqlite3.OperationalError):
        return CacheError(f"cannot use {what} {path}: {msg}")
    return CacheError(f"{what} {path} is corrupted or not a macforge database ({msg}); {fix}")

def _json(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def key(*parts) -> str:
    """sha256 over the JSON of ``parts`` (strings, numbers, dicts, lists)."""
    h = hashlib.sha256()
    h.update(_json([_SCHEMA, *parts]).encode())
    return h.hexdigest()


def keyer(before: tuple, after: tuple):
    """``f(part) == key(*before, part, *after)``, the fixed parts encoded and hashed once (a
    million sweep points differ only in their axes). The JSON of a list is its items' JSON
    joined by ``", "`` inside brackets, so the bytes hashed are those :func:`key` hashes."""
    head = hashlib.sha256(("[" + ", ".join(_json(p) for p in (_SCHEMA, *before)) + ", ")
                          .encode())
    tail = "".join(", " + _json(p) for p in after).encode() + b"]"

    def f(part) -> str:
        h = head.copy()
        h.update(_json(part).encode())
        h.update(tail)
        return h.hexdigest()
    return f


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
        _ensure_dir(os.path.dirname(os.path.abspath(self.path)))
        if os.path.isdir(self.path):
            raise CacheError(f"cost cache {self.path} is a directory; move it aside")
        db = self._connect()
        try:
            with db:
                db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, "
                           "kind TEXT, created REAL, value BLOB)")
                db.execute("SELECT key, value FROM results LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._corrupted(exc) from None
        finally:
            db.close()

    def _corrupted(self, exc):
        return corrupted(self.path, exc, "cost cache",
                         f"move it aside (mv {self.path} {self.path}.bad) and run again to "
                         "start an empty cache")

    def _connect(self):
        try:
            db = sqlite3.connect(self.path, timeout=60)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            raise self._corrupted(exc) from None
        return db

    def get(self, k: str):
        if self.refresh:
            return None
        db = self._connect()
        try:
            row = db.execute("SELECT value FROM results WHERE key = ?", (k,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._corrupted(exc) from None
        finally:
            db.close()
        if row is None:
            return None
        try:
            return json.loads(zlib.decompress(row[0]))
        except (zlib.error, ValueError, TypeError) as exc:
            raise self._corrupted(exc) from None

    def put(self, k: str, kind: str, value: dict) -> None:
        blob = zlib.compress(json.dumps(value, sort_keys=True).encode(), 6)
        db = self._connect()
        try:
            with db:                    # one transaction: all or nothing
                db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
                           (k, kind, time.time(), blob))
        except sqlite3.DatabaseError as exc:
            raise self._corrupted(exc) from None
        finally:
            db.close()

    def __len__(self):
        db = self._connect()
        try:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            db.close()
