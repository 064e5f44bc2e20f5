"""The ``macforge`` command line: formats, verilog, sim.

Strings from the command line are parsed here, once, into format objects and enums; bad input
gives one line on stderr naming what was wrong and what is accepted, and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main"]

UNITS = ("mul", "fma", "mac")
ROUNDINGS = ("rne", "rtz", "rna", "rup", "rdn", "sr")


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


def _nonneg_int(name):
    def conv(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a non-negative integer, not {text!r}") from None
        if v < 0:
            raise argparse.ArgumentTypeError(f"{name} must be a non-negative integer, not {v}")
        return v
    return conv


class _Parser(argparse.ArgumentParser):
    def error(self, message):          # one line, exit 2 (argparse prints usage otherwise)
        raise UsageError(message)


def _add_unit_args(p, need_format=True):
    p.add_argument("--format", "-f", required=need_format, default="e4m3",
                   help="operand format (see `macforge formats`), e.g. e4m3, e5m2, int8, bf16")
    p.add_argument("--format-b", default=None, help="second operand format for mixed products")
    p.add_argument("--unit", "-u", choices=UNITS, default=None,
                   help="mul, fma or mac (default: mac; for integer formats the integer MAC)")
    p.add_argument("--acc", default=None, help="output/accumulator format (default fp32; int32 for integers; "
                                                "for mul: the operand format)")
    p.add_argument("--round", dest="rounding", choices=ROUNDINGS, default="rne", help="rounding mode")
    p.add_argument("--stages", type=_nonneg_int("stages"), default=0, help="pipeline registers")
    p.add_argument("--saturate", action="store_true", help="clamp overflow to the largest finite value")
    p.add_argument("--unfused", action="store_true", help="MAC rounds the product, then the sum")
    p.add_argument("--rnd-bits", type=_nonneg_int("rnd-bits"), default=8,
                   help="random bits per element for --round sr (default 8)")


def _unit_from_args(args):
    import golden
    import hw
    from sim.runner import default_acc
    golden.parse(args.format)
    kind = args.unit or "mac"
    acc = args.acc or default_acc(args.format, kind)
    return hw.make_unit(kind, args.format, fmt_b=args.format_b, acc=acc, rounding=args.rounding,
                        saturate=args.saturate, stages=args.stages, fused=not args.unfused,
                        rnd_bits=args.rnd_bits)


def cmd_formats(args):
    import golden
    names = args.names or golden.known_names()
    rows = []
    for n in names:
        f = golden.parse(n)
        if isinstance(f, golden.Int):
            rows.append((n, f.name, f.bits, f"{f.min_int}", f"{f.max_int}", "-", "integer"))
        else:
            rows.append((n, f.name, f.bits, f"{f.min_subnormal:.4g}", f"{f.max:.6g}",
                         f"{f.bias}", f.describe()))
    if args.json:
        keys = ("name", "canonical", "bits", "min_positive_or_min", "max", "bias", "specials")
        print(json.dumps([dict(zip(keys, r)) for r in rows], indent=1))
        return 0
    hdr = ("name", "canonical", "bits", "min (subnormal)", "max finite", "bias", "specials")
    widths = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*hdr))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(*map(str, r)))
    print("\nAlso accepted: any e<E>m<M>[b<bias>][fn|fnuz|ieee] (E 1..11, M 0..52), int<N>/uint<N> "
          "(N 2..32), and every ml_dtypes float name (float8_e4m3fn, ...).")
    return 0


def cmd_verilog(args):
    import hw
    unit = _unit_from_args(args)
    paths = hw.write(unit, args.output)
    man = unit.manifest()
    print(f"{man['module']}: latency {man['latency']} cycle(s)")
    for kind, path in paths.items():
        print(f"  {kind}: {path}")
    return 0


def cmd_sim(args):
    from sim.runner import SimSpec, run
    spec = SimSpec(format=args.format, unit=args.unit, acc=args.acc, fmt_b=args.format_b,
                   rounding=args.rounding, stages=args.stages, saturate=args.saturate,
                   fused=not args.unfused, rnd_bits=args.rnd_bits, n=args.n, seed=args.seed,
                   verilog=args.verilog, top=args.top, build_root=args.build_dir,
                   waves=not args.no_waves, quiet=not args.verbose)
    if (spec.verilog is None) != (spec.top is None) and spec.verilog is None:
        raise UsageError("--top names the module of a --verilog file; give --verilog too")
    res = run(spec)
    return 0 if res.ok else 1


def build_parser():
    p = _Parser(prog="macforge", description="Hardware-arithmetic lab: formats, RTL generators, co-simulation.")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    f = sub.add_parser("formats", help="table of number formats")
    f.add_argument("names", nargs="*", help="formats to show (default: the FORMATS.md table)")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=cmd_formats)
    v = sub.add_parser("verilog", help="generate a unit's Verilog and JSON manifest")
    _add_unit_args(v)
    v.add_argument("-o", "--output", default="out", help="output directory (default out/)")
    v.set_defaults(func=cmd_verilog)
    s = sub.add_parser("sim", help="co-simulate a unit (or your own RTL) against the golden model")
    _add_unit_args(s, need_format=False)
    s.add_argument("-n", type=_nonneg_int("n"), default=None,
                   help="random vectors / MAC steps (default 1,000,000; exhaustive spaces are always run whole)")
    s.add_argument("--seed", type=_nonneg_int("seed"), default=1)
    s.add_argument("--verilog", default=None, help="your RTL file, with the same ports as our unit")
    s.add_argument("--top", default=None, help="top module of --verilog (default: our module name)")
    s.add_argument("--build-dir", default="build/sim")
    s.add_argument("--no-waves", action="store_true", help="no FST re-run on mismatch")
    s.add_argument("--verbose", "-v", action="store_true", help="show the simulator's output")
    s.set_defaults(func=cmd_sim)
    return p


def main(argv=None) -> int:
    import golden
    from sim.tools import ToolError
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (UsageError, golden.FormatError, ToolError) as exc:
        print(f"macforge: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("macforge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
