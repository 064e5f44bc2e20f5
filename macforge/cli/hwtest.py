"""``macforge hwtest``: stream vectors through the UART harness on a board (or in simulation)
and check them against the golden model (:mod:`fpga.hwtest`)."""
from __future__ import annotations

import argparse

from macforge.errors import UsageError
from macforge.progress import say

from ._common import bounded
from ._units import add_unit_args, unit_from_args

__all__ = ["add_parser", "run"]


def _int_list(text):
    from macforge.limits import LIMITS, BoundsError, check, shown
    parts = [x for x in text.split(",") if x.strip()]
    if len(parts) > LIMITS["corrupt_count"].hi:
        raise argparse.ArgumentTypeError(f"at most {LIMITS['corrupt_count'].hi} byte indices, "
                                         f"not {len(parts)}")
    try:
        return [check("corrupt_byte", int(x, 10)) for x in parts]
    except (ValueError, BoundsError):
        raise argparse.ArgumentTypeError(f"expected byte indices (integers "
                                         f"{LIMITS['corrupt_byte'].lo}..{LIMITS['corrupt_byte'].hi}"
                                         f") like 30 or 30,75, not {shown(text)}") from None


def add_parser(sub):
    from macforge.fpga.harness import BOARDS
    p = sub.add_parser("hwtest", help="stream vectors through the UART harness on a board (or "
                                      "in simulation) and check them against the golden model")
    add_unit_args(p, need_format=False)
    p.add_argument("--board", choices=tuple(BOARDS), default="icebreaker")
    p.add_argument("--port", default=None, help="serial port (default: the board's usual one, "
                                                "icebreaker /dev/ttyUSB1, ulx3s /dev/ttyUSB0)")
    p.add_argument("--vectors", "-n", type=bounded("hw_vectors"), default=10_000,
                   help="vectors to stream (default 10,000)")
    p.add_argument("--seed", type=bounded("seed"), default=1)
    p.add_argument("--baud", type=bounded("baud"), default=None, help="baud rate (default 115200)")
    p.add_argument("--sim", action="store_true",
                   help="run the harness in Verilator instead of on a board (same host code)")
    p.add_argument("--corrupt-to-board", type=_int_list, default=None, metavar="K[,K]",
                   help="--sim: flip a bit of these bytes (counted from 0) on the way to the board")
    p.add_argument("--corrupt-from-board", type=_int_list, default=None, metavar="K[,K]",
                   help="--sim: flip a bit of these bytes on the way back")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from macforge.fpga.harness import BOARDS
    from macforge.fpga.hwtest import HwTestError, check_drivable, on_board, simulate
    if not args.sim and (args.corrupt_to_board is not None
                         or args.corrupt_from_board is not None):
        raise UsageError("--corrupt-to-board/--corrupt-from-board apply to --sim only")
    if args.sim and (args.baud is not None or args.port is not None):
        raise UsageError("--baud and --port apply to a board; --sim runs the harness at 8 "
                         "clock cycles a bit with no serial port")
    if args.loop_stages:
        raise UsageError("hwtest steps the unit once per UART frame, at no fixed cycle, so it "
                         "cannot drive a C-slow MAC (loop-stages > 0: the command of cycle t "
                         "steps accumulator t mod S); verify it with make sim LOOP_STAGES=n")
    unit = unit_from_args(args)
    try:
        check_drivable(unit.manifest())     # before any build: the harness's port layout
    except HwTestError:
        unit._MustUse__silence = True       # refused: never elaborated, no Amaranth warning
        raise
    try:
        if args.sim:
            say(f"macforge hwtest: {unit.module_name} harness in simulation (Verilator), "
                f"{args.vectors:,} vectors")
            res = simulate(unit, n=args.vectors, seed=args.seed,
                           corrupt_to_board=args.corrupt_to_board or (),
                           corrupt_from_board=args.corrupt_from_board or (), out=print)
        else:
            port = args.port or BOARDS[args.board].port
            say(f"macforge hwtest: {unit.module_name} on the {args.board} at {port}, "
                f"{args.vectors:,} vectors")
            res = on_board(unit, args.board, port, args.vectors, seed=args.seed, baud=args.baud,
                           out=print)
    except ValueError as exc:       # amaranth-boards / pyserial input errors
        raise UsageError(str(exc)) from None
    return 0 if res.ok else 1
