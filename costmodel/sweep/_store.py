"""The results store: ``<output>/sweep.sqlite``, SQLite in WAL mode, written by the driver only.

Tables
------
``results``  one row per measured point, keyed by its content key (:func:`content_key`):
             ``status`` ok|failed, ``metrics`` (JSON), ``error``/``trace`` of a failure,
             ``seconds``, ``host``, ``session`` (the driver run that measured it), ``finished``.
``plan``     sweep parameters -> content key (``param_key`` hashes the axis values, the
             measurement settings, the macforge sources and the tool versions), so a restart
             knows what is finished without generating any Verilog.
``sweeps``   one row per distinct sweep (the YAML text, its measurement settings).
``members``  the points of each sweep in file order: ``idx``, ``param_key``, ``axes`` (JSON).

A finished point is written as its ``results`` row and ``plan`` row in one transaction, so a
``kill -9`` of the driver leaves either both or neither; nothing else is ever half-written.

A store SQLite cannot read (``database disk image is malformed``, a file that is no
database) is a :class:`~costmodel.cache.CacheError` naming the file and the fix: move it
aside, or ``macforge sweep --rebuild`` (which moves it aside itself). It is never rebuilt
silently. :func:`read_planned` reads a store without writing anything (dry runs).
"""
from __future__ import annotations

import json
import os
import sqlite3
import time

from macforge.errors import MacforgeError

from ..cache import corrupted

__all__ = ["Store", "store_path", "load_results", "read_planned", "move_aside", "rebuild", "FIX"]

#: What to do about a store SQLite cannot read.
FIX = "move it aside (or run again with --rebuild, which does) to start a new store"

FILE = "sweep.sqlite"

_TABLES = (
    "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, status TEXT NOT NULL, "
    "module TEXT, measure TEXT, metrics TEXT, error TEXT, trace TEXT, seconds REAL, host TEXT, "
    "session TEXT, finished REAL)",
    "CREATE INDEX IF NOT EXISTS results_by_module ON results (module, measure)",
    "CREATE TABLE IF NOT EXISTS plan (param_key TEXT PRIMARY KEY, key TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sweeps (id INTEGER PRIMARY KEY, fingerprint TEXT UNIQUE, "
    "name TEXT, path TEXT, spec TEXT, measure TEXT, started REAL)",
    "CREATE TABLE IF NOT EXISTS members (sweep INTEGER, idx INTEGER, param_key TEXT, "
    "module TEXT, axes TEXT, PRIMARY KEY (sweep, idx))",
)


def store_path(path: str) -> str:
    """The database file of an output directory (or the file itself)."""
    return os.path.join(path, FILE) if os.path.isdir(path) or not path.endswith(".sqlite") \
        else path


def _connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=60)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _checked(path: str, what):
    """``what()`` with SQLite's errors on a damaged file turned into one line."""
    try:
        return what()
    except sqlite3.DatabaseError as exc:
        raise corrupted(path, exc, "sweep store", FIX) from None


def move_aside(path: str) -> str:
    """Rename a damaged store (and its -wal/-shm files) to ``<name>.corrupt-<time>``; return
    the new name."""
    dest = f"{path}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(path + ext):
            os.replace(path + ext, dest + ext)
    return dest


def rebuild(outdir: str):
    """Move ``outdir``'s store aside (:func:`move_aside`) unless a driver holds it; return
    (old, new) names, or None when there is no store."""
    path = os.path.join(outdir, FILE)
    if not os.path.exists(path):
        return None
    with open(os.path.join(outdir, ".sweep.lock"), "w") as lock:
        _lock(lock, outdir)
        return path, move_aside(path)


def _lock(f, outdir):
    try:
        import fcntl
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise OSError(f"another sweep is running into {outdir}") from None
    except ImportError:                     # no flock (Windows): no guard
        pass


def read_planned(path: str, param_keys) -> dict:
    """:meth:`Store.planned` of the store file ``path``, opened read-only (no lock, no file
    created); {} when there is no store."""
    if not os.path.isfile(path):
        return {}
    def read():
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
        try:
            return _planned(db, param_keys)
        finally:
            db.close()
    try:
        return _checked(path, read)
    except MacforgeError:
        raise
    except sqlite3.Error as exc:              # pragma: no cover - e.g. unreadable
        raise corrupted(path, exc, "sweep store", FIX) from None


def _planned(db, param_keys) -> dict:
    out = {}
    q = ("SELECT p.param_key, p.key, r.status FROM plan p JOIN results r ON r.key = p.key "
         "WHERE p.param_key IN ({})")
    keys = list(param_keys)
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        for pk, k, status in db.execute(q.format(",".join("?" * len(chunk))), chunk):
            out[pk] = (k, status)
    return out


