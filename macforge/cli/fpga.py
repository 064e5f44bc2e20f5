"""``macforge fpga``: synthesise, place and route a unit for iCE40/ECP5 (bitstream) or Xilinx
(utilisation and a Vivado script), a board's UART harness, or a pipeline-depth sweep."""
from __future__ import annotations

from pathlib import Path

from macforge import provenance
from macforge.errors import UsageError
from macforge.progress import meter, prefixed, say

from ._common import bounded, check_output_dir, comma_choices
from ._units import add_clock_args, add_unit_args, clocked_unit_from_args, unit_from_args

__all__ = ["add_parser", "run", "format_sweep"]


def _target_names():
    from macforge.fpga.flow import TARGETS
    return TARGETS


def add_parser(sub):
    from macforge.fpga.flow import BUILD_ROOT
    from macforge.toolchain.nextpnr import SEED
    from macforge.fpga.harness import BOARDS
    p = sub.add_parser("fpga", help="synthesise, place and route a unit for iCE40/ECP5 (bitstream) "
                                    "or Xilinx (utilisation + Vivado script); board harness")
    add_unit_args(p, need_format=False)
    p.add_argument("--target", "-t", type=comma_choices("target", _target_names, "or a comma list"),
                   default=None,
                   help="ice40 (UP5K SG48, default), ecp5 (LFE5U-85F CABGA381), xilinx "
                        "(synth_xilinx + Vivado script), or a comma list")
    p.add_argument("--board", choices=tuple(BOARDS), default=None,
                   help="also build the UART harness bitstream for this board")
    p.add_argument("--baud", type=bounded("baud"), default=None, help="harness UART baud rate (default 115200)")
    p.add_argument("--sweep-stages", default=None, metavar="RANGE",
                   help="build every pipeline depth in RANGE (0..4 or 0,2,4) and print the "
                        "Fmax table")
    p.add_argument("--sweep-loop-stages", default=None, metavar="RANGE",
                   help="with --sweep-stages, for a float MAC: also sweep the registers inside "
                        "its accumulate loop (0..5); the unit then interleaves loop + 1 "
                        "accumulators")
    p.add_argument("--seed", type=bounded("pnr_seed"), default=SEED, help=f"nextpnr placer seed (default {SEED}, "
                                                          "fixed for reproducible builds)")
    p.add_argument("--pnr-freq", type=bounded("pnr_freq"), default=None,
                   help="clock target in MHz for the timing-driven placer (default: ice40 100, "
                        "ecp5 200); Fmax is what it achieves")
    p.add_argument("-o", "--output", dest="out", default=BUILD_ROOT,
                   help=f"build root (default {BUILD_ROOT}/)")
    p.add_argument("--json", action="store_true")
    add_clock_args(p, target=False)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from macforge.fpga.flow import build, build_board, format_report
    targets = args.target or ([] if args.board else ["ice40"])
    check_output_dir(args.out, "--output")
    if args.baud is not None and not args.board:
        raise UsageError("--baud sets the UART harness's rate; it goes with --board")
    try:
        if args.sweep_loop_stages is not None and args.sweep_stages is None:
            raise UsageError("--sweep-loop-stages goes with --sweep-stages (e.g. --sweep-stages 1 "
                             "--sweep-loop-stages 0..4)")
        if args.sweep_stages is not None:
            if args.clock_mhz is not None:
                raise UsageError("--clock-mhz chooses one pipeline, --sweep-stages builds them "
                                 "all; give one or the other")
            if args.board:
                raise UsageError("--sweep-stages builds the scan-wrapped unit; leave out --board")
            return _run_sweep(args, targets)
        if args.board and args.loop_stages:
            raise UsageError("the UART harness steps the unit once per frame, at no fixed "
                             "cycle, so it cannot drive a C-slow MAC (loop-stages > 0); leave "
                             "out --board or --loop-stages")
        if args.clock_mhz is not None and (len(targets) != 1 or targets[0] == "xilinx"):
            raise UsageError("--clock-mhz chooses the pipeline by nextpnr's Fmax on one target: "
                             "give --target ice40 or --target ecp5")
        unit = clocked_unit_from_args(args, say)
        reports = []
        for t in targets:
            say(f"macforge fpga: {unit.module_name} on {t}")
            reports.append(build(unit, t, root=args.out, seed=args.seed, freq=args.pnr_freq,
                                 progress=say))
        if args.board:
            say(f"macforge fpga: UART harness of {unit.module_name} for the {args.board}")
            rep = build_board(unit, args.board, root=args.out, baud=args.baud, seed=args.seed,
                              progress=say)
            reports.append(rep)
    except ValueError as exc:       # amaranth-boards / pyserial input errors
        raise UsageError(str(exc)) from None
    if args.json:
        print(provenance.dumps(reports))
    else:
        print("\n\n".join(format_report(r) for r in reports))
    bad = [r for r in reports if r.get("timing_met") is False]
    for r in bad:
        say(f"macforge fpga: warning: the harness reaches {r['fmax_mhz']} MHz, below the board's "
            f"{r['clock_mhz']:g} MHz clock; pipeline the unit (STAGES=n) before using it")
    return 0


