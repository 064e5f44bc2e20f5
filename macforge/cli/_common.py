"""Pieces several subcommands share: argument types, the results cache, result trimming."""
from __future__ import annotations

import argparse

__all__ = ["ignore_further_interrupts", "bounded", "check_output_dir", "comma_choices",
           "add_run_args", "cache_from_args", "strip_netlist", "add_timed_arg"]


def bounded(limit):
    """An argparse type: a number within :data:`macforge.limits.LIMITS` ``[limit]``, checked
    while the command line is parsed (before any work), else a one-line message."""
    from macforge.limits import LIMITS, BoundsError, check, shown
    lim = LIMITS[limit]

    def conv(text):
        given = text if len(text) <= 40 else shown(text)      # the option's text as typed
        msg = f"{limit.replace('_', '-')} must be {lim.describe()}, not {given}"
        try:
            return check(limit, float(text) if lim.real else int(text, 10))
        except (ValueError, BoundsError):
            raise argparse.ArgumentTypeError(msg) from None
    return conv


def check_output_dir(path, option: str) -> str:
    """``path`` if it is a directory or can be made one (created later, by the command's
    work); else a one-line UsageError: a file where the directory or one of its parents
    should be (``-o /etc/passwd``)."""
    import os
    from macforge.errors import UsageError
    if not path:
        raise UsageError(f"{option} needs a directory, not an empty string")
    p = os.path.abspath(path)
    while True:
        if os.path.exists(p):
            if not os.path.isdir(p):
                what = "" if p == os.path.abspath(path) else f" ({p} is a file)"
                raise UsageError(f"{option} {path} is not a directory{what}; give a directory "
                                 "(it is created if missing)")
            if not os.access(p, os.W_OK | os.X_OK):
                raise UsageError(f"{option} {path}: {p} is not writable; give a directory you "
                                 "can write")
            return path
        parent = os.path.dirname(p)
        if parent == p:
            return path
        p = parent


def comma_choices(noun, accepted, hint):
    """An argparse type: a comma list of names from ``accepted()`` (called on use, so the
    parser is built without importing the module that defines them)."""
    def conv(text):
        names = accepted()
        vals = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in vals if t not in names]
        if not vals or bad:
            raise argparse.ArgumentTypeError(f"unknown {noun} {(bad or [text])[0]!r}; accepted: "
                                             + ", ".join(names) + f" ({hint})")
        return vals
    return conv


def add_run_args(p):
    """``-n``, ``--json`` and ``--no-cache`` of the commands that run the cost model's table."""
    p.add_argument("-n", type=bounded("ops"), default=100_000)
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-cache", action="store_true")


#: --timed-samples: default and upper bound (costmodel.timed.MAX_SAMPLES; docs/energy.md)
TIMED_DEFAULT, TIMED_MAX = 2000, 50_000


def add_timed_arg(p):
    """``--timed-samples N``: operations of the timed (glitch-counting) energy run, 0: off."""
    def conv(text):
        try:
            v = int(text, 10)
        except ValueError:
            v = -1
        if v < 0 or v == 1 or v > TIMED_MAX:
            from macforge.limits import shown
            raise argparse.ArgumentTypeError(f"--timed-samples must be 0 (off) or 2..{TIMED_MAX}, "
                                             f"not {shown(text)}")
        return v
    p.add_argument("--timed-samples", type=conv, default=TIMED_DEFAULT,
                   help=f"operations of the timed energy simulation (glitches, clock, leakage; "
                        f"default {TIMED_DEFAULT}, at most {TIMED_MAX}, 0: off)")


def cache_from_args(args):
    from macforge.costmodel import Cache
    return Cache(refresh=args.no_cache)


def strip_netlist(res):
    """A result without the bulky netlist, for --json."""
    if isinstance(res, dict):
        return {k: strip_netlist(v) for k, v in res.items() if k != "netlist"}
    return res


def ignore_further_interrupts():
    """After the first Ctrl-C the command is ending: further ones must not interrupt its
    clean-up (or the interpreter's exit) with a traceback."""
    import signal
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):       # not the main thread: nothing to do
        pass
