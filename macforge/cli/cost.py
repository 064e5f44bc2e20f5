"""``macforge cost``: area, timing and energy (ASIC) or resources (FPGA) of a unit or RTL."""
from __future__ import annotations

from macforge import provenance
from macforge.errors import MacforgeError, UsageError
from macforge.progress import meter, say

from ._common import add_timed_arg, bounded, cache_from_args, strip_netlist
from ._units import add_clock_args, add_unit_args, choose_pipeline, unit_from_args

__all__ = ["add_parser", "run", "format_asic", "format_fpga", "format_energy_models"]


def add_parser(sub):
    c = sub.add_parser("cost", help="area, timing and energy (ASIC) or resources (FPGA) of a unit")
    add_unit_args(c, need_format=False)
    c.add_argument("--target", "-t", choices=("asic", "ice40", "ecp5", "xilinx"), default="asic",
                   help="asic (45 nm cells, default), ice40, ecp5 or xilinx (with and without DSPs)")
    c.add_argument("--pnr", action="store_true", help="place and route with nextpnr for Fmax "
                                                      "(ice40, ecp5)")
    add_clock_args(c, target=False)
    c.add_argument("--activity", default="uniform",
                   help="operand stream for energy: uniform (random codes, default) or a .npy "
                        "((N, 2) codes of a and b) / .npz (arrays named by port) file")
    c.add_argument("-n", type=bounded("ops"), default=None,
                   help="operations simulated (default 100,000; with --activity: the file's)")
    add_timed_arg(c)
    c.add_argument("--verilog", default=None, help="cost your own RTL instead of a macforge unit")
    c.add_argument("--top", default=None, help="top module of --verilog")
    c.add_argument("--json", action="store_true")
    c.add_argument("--no-cache", action="store_true", help="recompute (and overwrite the cache)")
    c.set_defaults(func=run)
    return c


def run(args) -> int:
    from macforge.costmodel import Design, cost
    from macforge.costmodel.energy import check_activity, load_activity
    if args.pnr and args.target not in ("ice40", "ecp5"):
        raise UsageError(f"--pnr applies to the FPGA targets ice40 and ecp5, not {args.target}")
    unit = design = choice = None
    if args.clock_mhz is not None:
        if args.verilog:
            raise UsageError("--clock-mhz chooses a macforge unit's pipeline; it does not apply "
                             "to --verilog")
        if args.target == "xilinx":
            raise UsageError("--clock-mhz is measured on asic, ice40 or ecp5 (nextpnr), not "
                             "xilinx")
        say(f"macforge: choosing the pipeline for {args.clock_mhz:g} MHz on {args.target}")
        choice, design = choose_pipeline(args, say)
    elif args.verilog:
        if not args.top:
            raise UsageError("--verilog needs --top (the module to cost)")
        design = Design.from_file(args.verilog, args.top)
    else:
        if args.top:
            raise UsageError("--top names the module of a --verilog file; give --verilog too")
        unit = unit_from_args(args)
    try:        # every check before the unit's Verilog is generated
        manifest = unit.manifest() if unit is not None else design.manifest
        operands, n_ops = None, 100_000 if args.n is None else args.n
        if args.activity != "uniform":
            if args.target != "asic":
                raise UsageError(f"--activity sets the operands of the ASIC energy estimate; "
                                 f"--target {args.target} has no energy")
            operands = load_activity(args.activity)
            rows = check_activity(operands, manifest, f"--activity {args.activity}")
            if args.n is not None and args.n > rows:
                raise UsageError(f"-n {args.n} is more than the {rows:,} operations in "
                                 f"{args.activity}; leave -n out to simulate them all")
            n_ops = rows if args.n is None else args.n
        cache = cache_from_args(args)
    except MacforgeError:
        if unit is not None:
            unit._MustUse__silence = True       # refused: never elaborated, no warning
        raise
    if design is None:
        design = Design.from_unit(unit)
    say(f"macforge: costing {design.top} on {args.target}"
        + (" (place and route)" if args.pnr else ""))
    timed = args.timed_samples if args.target == "asic" else 0
    if choice is not None and args.target == "asic":
        from macforge.costmodel import asic_cost
        res = asic_cost(design, n_ops=n_ops, cache=cache, operands=operands,
                        progress=_simulating(), clock_ps=choice["period_ps"],
                        timed_samples=timed)
    else:
        res = cost(design, target=args.target, pnr=args.pnr or choice is not None,
                   cache=cache, n_ops=n_ops, operands=operands,
                   progress=_simulating(), timed_samples=timed)
    if choice is not None:
        res["pipeline"] = choice
    if args.json:
        print(provenance.dumps(strip_netlist(res)))
    else:
        text = format_asic(res) if args.target == "asic" else format_fpga(res)
        print(text if choice is None else format_choice(choice) + "\n" + text)
    return 0


