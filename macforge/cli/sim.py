"""``macforge sim``: co-simulate a unit (or the user's RTL) against the golden model."""
from __future__ import annotations

import argparse

from macforge.errors import UsageError

from ._common import bounded, check_output_dir
from ._units import DEFAULT_RND_BITS, add_clock_args, add_unit_args, choose_pipeline, unit_from_args

__all__ = ["add_parser", "run"]


def add_parser(sub):
    s = sub.add_parser("sim", help="co-simulate a unit (or your own RTL) against the golden model")
    add_unit_args(s, need_format=False)
    s.add_argument("-n", type=bounded("vectors"), default=None,
                   help="random vectors / MAC steps (default 1,000,000; exhaustive spaces are always run whole)")
    s.add_argument("--seed", type=bounded("seed"), default=1)
    s.add_argument("--verilog", nargs="+", action="extend", default=None, metavar="FILE",
                   help="your RTL files (.v/.sv, packages first), with the same ports as our unit")
    s.add_argument("--filelist", "-F", action="append", default=None, metavar="LIST.f",
                   help="a Verilator-style file list: files, -I/+incdir+, -D/+define+, nested "
                        "-f; paths relative to the list's directory (repeatable)")
    s.add_argument("--include", "-I", action="append", default=None, metavar="DIR",
                   help="`include search directory (repeatable; then each file's directory)")
    s.add_argument("--define", "-D", action="append", default=None, metavar="NAME[=VAL]",
                   help="a Verilog macro for your RTL (repeatable)")
    s.add_argument("--top", default=None, help="top module of your RTL (default: our module name)")
    s.add_argument("--latency", type=_latency, default=None, metavar="N|auto",
                   help="your RTL's latency in cycles (default: our unit's, from --stages); "
                        "auto: found by a short probe")
    s.add_argument("--clock", default=None, metavar="NAME", help="your RTL's clock port (default clk)")
    s.add_argument("--reset", default=None, metavar="NAME", help="your RTL's reset port (default rst)")
    s.add_argument("--reset-active", choices=("high", "low"), default="high",
                   help="your RTL's reset level (default high)")
    s.add_argument("--valid-in", default=None, metavar="NAME",
                   help="handshake: your RTL's input-valid port (high with each vector)")
    s.add_argument("--valid-out", default=None, metavar="NAME",
                   help="handshake: your RTL's output-valid port (outputs taken when high)")
    s.add_argument("--ready-in", default=None, metavar="NAME",
                   help="handshake: your RTL's input-ready output (a vector waits until high)")
    s.add_argument("--build-dir", default="build/sim")
    s.add_argument("--mode", choices=("auto", "fast", "cocotb"), default="auto",
                   help="fast: bulk Verilated harness (millions of vectors/s); cocotb: one vector "
                        "per cycle under cocotb; auto (default): fast from 200,000 vectors")
    s.add_argument("--nan", choices=("canonical", "any"), default="canonical",
                   help="canonical (default): a NaN result must be the format's canonical NaN "
                        "code (macforge formats NAME shows it); any: every NaN code is accepted")
    s.add_argument("--csv", default=None, metavar="PATH",
                   help="write every mismatch as CSV here (default: mismatches.csv in the run's "
                        "directory, named in the report)")
    s.add_argument("--no-waves", action="store_true", help="no FST re-run on mismatch")
    s.add_argument("--verbose", "-v", action="store_true", help="show the simulator's output")
    s.add_argument("--json", action="store_true",
                   help="print the result as one JSON document on stdout")
    add_clock_args(s)
    s.set_defaults(func=run)
    return s