class Store:
    """The driver's handle on ``<outdir>/sweep.sqlite`` (one driver per directory: a lock file
    refuses a second one)."""

    def __init__(self, outdir: str):
        os.makedirs(outdir, exist_ok=True)
        self.path = os.path.join(outdir, FILE)
        self._lock = open(os.path.join(outdir, ".sweep.lock"), "w")
        try:
            _lock(self._lock, outdir)
        except OSError:
            self._lock.close()
            raise
        try:
            self.db = _checked(self.path, lambda: _connect(self.path))
            def create():
                with self.db:
                    for sql in _TABLES:
                        self.db.execute(sql)
                    self.db.execute("SELECT COUNT(*) FROM plan").fetchone()
            _checked(self.path, create)
        except BaseException:
            self._lock.close()
            raise

    def close(self):
        self.db.close()
        self._lock.close()

    def begin(self, fingerprint, name, path, spec_text, measure, members) -> int:
        """Register a sweep (or find it again); ``members``: [(param_key, module, axes)]."""
        with self.db:
            row = self.db.execute("SELECT id FROM sweeps WHERE fingerprint = ?",
                                  (fingerprint,)).fetchone()
            if row is None:
                cur = self.db.execute(
                    "INSERT INTO sweeps (fingerprint, name, path, spec, measure, started) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (fingerprint, name, path, spec_text, json.dumps(measure, sort_keys=True),
                     time.time()))
                sid = cur.lastrowid
                self.db.executemany(
                    "INSERT INTO members VALUES (?, ?, ?, ?, ?)",
                    [(sid, i, pk, mod, json.dumps(axes)) for i, (pk, mod, axes)
                     in enumerate(members)])
            else:
                sid = row[0]
                self.db.execute("UPDATE sweeps SET started = ?, path = ? WHERE id = ?",
                                (time.time(), path, sid))
        return sid

    def planned(self, param_keys) -> dict:
        """{param_key: (content key, status)} for the points already measured."""
        return _checked(self.path, lambda: _planned(self.db, param_keys))

    def known(self, module: str, measure_json: str) -> list:
        """Content keys of finished points of ``module`` measured with these settings."""
        return [k for (k,) in self.db.execute(
            "SELECT key FROM results WHERE module = ? AND measure = ? AND status = 'ok'",
            (module, measure_json))]

    def record(self, param_key: str, res: dict, measure_json: str, session: str) -> str:
        """Write one finished point (result + plan) in one transaction; return its key."""
        k = res["key"] or f"param:{param_key}"     # failed before it had Verilog
        with self.db:
            if res["status"] != "known":
                self.db.execute(
                    "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (k, res["status"], res["module"], measure_json,
                     json.dumps(res["metrics"], sort_keys=True), res["error"], res["trace"],
                     res["seconds"], res["host"], session, time.time()))
            self.db.execute("INSERT OR REPLACE INTO plan VALUES (?, ?)", (param_key, k))
        return k


class NoResults(FileNotFoundError, LookupError, MacforgeError):
    """No store in the directory, or no such sweep in it (one line; still the
    FileNotFoundError / LookupError it was)."""


def _sweep_id(db, sweep):
    if sweep is None:
        row = db.execute("SELECT id FROM sweeps ORDER BY started DESC, id DESC LIMIT 1").fetchone()
    elif isinstance(sweep, int):
        row = db.execute("SELECT id FROM sweeps WHERE id = ?", (sweep,)).fetchone()
    else:
        row = db.execute("SELECT id FROM sweeps WHERE name = ? ORDER BY started DESC, id DESC "
                         "LIMIT 1", (sweep,)).fetchone()
    return None if row is None else row[0]


def load_results(path: str, sweep=None, include_failed: bool = False) -> list:
    """The finished points of a sweep as flat dicts (see :mod:`costmodel.sweep` for the keys).

    Parameters
    ----------
    path : str
        The sweep's output directory (``results/``) or its ``sweep.sqlite``.
    sweep : str or int, optional
        Sweep name or id (default: the sweep last run into ``path``).
    include_failed : bool
        Also return failed points; every row then has ``status`` and ``error``.
    """
    db_path = store_path(path)
    if not os.path.isfile(db_path):
        raise NoResults(f"no sweep results in {path} (expected {db_path}; run "
                        "`macforge sweep SWEEP.yaml -o DIR` first)")
    db = sqlite3.connect(db_path, timeout=60)       # reads only; WAL: never blocks the driver
    try:
        sid = _checked(db_path, lambda: _sweep_id(db, sweep))
        if sid is None:
            raise NoResults(f"{db_path} holds no sweep" + (f" named {sweep!r}" if sweep else ""))
        rows = _checked(db_path, lambda: db.execute(
            "SELECT m.axes, m.module, r.key, r.status, r.metrics, r.error FROM members m "
            "JOIN plan p ON p.param_key = m.param_key JOIN results r ON r.key = p.key "
            "WHERE m.sweep = ? ORDER BY m.idx", (sid,)).fetchall())
    finally:
        db.close()
    out = []
    for axes, module, k, status, metrics, error in rows:
        if status != "ok" and not include_failed:
            continue
        d = dict(json.loads(axes))
        d["module"] = module
        d["point_key"] = k
        d.update(json.loads(metrics))
        if include_failed:
            d["status"], d["error"] = status, error
        out.append(d)
    return out
