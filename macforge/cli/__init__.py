"""The ``macforge`` command line: formats, verilog, sim, error-stats, cost, calibrate, reproduce.

Strings from the command line are parsed here, once, into format objects and enums; bad input
gives one line on stderr naming what was wrong and what is accepted, and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main"]

UNITS = ("mul", "fma", "mac", "lmul", "lmulmac", "pmul", "pmac", "lnsmul", "lnsmac", "dot")
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
                   help="mul, fma or mac (default: mac; for integer formats the integer MAC); "
                        "lmul, lmulmac (L-Mul multiplier and MAC); pmul, pmac (posit multiplier, "
                        "posit MAC with quire); lnsmul, lnsmac (LNS, LNS-Madam MAC); posit and "
                        "LNS formats turn mul/mac into their own units; dot (k-lane "
                        "dot-product-accumulate, block formats too)")
    p.add_argument("--acc", default=None, help="output/accumulator format (default fp32; int32 for integers; "
                                                "for mul: the operand format)")
    p.add_argument("--round", dest="rounding", choices=ROUNDINGS, default="rne", help="rounding mode")
    p.add_argument("--stages", type=_nonneg_int("stages"), default=0, help="pipeline registers")
    p.add_argument("--loop-stages", type=_nonneg_int("loop-stages"), default=0,
                   help="mac with a float accumulator: registers inside the accumulate loop "
                        "(0..4); the unit then interleaves loop-stages + 1 accumulators, the "
                        "command of cycle t stepping accumulator t mod (loop-stages + 1)")
    p.add_argument("--saturate", action="store_true", help="clamp overflow to the largest finite value")
    p.add_argument("--unfused", action="store_true", help="MAC rounds the product, then the sum")
    p.add_argument("--rnd-bits", type=_nonneg_int("rnd-bits"), default=8,
                   help="random bits per element for --round sr (default 8)")
    p.add_argument("--lanes", type=_nonneg_int("lanes"), default=None,
                   help="dot: products per step k (default: the block size, 32 for MX and 16 "
                        "for NVFP4/NVINT4; 32 for plain formats)")
    p.add_argument("--align", type=_nonneg_int("align"), default=None,
                   help="dot: tensor-core alignment, W fraction bits kept below the largest "
                        "exponent (default: exact sum)")
    p.add_argument("--preset", default=None,
                   help="dot: a tensor-core preset, e.g. h100-fp8 (sets lanes, align, acc)")


def _unit_from_args(args):
    from macforge import golden
    from macforge import hw
    from macforge.sim.runner import default_acc
    golden.parse(args.format)
    kind = args.unit or "mac"
    acc = args.acc or (None if args.preset else default_acc(args.format, kind))
    dot = {k: getattr(args, k) for k in ("lanes", "align", "preset") if getattr(args, k) is not None}
    return hw.make_unit(kind, args.format, fmt_b=args.format_b, acc=acc, rounding=args.rounding,
                        saturate=args.saturate, stages=args.stages, fused=not args.unfused,
                        rnd_bits=args.rnd_bits, loop_stages=args.loop_stages, **dot)


def cmd_formats(args):
    from macforge import golden
    names = args.names or golden.known_names()
    rows = []
    for n in names:
        f = golden.parse(n)
        if isinstance(f, golden.Int):
            rows.append((n, f.name, f.bits, f"{f.min_int}", f"{f.max_int}", "-", "integer"))
        elif hasattr(f, "bias"):
            rows.append((n, f.name, f.bits, f"{f.min_subnormal:.4g}", f"{f.max:.6g}",
                         f"{f.bias}", f.describe()))
        else:                   # posit, LNS: no bias; smallest positive value instead
            rows.append((n, f.name, f.bits, f"{f.min_positive:.4g}", f"{f.max:.6g}", "-",
                         f"{f.family}: {f.describe()}"))
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
          "(N 2..32), posit<N>[es<K>] (N 3..32, K 0..4), lns<N>f<F>, and every ml_dtypes float "
          "name (float8_e4m3fn, ...).")
    return 0


def cmd_verilog(args):
    from macforge import hw
    unit = _unit_from_args(args)
    paths = hw.write(unit, args.output)
    man = unit.manifest()
    print(f"{man['module']}: latency {man['latency']} cycle(s)")
    for kind, path in paths.items():
        print(f"  {kind}: {path}")
    return 0


def cmd_sim(args):
    from macforge.sim.runner import SimSpec, run
    spec = SimSpec(format=args.format, unit=args.unit, acc=args.acc, fmt_b=args.format_b,
                   rounding=args.rounding, stages=args.stages, saturate=args.saturate,
                   loop_stages=args.loop_stages, fused=not args.unfused, rnd_bits=args.rnd_bits, lanes=args.lanes,
                   align=args.align, preset=args.preset, n=args.n, seed=args.seed,
                   verilog=args.verilog, top=args.top, build_root=args.build_dir,
                   waves=not args.no_waves, quiet=not args.verbose, mode=args.mode)
    if (spec.verilog is None) != (spec.top is None) and spec.verilog is None:
        raise UsageError("--top names the module of a --verilog file; give --verilog too")
    res = run(spec)
    return 0 if res.ok else 1


def _costmodel_errors():
    from macforge.toolchain.errors import SynthError, YosysError
    from macforge.costmodel.energy import ActivityError
    from macforge.costmodel.netlist import NetlistError
    from macforge.costmodel.liberty import LibertyError
    return (SynthError, YosysError, ActivityError, NetlistError, LibertyError)


def _cache_from_args(args):
    from macforge.costmodel import Cache
    return Cache(refresh=args.no_cache)


def _progress(msg):
    print(msg, file=sys.stderr, flush=True)


def _strip(res):
    """A result without the bulky netlist, for --json."""
    if isinstance(res, dict):
        return {k: _strip(v) for k, v in res.items() if k != "netlist"}
    return res


def _format_asic(r) -> str:
    cells = ", ".join(f"{k} {v}" for k, v in sorted(r["cells"].items(), key=lambda kv: -kv[1]))
    act = r["activity"]
    fmax = f" ({r['fmax_mhz']:.0f} MHz)" if r.get("fmax_mhz") else ""
    clock = f", of which clocking {act['clock_ff_per_op']:.0f}" if act["clock_ff_per_op"] else ""
    return "\n".join([
        f"{r['module']}: ASIC, {r['library']} (Nangate 45 nm X1 cell areas)",
        f"  area     {r['area_um2']:.1f} µm² = {r['ge']:.1f} GE (NAND2_X1 0.798 µm²); "
        f"generic flow {r['generic_ge']:.1f} NAND2-eq",
        f"  cells    {r['n_cells']}: {cells}",
        f"  timing   depth {r['depth']} cells, critical path {r['delay_ps']:.0f} ps{fmax}",
        f"  energy   {r['energy_pj']:.4g} pJ/op switching ({act['cap_ff_per_op']:.0f} fF/op"
        f"{clock}; {act['ops']} ops, {act['stimulus']}); static cross-check {r['static_pj']:.4g} pJ",
        f"  tools    {r['tools']['yosys']}, pyosys {r['tools'].get('pyosys', '?')}, amaranth "
        f"{r['tools'].get('amaranth', '?')}; key {r['key'][:12]}{' (cached)' if r['cached'] else ''}",
    ])


def _format_fpga(r) -> str:
    names = {"ice40": ("SB_LUT4", "SB_CARRY", "SB_MAC16", "FF"),
             "ecp5": ("LUT4", "CCU2C", "MULT18X18D", "FF"),
             "xilinx": ("LUT1-6", "CARRY4", "DSP48E1", "FF")}[r["target"]]
    lines = [f"{r['module']}: {r['target']}"]
    for label, key in (("with DSP", "dsp"), ("no DSP  ", "nodsp")):
        x = r[key]
        fmax = ""
        if "fmax_mhz" in x:
            fmax = (f"; Fmax {x['fmax_mhz']:.1f} MHz on {x['device']}" if x["fmax_mhz"]
                    else f"; Fmax: none reported on {x['device']}")
        lines.append(f"  {label}  {names[0]} {x['lut']}, {names[1]} {x['carry']}, "
                     f"{names[2]} {x['dsp_blocks']}, {names[3]} {x['ff']}{fmax}"
                     f"{' (cached)' if x['cached'] else ''}")
    tools = r["dsp"]["tools"]
    lines.append(f"  tools    {tools['yosys']}" + "".join(
        f", {k} {v}" for k, v in tools.items() if k.startswith("yowasp")))
    return "\n".join(lines)


def cmd_cost(args):
    from macforge.costmodel import Design, cost
    from macforge.costmodel.energy import load_activity
    errors = _costmodel_errors()
    if args.pnr and args.target not in ("ice40", "ecp5"):
        raise UsageError(f"--pnr applies to the FPGA targets ice40 and ecp5, not {args.target}")
    try:
        if args.verilog:
            if not args.top:
                raise UsageError("--verilog needs --top (the module to cost)")
            design = Design.from_file(args.verilog, args.top)
        else:
            if args.top:
                raise UsageError("--top names the module of a --verilog file; give --verilog too")
            design = Design.from_unit(_unit_from_args(args))
        operands = None
        if args.activity != "uniform":
            operands = load_activity(args.activity)
            widths = {p["name"]: p["width"] for p in (design.manifest or {}).get("ports", [])}
            for port, codes in operands.items():
                if widths and port not in widths:
                    raise UsageError(f"--activity names port {port!r}; {design.top} has "
                                     + ", ".join(widths))
                w = widths.get(port)
                if w is not None and int(codes.max()) >> w:
                    raise UsageError(f"--activity: code {int(codes.max()):#x} of {port} does not "
                                     f"fit in {w} bits")
        _progress(f"macforge: costing {design.top} on {args.target}"
                  + (" (place and route)" if args.pnr else ""))
        last = [0.0]

        def progress(done, total):
            import time
            if time.time() - last[0] > 2 or done == total:
                last[0] = time.time()
                _progress(f"  simulating: {done}/{total}")
        res = cost(design, target=args.target, pnr=args.pnr, cache=_cache_from_args(args),
                   n_ops=args.n, operands=operands, progress=progress)
    except errors as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(_strip(res), indent=1))
    else:
        print(_format_asic(res) if args.target == "asic" else _format_fpga(res))
    return 0


def cmd_calibrate(args):
    from macforge.costmodel.calibrate import calibration_table, format_table
    _progress("macforge: calibration against Horowitz (ISSCC 2014, 45 nm)")
    try:
        table = calibration_table(cache=_cache_from_args(args), n_ops=args.n, progress=_progress)
    except _costmodel_errors() as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(table, indent=1) if args.json else format_table(table))
    return 0


def cmd_reproduce(args):
    from macforge.costmodel.reproduce import REPRODUCTIONS, format_report, reproduce
    if args.name not in REPRODUCTIONS:
        raise UsageError(f"unknown reproduction {args.name!r}; accepted: "
                         + ", ".join(REPRODUCTIONS))
    _progress(f"macforge: reproducing {args.name}")
    try:
        rep = reproduce(args.name, cache=_cache_from_args(args), n_ops=args.n, progress=_progress)
    except _costmodel_errors() as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(rep, indent=1) if args.json else format_report(rep))
    return 0


def _positive_int(name):
    def conv(text):
        v = _nonneg_int(name)(text)
        if v < 2:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= 2, not {v}")
        return v
    return conv


def cmd_error_stats(args):
    from macforge import golden
    if args.preset is not None:
        from macforge.golden._presets import cmd_preset_error_stats
        return cmd_preset_error_stats(args)
    if args.format is None:
        raise UsageError("error-stats needs --format (or --preset)")
    dists = ("uniform", "gaussian") if args.dist == "both" else (args.dist,)
    stats = [golden.error_stats(args.format, unit=args.unit, variant=args.variant,
                                samples=args.samples, dist=d, seed=args.seed, out=args.out)
             for d in dists]
    if args.json:
        print(json.dumps([s.as_dict() for s in stats], indent=1))
    else:
        print("\n\n".join(s.report() for s in stats))
    return 0


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
    s.add_argument("--mode", choices=("auto", "fast", "cocotb"), default="auto",
                   help="fast: bulk Verilated harness (millions of vectors/s); cocotb: one vector "
                        "per cycle under cocotb; auto (default): fast from 200,000 vectors")
    s.add_argument("--no-waves", action="store_true", help="no FST re-run on mismatch")
    s.add_argument("--verbose", "-v", action="store_true", help="show the simulator's output")
    s.set_defaults(func=cmd_sim)
    e = sub.add_parser("error-stats", help="relative error of a multiplier (mul or L-Mul) "
                                           "against the exact product")
    e.add_argument("--format", "-f", default=None, help="operand format, e.g. e4m3, e4m4, posit8, lns8")
    e.add_argument("--unit", "-u", choices=("mul", "lmul"), default="mul",
                   help="mul (rounded exact product, default) or lmul (L-Mul)")
    e.add_argument("--variant", choices=("formula", "intadd"), default="formula",
                   help="L-Mul variant (default formula)")
    e.add_argument("--out", default=None, help="result format (default: the operand format)")
    e.add_argument("--samples", "-n", type=_nonneg_int("samples"), default=100_000,
                   help="operand pairs (default 100,000)")
    e.add_argument("--dist", choices=("uniform", "gaussian", "both", "exhaustive"), default="both",
                   help="uniform over the finite nonzero codes, N(0,1) data quantised to the "
                        "format, both (default), or exhaustive (every pair of codes; <= 12 bits)")
    e.add_argument("--seed", type=_nonneg_int("seed"), default=0)
    e.add_argument("--json", action="store_true")
    from macforge.golden._presets import add_preset_args; add_preset_args(e)  # noqa: E702
    e.set_defaults(func=cmd_error_stats)
    c = sub.add_parser("cost", help="area, timing and energy (ASIC) or resources (FPGA) of a unit")
    _add_unit_args(c, need_format=False)
    c.add_argument("--target", "-t", choices=("asic", "ice40", "ecp5", "xilinx"), default="asic",
                   help="asic (45 nm cells, default), ice40, ecp5 or xilinx (with and without DSPs)")
    c.add_argument("--pnr", action="store_true", help="place and route with nextpnr for Fmax "
                                                      "(ice40, ecp5)")
    c.add_argument("--activity", default="uniform",
                   help="operand stream for energy: uniform (random codes, default) or a .npy "
                        "((N, 2) codes of a and b) / .npz (arrays named by port) file")
    c.add_argument("-n", type=_positive_int("n"), default=100_000, help="operations simulated "
                                                                         "(default 100,000)")
    c.add_argument("--verilog", default=None, help="cost your own RTL instead of a macforge unit")
    c.add_argument("--top", default=None, help="top module of --verilog")
    c.add_argument("--json", action="store_true")
    c.add_argument("--no-cache", action="store_true", help="recompute (and overwrite the cache)")
    c.set_defaults(func=cmd_cost)
    k = sub.add_parser("calibrate", help="our energy/area per op vs Horowitz's 45 nm table")
    k.add_argument("-n", type=_positive_int("n"), default=100_000)
    k.add_argument("--json", action="store_true")
    k.add_argument("--no-cache", action="store_true")
    k.set_defaults(func=cmd_calibrate)
    r = sub.add_parser("reproduce", help="regenerate a published comparison (fp8-vs-int8, lmul, int-vs-fp)")
    r.add_argument("name", help="fp8-vs-int8, lmul or int-vs-fp")
    r.add_argument("-n", type=_positive_int("n"), default=100_000)
    r.add_argument("--json", action="store_true")
    r.add_argument("--no-cache", action="store_true")
    r.set_defaults(func=cmd_reproduce)
    from macforge.costmodel.workloads.cli import add_workload_parser; add_workload_parser(sub)  # noqa: E702
    from macforge.costmodel.sweep import add_sweep_parser; add_sweep_parser(sub)  # noqa: E702
    from macforge.costmodel.pareto import add_pareto_parser; add_pareto_parser(sub)  # noqa: E702
    from macforge.fpga.cli import add_fpga_parser, add_hwtest_parser  # noqa: E402
    add_fpga_parser(sub, _add_unit_args); add_hwtest_parser(sub, _add_unit_args, _nonneg_int)  # noqa: E702
    return p


def main(argv=None) -> int:
    from macforge import golden
    from macforge.toolchain.errors import ToolError
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
