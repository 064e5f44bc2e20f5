"""Progress lines for the user: one line each on stderr, flushed at once.

A leaf module (it imports nothing of macforge). Library functions take a ``progress`` callable
that defaults to None (silent); the command line passes :func:`say`, or :func:`prefixed` for a
subcommand that labels its lines.

Examples
--------
>>> from macforge import progress
>>> progress.say("macforge: costing fmul_e4m3fn_e4m3fn_rne_s0 on asic")   # doctest: +SKIP
"""
from __future__ import annotations

import sys

__all__ = ["say", "prefixed"]


def say(msg: str) -> None:
    """Write ``msg`` and a newline to stderr and flush it."""
    sys.stderr.write(f"{msg}\n")
    sys.stderr.flush()


def prefixed(prefix: str):
    """A progress callable that says every message after ``prefix``."""
    return lambda msg: say(f"{prefix}{msg}")
