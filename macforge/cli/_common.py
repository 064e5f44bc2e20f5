"""Pieces several subcommands share: argument types, the results cache, result trimming."""
from __future__ import annotations

import argparse

__all__ = ["nonneg_int", "positive_int", "comma_choices", "add_run_args", "cache_from_args",
           "strip_netlist", "add_timed_arg"]


def nonneg_int(name):
    """An argparse type: a non-negative integer, else a message naming the option."""
    def conv(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a non-negative integer, not {text!r}") from None
        if v < 0:
            raise argparse.ArgumentTypeError(f"{name} must be a non-negative integer, not {v}")
        return v
    return conv


def positive_int(name):
    """An argparse type: an integer >= 2 (operation counts of the cost model)."""
    def conv(text):
        v = nonneg_int(name)(text)
        if v < 2:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= 2, not {v}")
        return v
    return conv


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
    p.add_argument("-n", type=positive_int("n"), default=100_000)
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-cache", action="store_true")


#: --timed-samples: default and upper bound (costmodel.timed.MAX_SAMPLES; docs/energy.md)
TIMED_DEFAULT, TIMED_MAX = 2000, 50_000


def add_timed_arg(p):
    """``--timed-samples N``: operations of the timed (glitch-counting) energy run, 0: off."""
    def conv(text):
        v = nonneg_int("--timed-samples")(text)
        if v == 1 or v > TIMED_MAX:
            raise argparse.ArgumentTypeError(f"--timed-samples must be 0 (off) or 2..{TIMED_MAX}, "
                                             f"not {v}")
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
