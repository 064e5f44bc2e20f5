"""``macforge sim``: co-simulate a unit (or the user's RTL) against the golden model."""
from __future__ import annotations

from macforge.errors import UsageError

from macforge.progress import say

from ._common import nonneg_int
from ._units import add_clock_args, add_unit_args, choose_pipeline

__all__ = ["add_parser", "run"]


def add_parser(sub):
    s = sub.add_parser("sim", help="co-simulate a unit (or your own RTL) against the golden model")
    add_unit_args(s, need_format=False)
    s.add_argument("-n", type=nonneg_int("n"), default=None,
                   help="random vectors / MAC steps (default 1,000,000; exhaustive spaces are always run whole)")
    s.add_argument("--seed", type=nonneg_int("seed"), default=1)
    s.add_argument("--verilog", default=None, help="your RTL file, with the same ports as our unit")
    s.add_argument("--top", default=None, help="top module of --verilog (default: our module name)")
    s.add_argument("--build-dir", default="build/sim")
    s.add_argument("--mode", choices=("auto", "fast", "cocotb"), default="auto",
                   help="fast: bulk Verilated harness (millions of vectors/s); cocotb: one vector "
                        "per cycle under cocotb; auto (default): fast from 200,000 vectors")
    s.add_argument("--no-waves", action="store_true", help="no FST re-run on mismatch")
    s.add_argument("--verbose", "-v", action="store_true", help="show the simulator's output")
    add_clock_args(s)
    s.set_defaults(func=run)
    return s


def run(args) -> int:
    # sim.runner builds the unit from the same fields (SimSpec), defaults included, so the
    # simulated unit is the one `macforge verilog` writes for these options.
    from macforge.sim.runner import SimSpec, run as simulate
    if args.clock_mhz is not None:
        # costmodel chooses (sim is below costmodel in the layers), sim verifies that unit
        if args.verilog:
            raise UsageError("--clock-mhz chooses a macforge unit's pipeline; it does not apply "
                             "to --verilog")
        choice = choose_pipeline(args, say)
        args.stages, args.loop_stages = choice["stages"], choice["loop_stages"]
    spec = SimSpec(format=args.format, unit=args.unit, acc=args.acc, fmt_b=args.format_b,
                   rounding=args.rounding, stages=args.stages, saturate=args.saturate,
                   loop_stages=args.loop_stages, fused=not args.unfused, rnd_bits=args.rnd_bits,
                   lanes=args.lanes, align=args.align, preset=args.preset, n=args.n,
                   seed=args.seed, verilog=args.verilog, top=args.top, build_root=args.build_dir,
                   waves=not args.no_waves, quiet=not args.verbose, mode=args.mode)
    if spec.verilog is None and spec.top is not None:
        raise UsageError("--top names the module of a --verilog file; give --verilog too")
    res = simulate(spec, out=print)
    return 0 if res.ok else 1
