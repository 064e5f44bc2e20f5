"""``macforge error-stats``: relative error of a multiplier against the exact product, or with
``--preset`` of a K-deep GEMM through a tensor-core preset (:func:`golden._presets.preset_stats`)."""
from __future__ import annotations

import argparse
import json

from macforge.errors import UsageError
from macforge.progress import say

from ._common import nonneg_int


def comma_ints(name):
    """An argparse type: a comma list of integers 1..32 (SR's random bits)."""
    def conv(text):
        try:
            vals = [int(t) for t in text.split(",") if t.strip()]
        except ValueError:
            vals = []
        if not vals or any(not 1 <= v <= 32 for v in vals):
            raise argparse.ArgumentTypeError(f"{name} must be a comma list of integers 1..32, "
                                             f"not {text!r}")
        return vals
    return conv

__all__ = ["add_parser", "run"]


def add_parser(sub):
    from macforge.golden._presets import PRESETS
    e = sub.add_parser("error-stats", help="relative error of a multiplier (mul or L-Mul) "
                                           "against the exact product")
    e.add_argument("--format", "-f", default=None, help="operand format, e.g. e4m3, e4m4, posit8, lns8")
    e.add_argument("--unit", "-u", choices=("mul", "lmul", "running-sum"), default="mul",
                   help="mul (rounded exact product, default) or lmul (L-Mul); running-sum: "
                        "bias and spread of long sums rounded into --format every step (the "
                        "add unit), RNE against SR with each --rnd-bits")
    e.add_argument("--variant", choices=("formula", "intadd"), default="formula",
                   help="L-Mul variant (default formula)")
    e.add_argument("--out", default=None, help="result format (default: the operand format)")
    e.add_argument("--samples", "-n", type=nonneg_int("samples"), default=None,
                   help="operand pairs (default 100,000); running-sum: independent sums "
                        "(default 1,000)")
    e.add_argument("--steps", type=nonneg_int("steps"), default=16384,
                   help="running-sum: addends per sum (default 16,384)")
    e.add_argument("--rnd-bits", type=comma_ints("rnd-bits"), default=[8, 16],
                   help="running-sum: random bits R of SR, a comma list (default 8,16)")
    e.add_argument("--dist", choices=("uniform", "gaussian", "both", "exhaustive"), default="both",
                   help="uniform over the finite nonzero codes, N(0,1) data quantised to the "
                        "format, both (default), or exhaustive (every pair of codes; <= 12 bits)")
    e.add_argument("--seed", type=nonneg_int("seed"), default=0)
    e.add_argument("--json", action="store_true")
    e.add_argument("--preset", default=None,
                   help="tensor-core preset (" + ", ".join(PRESETS) + "): error of a K-deep "
                        "FP8 GEMM through it against float64, with and without promotion")
    e.add_argument("--k", type=int, default=4096, help="GEMM depth K for --preset (default 4096)")
    e.add_argument("--size", type=int, default=32,
                   help="M = N of the GEMM for --preset (default 32: 1024 outputs)")
    e.add_argument("--promote", action=argparse.BooleanOptionalAction, default=None,
                   help="--preset only: with (--promote) or without (--no-promote) promotion "
                        "to fp32 every N_C terms (default: both)")
    e.set_defaults(func=run)
    return e


def run(args) -> int:
    from macforge import golden
    if args.preset is not None:
        return _run_preset(args)
    if args.format is None:
        raise UsageError("error-stats needs --format (or --preset)")
    if args.unit == "running-sum":
        return _run_sum(args)
    args.samples = 100_000 if args.samples is None else args.samples
    dists = ("uniform", "gaussian") if args.dist == "both" else (args.dist,)
    stats = [golden.error_stats(args.format, unit=args.unit, variant=args.variant,
                                samples=args.samples, dist=d, seed=args.seed, out=args.out)
             for d in dists]
    if args.json:
        print(json.dumps([s.as_dict() for s in stats], indent=1))
    else:
        print("\n\n".join(s.report() for s in stats))
    return 0


def _run_sum(args) -> int:
    """RNE and SR (each R of --rnd-bits) on the same addends: the running-sum statistics."""
    from macforge import golden
    trials = 1000 if args.samples is None else args.samples
    if trials < 2 or args.steps < 1:
        raise UsageError(f"running-sum needs --samples >= 2 and --steps >= 1, not "
                         f"{trials} / {args.steps}")
    runs = [("rne", 8)] + [("sr", r) for r in args.rnd_bits]
    out = []
    for mode, r in runs:
        say(f"  running sum {args.format} {mode}{f' R={r}' if mode == 'sr' else ''} ...")
        out.append(golden.running_sum_stats(args.format, mode, steps=args.steps, trials=trials,
                                            seed=args.seed, rnd_bits=r))
    if args.json:
        print(json.dumps([s.as_dict() for s in out], indent=1))
    else:
        print("\n\n".join(s.report() for s in out))
    return 0


def _run_preset(args) -> int:
    """:func:`preset_stats` for the chosen preset, distributions and promotion modes."""
    from macforge.golden._presets import get_preset, preset_stats
    p = get_preset(args.preset)
    fmt = args.format or p.inputs[0]
    if args.k < 1 or args.size < 1:
        raise UsageError(f"--k and --size must be positive integers, not {args.k} / {args.size}")
    dists = {"uniform": ("uniform",), "gaussian": ("normal",), "both": ("uniform", "normal"),
             "exhaustive": None}[args.dist]
    if dists is None:
        raise UsageError("--preset takes --dist uniform, gaussian or both")
    modes = (False, True) if args.promote is None else (args.promote,)
    if p.scale_block is not None:                  # scales apply at promotion
        if args.promote is False:
            raise UsageError(f"preset {p.name} applies its scales at promotion; --no-promote "
                             "does not apply")
        modes = (True,)
    out = []
    for d in dists:
        for pr in modes:
            say(f"  {p.name} K={args.k} {d} promote={pr} ...")
            out.append(preset_stats(p, k=args.k, promote=pr, m=args.size, n=args.size, fmt=fmt,
                                    dist=d, seed=args.seed))
    if args.json:
        print(json.dumps([s.as_dict() for s in out], indent=1))
    else:
        print(p.describe())
        print("sources: " + "; ".join(p.sources) + "\n")
        print("\n\n".join(s.report() for s in out))
    return 0