def _latency(text):
    if text == "auto":
        return text
    try:
        return bounded("latency")(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (or auto)") from None


def run(args) -> int:
    # sim.runner builds the unit from the same fields (SimSpec), defaults included, so the
    # simulated unit is the one `macforge verilog` writes for these options.
    from macforge.sim.runner import SimSpec, run as simulate
    if args.clock_mhz is not None:
        # costmodel chooses (sim is below costmodel in the layers), sim verifies that unit
        if args.verilog or args.filelist:
            raise UsageError("--clock-mhz chooses a macforge unit's pipeline; it does not apply "
                             "to --verilog / --filelist")
        from macforge.progress import say
        choice, _ = choose_pipeline(args, say)
        args.stages, args.loop_stages = choice["stages"], choice["loop_stages"]
    unit = unit_from_args(args)     # bad or inapplicable unit options: one line, before any build
    unit._MustUse__silence = True   # the runner builds its own from the same options
    check_output_dir(args.build_dir, "--build-dir")
    # --top is checked (toolchain.names) and looked up in what Verilator read, with the file
    # lists, include directories and defines, by sim.runner before anything is built
    top = args.top
    rnd_bits = DEFAULT_RND_BITS if args.rnd_bits is None else args.rnd_bits
    spec = SimSpec(format=args.format, unit=args.unit, acc=args.acc, fmt_b=args.format_b,
                   rounding=args.rounding, stages=args.stages, saturate=args.saturate,
                   loop_stages=args.loop_stages, fused=args.fused is not False, rnd_bits=rnd_bits,
                   lanes=args.lanes, align=args.align, preset=args.preset, scale=args.scale,
                   n=args.n,
                   seed=args.seed, verilog=tuple(args.verilog or ()), top=top,
                   filelist=tuple(args.filelist or ()), include=tuple(args.include or ()),
                   define=tuple(args.define or ()), build_root=args.build_dir,
                   waves=not args.no_waves, quiet=not args.verbose, mode=args.mode,
                   nan=args.nan, csv=args.csv, latency=args.latency, clock=args.clock,
                   reset=args.reset, reset_active=args.reset_active, valid_in=args.valid_in,
                   valid_out=args.valid_out, ready_in=args.ready_in)
    if not (spec.verilog or spec.filelist) and (
            spec.top or spec.include or spec.define or spec.latency is not None or spec.clock
            or spec.reset or spec.reset_active != "high" or spec.valid_in or spec.valid_out
            or spec.ready_in):
        raise UsageError("--top, --include, --define, --latency, --clock, --reset, "
                         "--reset-active, --valid-in, --valid-out and --ready-in apply to your "
                         "RTL; give --verilog FILE... or --filelist LIST.f too")
    from macforge.progress import meter, say
    res = simulate(spec, out=say if args.json else print, progress=say,
                   checked=meter("checking vs golden", "vector"))
    if args.json:
        from macforge import provenance
        print(provenance.dumps(result_record(spec, res)))
    return 0 if res.ok else 1


def result_record(spec, res) -> dict:
    """The typed facts of a :class:`sim.runner.SimResult` for ``--json``: what the report
    lines say, numbers as numbers, seconds in ``*_s`` keys."""
    classes = res.classes or {}
    return {
        "module": res.module, "unit": spec.unit, "format": spec.format,
        "format_b": spec.fmt_b, "acc": spec.acc, "rounding": spec.rounding,
        "user_rtl": list(spec.verilog) + list(spec.filelist) or None,
        "ok": res.ok, "complete": res.complete, "vectors": res.vectors,
        "mismatches": res.mismatches,
        # the whole input space, nothing sampled (units of up to 2^24 input combinations)
        "exhaustive": classes.get("exhaustive", 0) > 0 and not classes.get("random")
                      and not classes.get("corner"),
        "vector_classes": classes, "seed": res.seed, "mode": res.mode,
        "streamed": res.streamed, "latency_cycles": res.latency, "nan": spec.nan,
        "build_s": res.build_s, "simulation_check_s": res.sim_s, "total_s": res.seconds,
        "vectors_per_s": round(res.vectors / res.sim_s, 1) if res.sim_s else None,
        "summary": res.summary, "mismatches_csv": res.csv, "waves": res.waves,
        "reproduce": spec.command(),
    }
