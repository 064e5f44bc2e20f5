"""Errors that every layer may raise and the command line reports as one line.

A leaf module: it imports nothing of macforge, so golden, hw, sim, costmodel, fpga and the CLI
can all use it.

- :class:`MacforgeError` is the base of the library's typed user errors (a bad sweep file, an
  unknown workload, a broken activity file, a failed link to a board, ...). Their message is one
  line naming what was wrong and what is accepted; ``macforge`` prints it as
  ``macforge: error: <message>`` on stderr and exits with status 2. Each keeps its old base
  (``ValueError``, ``RuntimeError``) too, so existing ``except`` clauses still catch it.
- :class:`UsageError` is bad command-line input found by the CLI itself.

Examples
--------
>>> from macforge.errors import MacforgeError, UsageError
>>> issubclass(UsageError, MacforgeError)
True
"""
from __future__ import annotations

__all__ = ["MacforgeError", "UsageError"]


class MacforgeError(Exception):
    """A user error with a one-line message: ``macforge`` prints it and exits with status 2."""


class UsageError(MacforgeError):
    """Bad command-line input: printed as one line, exit status 2."""
