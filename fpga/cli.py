"""``macforge fpga`` and ``macforge hwtest`` (registered by :func:`macforge.cli.build_parser`)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_fpga_parser", "add_hwtest_parser", "cmd_fpga", "cmd_hwtest"]


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def _targets(text):
    from .flow import TARGETS
    vals = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in vals if t not in TARGETS]
    if not vals or bad:
        raise argparse.ArgumentTypeError(f"unknown target {(bad or [text])[0]!r}; accepted: "
                                         + ", ".join(TARGETS) + " (or a comma list)")
    return vals


def _errors():
    from macforge.toolchain.errors import SynthError, YosysError
    from .hwtest import HwTestError
    from .protocol import LinkError
    return (SynthError, YosysError, HwTestError, LinkError, ValueError)


def _int_list(text):
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected byte indices like 30 or 30,75, not "
                                         f"{text!r}") from None


def cmd_fpga(args):
    from macforge.cli import UsageError, _unit_from_args
    from .flow import build, build_board, format_report, format_sweep, parse_stages, sweep
    targets = args.target or ([] if args.board else ["ice40"])
    try:
        if args.sweep_loop_stages is not None and args.sweep_stages is None:
            raise UsageError("--sweep-loop-stages goes with --sweep-stages (e.g. --sweep-stages 1 "
                             "--sweep-loop-stages 0..4)")
        if args.sweep_stages is not None:
            if args.board:
                raise UsageError("--sweep-stages builds the scan-wrapped unit; leave out --board")
            stages = parse_stages(args.sweep_stages)
            loops = (parse_stages(args.sweep_loop_stages, "--sweep-loop-stages")
                     if args.sweep_loop_stages is not None else None)
            placed = [t for t in targets if t != "xilinx"]
            if not placed:
                raise UsageError("--sweep-stages measures Fmax with nextpnr: give --target ice40 "
                                 "and/or ecp5")

            def make(s, loop=None):
                over = {"stages": s} if loop is None else {"stages": s, "loop_stages": loop}
                return _unit_from_args(argparse.Namespace(**{**vars(args), **over}))
            rows = sweep(make, stages, placed, root=args.out, seed=args.seed,
                         progress=lambda m: _say(f"macforge fpga: {m}"), loop_stages=loops)
            table = format_sweep(rows)
            base = rows[0]["module"].rsplit("_s", 1)[0]
            if loops is not None:
                base = base.rsplit("_l", 1)[0] if rows[0]["loop_stages"] else base
                base += "_loops"
            dest = Path(args.out) / f"sweep_{base}_{'_'.join(placed)}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.with_suffix(".md").write_text(table + "\n")
            dest.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
            print(json.dumps(rows, indent=1) if args.json else table)
            _say(f"macforge fpga: sweep table in {dest.with_suffix('.md')}")
            return 0
        if args.board and args.loop_stages:
            raise UsageError("the UART harness steps the unit once per frame, at no fixed "
                             "cycle, so it cannot drive a C-slow MAC (loop-stages > 0); leave "
                             "out --board or --loop-stages")
        unit = _unit_from_args(args)
        reports = []
        for t in targets:
            _say(f"macforge fpga: {unit.module_name} on {t}")
            reports.append(build(unit, t, root=args.out, seed=args.seed, freq=args.pnr_freq,
                                 progress=_say))
        if args.board:
            _say(f"macforge fpga: UART harness of {unit.module_name} for the {args.board}")
            rep = build_board(unit, args.board, root=args.out, baud=args.baud, seed=args.seed,
                              progress=_say)
            reports.append(rep)
    except _errors() as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(reports, indent=1))
    else:
        print("\n\n".join(format_report(r) for r in reports))
    bad = [r for r in reports if r.get("timing_met") is False]
    for r in bad:
        _say(f"macforge fpga: warning: the harness reaches {r['fmax_mhz']} MHz, below the board's "
             f"{r['clock_mhz']:g} MHz clock; pipeline the unit (STAGES=n) before using it")
    return 0


def add_fpga_parser(sub, add_unit_args):
    from macforge.toolchain.nextpnr import SEED
    from .flow import BUILD_ROOT
    from .harness import BOARDS
    p = sub.add_parser("fpga", help="synthesise, place and route a unit for iCE40/ECP5 (bitstream) "
                                    "or Xilinx (utilisation + Vivado script); board harness")
    add_unit_args(p, need_format=False)
    p.add_argument("--target", "-t", type=_targets, default=None,
                   help="ice40 (UP5K SG48, default), ecp5 (LFE5U-85F CABGA381), xilinx "
                        "(synth_xilinx + Vivado script), or a comma list")
    p.add_argument("--board", choices=tuple(BOARDS), default=None,
                   help="also build the UART harness bitstream for this board")
    p.add_argument("--baud", type=int, default=None, help="harness UART baud rate (default 115200)")
    p.add_argument("--sweep-stages", default=None, metavar="RANGE",
                   help="build every pipeline depth in RANGE (0..4 or 0,2,4) and print the "
                        "Fmax table")
    p.add_argument("--sweep-loop-stages", default=None, metavar="RANGE",
                   help="with --sweep-stages, for a float MAC: also sweep the registers inside "
                        "its accumulate loop (0..4); the unit then interleaves loop + 1 "
                        "accumulators")
    p.add_argument("--seed", type=int, default=SEED, help=f"nextpnr placer seed (default {SEED}, "
                                                          "fixed for reproducible builds)")
    p.add_argument("--pnr-freq", type=float, default=None,
                   help="clock target in MHz for the timing-driven placer (default: ice40 100, "
                        "ecp5 200); Fmax is what it achieves")
    p.add_argument("--out", default=BUILD_ROOT, help=f"build root (default {BUILD_ROOT}/)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fpga)


def cmd_hwtest(args):
    from macforge.cli import UsageError, _unit_from_args
    from .harness import BOARDS
    from .hwtest import on_board, simulate
    if not args.sim and (args.corrupt_to_board or args.corrupt_from_board):
        raise UsageError("--corrupt-to-board/--corrupt-from-board apply to --sim only")
    if args.loop_stages:
        raise UsageError("hwtest steps the unit once per UART frame, at no fixed cycle, so it "
                         "cannot drive a C-slow MAC (loop-stages > 0: the command of cycle t "
                         "steps accumulator t mod S); verify it with make sim LOOP_STAGES=n")
    unit = _unit_from_args(args)
    try:
        if args.sim:
            _say(f"macforge hwtest: {unit.module_name} harness in simulation (Verilator), "
                 f"{args.vectors:,} vectors")
            res = simulate(unit, n=args.vectors, seed=args.seed,
                           corrupt_to_board=args.corrupt_to_board or (),
                           corrupt_from_board=args.corrupt_from_board or ())
        else:
            port = args.port or BOARDS[args.board].port
            _say(f"macforge hwtest: {unit.module_name} on the {args.board} at {port}, "
                 f"{args.vectors:,} vectors")
            res = on_board(unit, args.board, port, args.vectors, seed=args.seed, baud=args.baud,
                           out=print)
    except _errors() as exc:
        raise UsageError(str(exc)) from None
    return 0 if res.ok else 1


def add_hwtest_parser(sub, add_unit_args, nonneg_int):
    from .harness import BOARDS
    p = sub.add_parser("hwtest", help="stream vectors through the UART harness on a board (or "
                                      "in simulation) and check them against the golden model")
    add_unit_args(p, need_format=False)
    p.add_argument("--board", choices=tuple(BOARDS), default="icebreaker")
    p.add_argument("--port", default=None, help="serial port (default: the board's usual one, "
                                                "icebreaker /dev/ttyUSB1, ulx3s /dev/ttyUSB0)")
    p.add_argument("--vectors", "-n", type=nonneg_int("vectors"), default=10_000,
                   help="vectors to stream (default 10,000)")
    p.add_argument("--seed", type=nonneg_int("seed"), default=1)
    p.add_argument("--baud", type=int, default=None, help="baud rate (default 115200)")
    p.add_argument("--sim", action="store_true",
                   help="run the harness in Verilator instead of on a board (same host code)")
    p.add_argument("--corrupt-to-board", type=_int_list, default=None, metavar="K[,K]",
                   help="--sim: flip a bit of these bytes (counted from 0) on the way to the board")
    p.add_argument("--corrupt-from-board", type=_int_list, default=None, metavar="K[,K]",
                   help="--sim: flip a bit of these bytes on the way back")
    p.set_defaults(func=cmd_hwtest)