def format_choice(c) -> str:
    """The lines of a ``--clock-mhz`` choice (:func:`costmodel.pipelining.unit_at_clock`)."""
    verdict = "meets it" if c["met"] else "does NOT meet it (no pipeline of this unit does)"
    reach = (f"critical path {c['delay_ps']:.0f} ps = {c['reached_mhz']} MHz"
             if "delay_ps" in c else f"Fmax {c['reached_mhz']} MHz on {c.get('device')}")
    lines = [f"clock {c['clock_mhz']:g} MHz ({c['period_ps']:g} ps) on {c['target']}: chose "
             f"stages {c['stages']}, loop stages {c['loop_stages']}"
             + (f" (interleaves {c['interleave']} accumulators)" if c["loop_stages"] else "")
             + f"; {c['registers']} registers; {reach}; {verdict}",
             "  tried    " + "; ".join(
                 f"s{t['stages']}/l{t['loop_stages']}: {t['registers']} regs "
                 f"{t['reached_mhz']} MHz" for t in c["tried"])]
    return "\n".join(lines)




def _simulating():
    """Progress of the activity simulations (operations, then timed samples): a bar on a
    terminal, a line every 2 s and at the end elsewhere."""
    return meter("simulating", unit="op", every=2)


def format_asic(r) -> str:
    """The text of an :func:`costmodel.asic_cost` result."""
    cells = ", ".join(f"{k} {v}" for k, v in sorted(r["cells"].items(), key=lambda kv: -kv[1]))
    act = r["activity"]
    fmax = f" ({r['fmax_mhz']:.0f} MHz)" if r.get("fmax_mhz") else ""
    mapped = (f"timing-driven for {r['clock_ps']:.0f} ps" if r.get("clock_ps")
              else "area-oriented, X1 cells")
    clock = f", of which clocking {act['clock_ff_per_op']:.0f}" if act["clock_ff_per_op"] else ""
    return "\n".join([
        f"{r['module']}: ASIC, {r['library']} (Nangate 45 nm cells; mapped {mapped})",
        f"  area     {r['area_um2']:.1f} µm² = {r['ge']:.1f} GE (NAND2_X1 0.798 µm²); "
        f"generic flow {r['generic_ge']:.1f} NAND2-eq",
        f"  cells    {r['n_cells']} ({r['flops']} flip-flops): {cells}",
        f"  timing   depth {r['depth']} cells, critical path {r['delay_ps']:.0f} ps{fmax}",
        f"  energy   {r['energy_pj']:.4g} pJ/op switching, zero-delay ({act['cap_ff_per_op']:.0f} fF/op"
        f"{clock}; {act['ops']} ops, {act['stimulus']}); static cross-check {r['static_pj']:.4g} pJ",
        *format_energy_models(r),
        f"  tools    {r['tools']['yosys']}, pyosys {r['tools'].get('pyosys', '?')}, amaranth "
        f"{r['tools'].get('amaranth', '?')}; key {r['key'][:12]}{' (cached)' if r['cached'] else ''}",
    ])


def format_energy_models(r) -> list:
    """Lines of the zero-delay and timed energy (library figures), if they were run."""
    te = r.get("energy_breakdown")
    if not te:
        return []

    def parts(b):
        return (f"{b['total']:.4g} pJ/op = switching {b['switching']:.3g} + internal "
                f"{b['internal']:.3g} + clock {b['clock']:.3g} + leakage {b['leakage']:.3g}")
    return [f"  zero-delay {parts(te['zero_delay'])}",
            f"  timed      {parts(te['timed'])}",
            f"             glitch factor {te['glitch_factor']:.2f} (timed / zero-delay "
            f"transitions); {te['samples']} ops, {te['vdd']} V, leakage over "
            f"{te['period_ps']:.0f} ps; Nangate 45 nm figures, nothing fitted (docs/energy.md)"]


def format_fpga(r) -> str:
    """The text of an :func:`costmodel.fpga_cost` result (with and without DSP blocks)."""
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