def _run_sweep(args, targets) -> int:
    """--sweep-stages (and --sweep-loop-stages): build every depth, print and save the table."""
    from macforge.fpga.flow import parse_stages, sweep
    stages = parse_stages(args.sweep_stages)
    loops = (parse_stages(args.sweep_loop_stages, "--sweep-loop-stages", "loop_stages")
             if args.sweep_loop_stages is not None else None)
    placed = [t for t in targets if t != "xilinx"]
    if not placed:
        raise UsageError("--sweep-stages measures Fmax with nextpnr: give --target ice40 "
                         "and/or ecp5")

    def make(s, loop=None):
        return unit_from_args(args, stages=s) if loop is None else \
            unit_from_args(args, stages=s, loop_stages=loop)
    rows = sweep(make, stages, placed, root=args.out, seed=args.seed,
                 progress=prefixed("macforge fpga: "), loop_stages=loops,
                 meter=meter("fpga sweep", "build"))
    table = format_sweep(rows)
    base = rows[0]["module"].rsplit("_s", 1)[0]
    if loops is not None:
        base = base.rsplit("_l", 1)[0] if rows[0]["loop_stages"] else base
        base += "_loops"
    dest = Path(args.out) / f"sweep_{base}_{'_'.join(placed)}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.with_suffix(".md").write_text(f"<!-- {provenance.line()} -->\n{table}\n")
    provenance.write_json(dest.with_suffix(".json"), {"rows": rows})
    print(provenance.dumps(rows) if args.json else table)
    say(f"macforge fpga: sweep table in {dest.with_suffix('.md')}")
    return 0


def format_sweep(rows: list) -> str:
    """Markdown table: Fmax and the unit's cells per pipeline depth and target.

    ``loop`` is a float MAC's accumulate-loop registers (hw.FMac ``loop_stages``): such a unit
    interleaves ``loop + 1`` accumulators, so one stream steps at Fmax / (loop + 1) and the
    full rate needs ``loop + 1`` independent sums (the table says so under it)."""
    lines = ["| unit | target | stages | loop | latency | Fmax MHz | unit LUT | unit FF | carry "
             "| DSP |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for r in rows:
        fmax = f"{r['fmax_mhz']:.1f}" if r["fmax_mhz"] else "-"
        mark = ""
        for n in r.get("notes", ()):
            if n not in notes:
                notes.append(n)
            mark += "*" * (notes.index(n) + 1)
        lines.append(f"| {r['module']} | {r['target']} | {r['stages']} "
                     f"| {r.get('loop_stages', 0)} | {r['latency']} | {fmax} "
                     f"| {r['lut']} | {r['ff']} | {r['carry']} | {r['dsp']}{mark} |")
    # escaped: a line starting "* " would be a Markdown list item
    star = "\\*"
    lines += [f"\n{star * (i + 1)} {n}" for i, n in enumerate(notes)]
    if any(r.get("loop_stages") for r in rows):
        lines.append("\nloop = L > 0: registers inside the accumulate loop; the unit interleaves "
                     "L + 1 accumulators (the command of cycle t steps accumulator t mod (L + 1)), "
                     "so one sum steps at Fmax / (L + 1) and L + 1 sums together at Fmax.")
    return "\n".join(lines)
