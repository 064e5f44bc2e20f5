"""Where an output came from: the macforge version, the git commit, the command that regenerates it.

A leaf module (it imports nothing of macforge), so every layer's writers can stamp their
files. The version comes from the installed distribution's metadata
(:func:`importlib.metadata.version`), the commit from ``git rev-parse`` of the package's own
checkout when there is one (an installed wheel has none: ``commit()`` is then None). The
command is the one the command line recorded with :func:`set_command` before it ran (so a
report says ``macforge pareto --formats e4m3,int8``); outside the command line it is the
Python process's ``sys.argv``.

Examples
--------
>>> from macforge import provenance
>>> provenance.version()                                  # doctest: +SKIP
'0.1.0'
>>> sorted(provenance.stamp())
['command', 'commit', 'version']
>>> provenance.line().startswith("macforge ")
True
"""
from __future__ import annotations

import csv
import functools
import json
import math
import os
import shlex
import subprocess
import sys

__all__ = ["version", "commit", "describe", "set_command", "command", "stamp", "line", "tidy",
           "dumps", "write_json", "write_csv", "read_csv"]

_PKGDIR = os.path.dirname(os.path.abspath(__file__))
_command: str | None = None


@functools.lru_cache(maxsize=None)
def version() -> str:
    """The installed macforge version, from the package metadata (``pyproject.toml``'s
    ``version``, the one place it is written); ``"0+unknown"`` for sources run uninstalled."""
    from importlib import metadata
    try:
        return metadata.version("macforge")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@functools.lru_cache(maxsize=None)
def commit() -> str | None:
    """The short git commit of the checkout macforge runs from, with ``+dirty`` when the
    tracked files differ from it; None outside a git checkout or without git."""
    def git(*args):
        return subprocess.run(["git", "-C", _PKGDIR, *args], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    try:
        sha = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("+dirty" if dirty else "") if sha else None


def describe() -> str:
    """``"0.1.0"`` or ``"0.1.0 (git 3f2a9c1b0d4e)"``: what ``macforge --version`` prints."""
    c = commit()
    return version() + (f" (git {c})" if c else "")


def set_command(argv) -> None:
    """Record the command line (the arguments after ``macforge``) that is running."""
    global _command
    _command = shlex.join(["macforge", *argv])


def command() -> str:
    """The command that regenerates the current outputs."""
    if _command is not None:
        return _command
    return shlex.join([os.path.basename(sys.argv[0]) or "python", *sys.argv[1:]])


def stamp() -> dict:
    """``{"version", "commit", "command"}``: the provenance record JSON outputs carry under
    the key ``"macforge"``."""
    return {"version": version(), "commit": commit(), "command": command()}


def line() -> str:
    """One line for text outputs (CSV, Markdown, HTML comments):
    ``macforge 0.1.0 (git 3f2a9c1b0d4e): macforge pareto --formats e4m3``."""
    return f"macforge {describe()}: {command()}"


def tidy(value, digits: int = 12):
    """``value`` with every float rounded to ``digits`` significant digits, recursively
    through dicts, lists and tuples, so that sums of binary fractions print as the number they
    stand for (``0.33893720000000005`` -> ``0.3389372``); 12 digits are far below the
    resolution of any measured figure and far above its precision. Non-finite floats become
    None (JSON has no NaN)."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: tidy(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tidy(v, digits) for v in value]
    return value


def dumps(obj, exact: bool = False) -> str:
    """The JSON document of ``obj``: a dict gets the provenance record under ``"macforge"``
    first, a list becomes ``{"macforge": ..., "rows": [...]}``; floats tidied (:func:`tidy`)
    unless ``exact`` (values that are exact by construction, such as a format's)."""
    body = obj if isinstance(obj, dict) else {"rows": obj}
    body = body if exact else tidy(body)
    return json.dumps({"macforge": stamp(), **body}, indent=1, default=str)


def write_json(path, obj) -> None:
    """Write :func:`dumps` of ``obj`` and a newline to ``path``."""
    with open(path, "w") as f:
        f.write(dumps(obj) + "\n")


def write_csv(path, rows, columns) -> None:
    """Write ``rows`` (dicts) as CSV with the header ``columns``: one comment line
    ``# macforge <version>: <command>`` first, then the header and one line per row; missing
    values are empty, floats tidied. :func:`read_csv` reads it back."""
    with open(path, "w", newline="") as f:
        f.write(f"# {line()}\n")
        w = csv.DictWriter(f, fieldnames=list(columns), restval="", extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: tidy(v) for k, v in r.items()})


def read_csv(path) -> list:
    """The rows of a macforge CSV (:func:`write_csv`) as dicts, the ``#`` comment lines
    skipped and numeric fields as int or float (empty fields as None)."""
    def num(text):
        if text == "":
            return None
        for conv in (int, float):
            try:
                return conv(text)
            except ValueError:
                pass
        return text
    with open(path, newline="") as f:
        reader = csv.DictReader(line for line in f if not line.startswith("#"))
        return [{k: num(v) for k, v in r.items()} for r in reader]
