"""One vocabulary for every option: the spellings an earlier release used, and what they are now.

An option has one name across the CLI (``--rounding``), Make (``ROUNDING=``), Python keyword
arguments (``rounding=``) and sweep YAML keys (``rounding:``); docs/options.md is the table,
generated from the parser (``python -m macforge.cli.make --table``). The old spellings keep
working for one release: each use prints one ``macforge: note:`` line naming the new one.
"""
from __future__ import annotations

__all__ = ["DEPRECATED_FLAGS", "DEPRECATED_MAKE", "rewrite_argv"]

#: (subcommand or None for every subcommand, old flag) -> new flag.
DEPRECATED_FLAGS = {
    (None, "--round"): "--rounding",
    (None, "--unfused"): "--no-fused",
    ("error-stats", "--out"): "--acc",
    ("fpga", "--out"): "--output",
}

#: Old Make variable -> the variable of the option it set.
DEPRECATED_MAKE = {
    "ROUND": "ROUNDING",
    "SAT": "SATURATE",
    "OUT": "OUTPUT",
    "RESULTS": "OUTPUT",
}


def rewrite_argv(argv):
    """``argv`` with deprecated flags replaced, and the notes to print (one per old flag).

    Only option tokens are rewritten (``--round`` and ``--round=rtz``); a value that happens to
    read ``--round`` after an option that takes it is left alone, since every deprecated flag
    here is itself an option, never a value.

    >>> rewrite_argv(["sim", "--round", "rtz", "--unfused"])[0]
    ['sim', '--rounding', 'rtz', '--no-fused']
    """
    argv = list(argv)
    cmd = next((a for a in argv if not a.startswith("-")), None)
    out, notes = [], []
    for tok in argv:
        flag, eq, val = tok.partition("=")
        new = DEPRECATED_FLAGS.get((cmd, flag)) or DEPRECATED_FLAGS.get((None, flag))
        if new is not None and flag.startswith("--"):
            if new.startswith("--no-") and eq:
                raise_value = f"{flag} takes no value"
                from macforge.errors import UsageError
                raise UsageError(raise_value)
            notes.append(f"{flag} is deprecated and will be removed in the next release; use {new}")
            tok = new + (eq + val if eq else "")
        out.append(tok)
    return out, notes
