"""``macforge error-stats``: relative error of a multiplier against the exact product (of a cast
against the exact source value; of long running sums, RNE against SR), or with
``--preset`` of a K-deep GEMM through a tensor-core preset (:func:`golden._presetstats.preset_stats`)."""
from __future__ import annotations

import argparse

from macforge import provenance
from macforge.errors import UsageError
from macforge.progress import say

from ._common import bounded
from ._units import DEFAULT_RND_BITS, add_rounding_args


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
                                           "or a cast against the exact value; running sums "
                                           "RNE vs SR; tensor-core GEMM presets")
    e.add_argument("--format", "-f", default=None, help="operand format, e.g. e4m3, e4m4, posit8, lns8")
    e.add_argument("--unit", "-u", choices=("mul", "lmul", "convert", "running-sum"),
                   default="mul",
                   help="mul (rounded exact product, default) or lmul (L-Mul); convert: the "
                        "cast of --format codes into --acc (its bias, i.e. mean signed error, "
                        "too); running-sum: "
                        "bias and spread of long sums rounded into --format every step (the "
                        "add unit), RNE against SR with each --sr-bits")
    e.add_argument("--variant", choices=("formula", "intadd"), default="formula",
                   help="L-Mul variant (default formula)")
    e.add_argument("--acc", dest="out", default=None,
                   help="result format (default: the operand format; --unit convert "
                        "needs it)")
    add_rounding_args(e, rounding=True, saturate=True, rnd_bits=DEFAULT_RND_BITS)
    e.add_argument("--samples", "-n", type=bounded("samples"), default=None,
                   help="operand pairs (default 100,000); running-sum: independent sums "
                        "(default 1,000)")
    e.add_argument("--steps", type=bounded("sum_steps"), default=None,
                   help="running-sum: addends per sum (default 16,384)")
    e.add_argument("--sr-bits", type=comma_ints("sr-bits"), default=None,
                   help="running-sum: the random bits R of each SR run, a comma list "
                        "(default 8,16)")
    e.add_argument("--dist", choices=("uniform", "gaussian", "both", "exhaustive"), default="both",
                   help="uniform over the finite nonzero codes, N(0,1) data quantised to the "
                        "format, both (default), or exhaustive (every pair of codes; <= 12 "
                        "bits; a cast: every code, <= 24 bits)")
    e.add_argument("--seed", type=bounded("seed"), default=0)
    e.add_argument("--json", action="store_true")
    e.add_argument("--preset", default=None,
                   help="tensor-core preset (" + ", ".join(PRESETS) + "): error of a K-deep "
                        "FP8 GEMM through it against float64, with and without promotion")
    e.add_argument("--k", type=bounded("gemm_k"), default=None,
                   help="GEMM depth K for --preset (default 4096)")
    e.add_argument("--size", type=bounded("gemm_size"), default=None,
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
    given = [o for o, v in (("--k", args.k), ("--size", args.size),
                            ("--promote/--no-promote", args.promote)) if v is not None]
    if given:
        raise UsageError(f"{', '.join(given)} appl{'y' if len(given) > 1 else 'ies'} to "
                         "--preset (the tensor-core GEMM) only")
    if args.variant != "formula" and args.unit != "lmul":
        raise UsageError("--variant applies to --unit lmul only")
    if args.format is None:
        raise UsageError("error-stats needs --format (or --preset)")
    if args.unit == "running-sum":
        return _run_sum(args)
    if args.steps is not None or args.sr_bits is not None:
        raise UsageError("--steps and --sr-bits apply to --unit running-sum only")
    args.samples = 100_000 if args.samples is None else args.samples
    dists = ("uniform", "gaussian") if args.dist == "both" else (args.dist,)
    stats = [golden.error_stats(args.format, unit=args.unit, variant=args.variant,
                                samples=args.samples, dist=d, seed=args.seed, out=args.out,
                                rounding=args.rounding, saturate=args.saturate,
                                rnd_bits=args.rnd_bits)
             for d in dists]
    if args.json:
        print(provenance.dumps([s.as_dict() for s in stats]))
    else:
        print("\n\n".join(s.report() for s in stats))
    return 0


def _run_sum(args) -> int:
    """RNE and SR (each R of --sr-bits) on the same addends: the running-sum statistics."""
    from macforge import golden
    trials = 1000 if args.samples is None else args.samples
    steps = 16384 if args.steps is None else args.steps
    if trials < 2:
        raise UsageError(f"running-sum needs --samples >= 2 (independent sums), not {trials}")
    if args.out is not None or args.rounding != "rne" or args.saturate:
        raise UsageError("--acc, --rounding and --saturate do not apply to --unit running-sum "
                         "(the sum is in --format; it runs RNE and SR with each --sr-bits)")
    fmt = golden.parse(args.format)
    if fmt.family != "minifloat":         # the add unit's sums: a rounding minifloat
        other = (f"the error statistics of {fmt.name} elements: --format {fmt.element.name}"
                 if fmt.family == "block" else f"accepted for {fmt.name}: --unit mul")
        raise UsageError(f"--unit running-sum sums in a minifloat format (e4m3, bf16, fp16, "
                         f"...), not {fmt.name} ({fmt.family} format); {other}")
    runs = [("rne", 8)] + [("sr", r) for r in (args.sr_bits or [8, 16])]
    out = []
    for mode, r in runs:
        say(f"  running sum {args.format} {mode}{f' R={r}' if mode == 'sr' else ''} ...")
        out.append(golden.running_sum_stats(args.format, mode, steps=steps, trials=trials,
                                            seed=args.seed, rnd_bits=r))
    if args.json:
        print(provenance.dumps([s.as_dict() for s in out]))
    else:
        print("\n\n".join(s.report() for s in out))
    return 0


def _run_preset(args) -> int:
    """:func:`preset_stats` for the chosen preset, distributions and promotion modes."""
    from macforge.golden._presets import get_preset
    from macforge.golden._presetstats import preset_stats
    p = get_preset(args.preset)
    fmt = args.format or p.inputs[0]
    if args.unit != "mul" or args.variant != "formula" or args.out is not None:
        raise UsageError("--unit, --variant and --out do not apply to --preset (the preset "
                         "fixes the GEMM's units and formats)")
    k = 4096 if args.k is None else args.k
    size = 32 if args.size is None else args.size
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
            say(f"  {p.name} K={k} {d} promote={pr} ...")
            out.append(preset_stats(p, k=k, promote=pr, m=size, n=size, fmt=fmt,
                                    dist=d, seed=args.seed))
    if args.json:
        print(provenance.dumps([s.as_dict() for s in out]))
    else:
        print(p.describe())
        print("sources: " + "; ".join(p.sources) + "\n")
        print("\n\n".join(s.report() for s in out))
    return 0
