"""FPGA builds: a unit in the scan wrapper (or the UART harness on a board) through synthesis,
place and route and bitstream packing; reports of utilisation and Fmax; pipeline sweeps.

Synthesis is :mod:`costmodel.synth`'s (pyosys in a subprocess, ``synth_ice40``/``synth_ecp5``/
``synth_xilinx``), place and route and packing its :func:`~costmodel.synth.place_and_route` and
:func:`~costmodel.synth.pack_bitstream` (yowasp nextpnr, icepack, ecppack). The unit's module is
kept as its own level of hierarchy (``keep_hierarchy``), so the report gives the unit's cells
and the wrapper's separately; nextpnr's report gives the placed design's utilisation against
the device's capacity and the achieved Fmax. The placer seed is fixed (:data:`SEED`), so
a build is reproducible.

Output: ``fpga/build/<module>/<target>/`` holds ``<module>.v`` and ``.json`` (the unit, as
``macforge verilog`` writes it), ``scan_<module>.v`` (the wrapper), ``netlist.json``,
``yosys.log``, ``nextpnr.log``, ``nextpnr_report.json``, the bitstream (``<module>.bin`` for
iCE40, ``<module>.bit`` for ECP5; Xilinx: ``vivado.tcl`` + ``<module>.xdc`` for users with
Vivado) and ``report.json`` + ``report.txt``.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from macforge import provenance
from macforge.limits import check as check_limit, shown
from macforge.progress import metered
from macforge.hw.wrapper import wrapper_verilog
from macforge.toolchain.errors import SynthError
from macforge.toolchain.nextpnr import (DEVICES, SEED, critical_path, pack_bitstream,
                                        place_and_route)
from macforge.toolchain.versions import tool_versions
from macforge.toolchain.yosys import synth_fpga_hier

__all__ = ["TARGETS", "build", "build_board", "sweep", "format_report", "parse_stages",
           "BUILD_ROOT"]

TARGETS = ("ice40", "ecp5", "xilinx")
BUILD_ROOT = "fpga/build"
#: nextpnr bel types behind each summary row, per target.
_BELS = {
    "ice40": {"lut": ("ICESTORM_LC",), "ff": ("ICESTORM_LC",), "dsp": ("ICESTORM_DSP",),
              "bram": ("ICESTORM_RAM",), "io": ("SB_IO",)},
    "ecp5": {"lut": ("TRELLIS_COMB",), "ff": ("TRELLIS_FF",), "dsp": ("MULT18X18D",),
             "bram": ("DP16KD",), "io": ("TRELLIS_IO",)},
}


def parse_stages(text: str, option: str = "--sweep-stages", limit: str = "stages") -> list:
    """'0..4' -> [0, 1, 2, 3, 4]; '0,2,4' -> [0, 2, 4]; every value within
    ``macforge.limits.LIMITS[limit]`` (checked before the range is made)."""
    try:
        if ".." in text:
            lo, hi = (int(x) for x in text.split("..", 1))
            ends = [lo, hi]
        else:
            ends = [int(x) for x in text.split(",")]
    except ValueError:
        ends = []
    if not ends or min(ends) < 0 or (".." in text and ends[0] > ends[1]):
        raise SynthError(f"{option} takes a range like 0..4 or a list like 0,2,4 of "
                         f"non-negative integers, not {shown(text)}")
    for v in ends:
        check_limit(limit, v, f"{option} {shown(text)}: each value")
    return list(range(ends[0], ends[1] + 1)) if ".." in text else ends


def _utilisation(target, placed: dict, total: dict) -> dict:
    """Rows lut/ff/dsp/bram/io: used, available, percent (nextpnr's placed figures; Xilinx:
    Yosys' counts against the datasheet capacity)."""
    rows = {}
    if target in _BELS:
        for key, bels in _BELS[target].items():
            used = sum(placed.get(b, {}).get("used", 0) for b in bels)
            avail = sum(placed.get(b, {}).get("available", 0) for b in bels)
            if key == "ff":
                used = total["ff"]          # an iCE40 logic cell holds one LUT and one FF
            rows[key] = {"used": used, "available": avail,
                         "percent": round(100.0 * used / avail, 2) if avail else None}
    else:
        cap = DEVICES[target].capacity
        for key in ("lut", "ff", "dsp", "bram"):
            used = total[key]
            rows[key] = {"used": used, "available": cap[key],
                         "percent": round(100.0 * used / cap[key], 2)}
    return rows


def _pnr(target, wd, stem, constraints=None, freq=None, seed=SEED, timeout=3600.0):
    dev = DEVICES[target]
    r = place_and_route(target, wd, list(dev.nextpnr), netlist="netlist.json",
                        constraints=constraints, freq=freq or dev.freq_mhz, seed=seed,
                        report="nextpnr_report.json", output=stem + dev.pnr_output,
                        timeout=timeout)
    with open(os.path.join(wd, "nextpnr.log"), "w") as f:
        f.write(r["log"])
    bit = pack_bitstream(target, wd, stem + dev.pnr_output, stem + dev.bitstream)
    return r, bit


def _unit_dir(unit, root, leaf):
    """``root/<module>/<leaf>/`` with the unit's Verilog and manifest written into it."""
    from macforge import hw
    manifest = unit.manifest()
    wd = Path(root) / manifest["module"] / leaf
    wd.mkdir(parents=True, exist_ok=True)
    return manifest, manifest["module"], wd, hw.write(unit, wd)


def _write_report(wd: Path, rep: dict):
    provenance.write_json(wd / "report.json", rep)
    (wd / "report.txt").write_text(format_report(rep) + "\n")


def build(unit, target: str, root: str = BUILD_ROOT, seed: int = SEED, freq: float | None = None,
          progress=None) -> dict:
    """Synthesise ``unit`` in the scan wrapper for ``target``, place, route and pack it
    (iCE40, ECP5) or write the Vivado script (Xilinx); write and return the report."""
    if target not in TARGETS:
        raise SynthError(f"unknown FPGA target {target!r}; accepted: " + ", ".join(TARGETS))
    say = progress or (lambda msg: None)
    manifest, module, wd, paths = _unit_dir(unit, root, target)
    wrapper_top, wrapper_text = wrapper_verilog(manifest)
    wrapper_v = wd / f"{wrapper_top}.v"
    wrapper_v.write_text(f"// {wrapper_top}: {module} in the scan wrapper (hw.wrapper), written "
                         f"by macforge fpga.flow\n// {provenance.line()}\n" + wrapper_text)
    reads = [f"read_verilog -sv {Path(paths['verilog']).name}", f"read_verilog -sv {wrapper_v.name}"]
    dev = DEVICES[target]
    rep = {"module": module, "target": target, "device": dev.name, "board": dev.board,
           "unit": {k: manifest[k] for k in ("unit", "formats", "rounding", "stages", "latency",
                                             "loop_stages", "interleave") if k in manifest},
           "wrapper": {"top": wrapper_top, "pins": ["clk", "rst", "sin", "shift", "sout"]},
           "seed": seed, "tools": tool_versions(), "seconds": {}}
    t0 = time.time()
    say(f"  synthesising {wrapper_top} for {dev.name} (pyosys)")
    if target == "xilinx":
        rep["synth"], rep["synth_nodsp"] = {}, {}
        for sub, dsp in (("dsp", True), ("nodsp", False)):
            swd = wd / sub
            swd.mkdir(exist_ok=True)
            u, w, t = synth_fpga_hier(target, str(swd), [r.replace(" -sv ", " -sv ../") for r in reads],
                             wrapper_top, [module], dsp=dsp)
            rep["synth" if dsp else "synth_nodsp"] = {"unit": u, "wrapper": w, "total": t}
        rep["seconds"]["synth"] = round(time.time() - t0, 1)
        rep["utilisation"] = _utilisation(target, {}, rep["synth"]["total"])
        rep["fmax_mhz"] = None
        rep["files"] = _vivado(wd, module, Path(paths["verilog"]).name, wrapper_v.name,
                               wrapper_top)
        _write_report(wd, rep)
        return rep
    notes = []
    u, w, t = synth_fpga_hier(target, str(wd), reads, wrapper_top, [module], notes=notes)
    rep["synth"] = {"unit": u, "wrapper": w, "total": t}
    rep["notes"] = notes
    t1 = time.time()
    rep["seconds"]["synth"] = round(t1 - t0, 1)
    say(f"  placing and routing with nextpnr (seed {seed}, target {freq or dev.freq_mhz:g} MHz)")
    r, bit = _pnr(target, str(wd), module, freq=freq, seed=seed)
    rep["seconds"]["pnr"] = round(time.time() - t1, 1)
    placed = r["report"]["utilization"]
    rep["placed"] = placed
    rep["utilisation"] = _utilisation(target, placed, t)
    rep["fmax_mhz"] = round(r["fmax_mhz"], 2) if r["fmax_mhz"] else None
    rep["pnr_target_mhz"] = freq or dev.freq_mhz
    rep["critical_path"] = critical_path(r["report"])
    rep["files"] = {"verilog": paths["verilog"], "manifest": paths["manifest"],
                    "wrapper": str(wrapper_v), "netlist": str(wd / "netlist.json"),
                    "bitstream": bit, "report": str(wd / "report.json")}
    _write_report(wd, rep)
    return rep


def _vivado(wd: Path, module, unit_v, wrapper_v, top) -> dict:
    """A non-project Vivado script (not run here): synthesis, implementation, reports and a
    bitstream for the scan-wrapped unit on the XC7A35T."""
    xdc = wd / f"{module}.xdc"
    xdc.write_text(
        "# Clock for the scan-wrapped unit; tighten the period to find Fmax (WNS in timing.rpt)\n"
        "create_clock -name clk -period 10.000 [get_ports clk]\n"
        "# The five pins are not tied to a board: any bank, LVCMOS33\n"
        "set_property IOSTANDARD LVCMOS33 [get_ports {clk rst sin shift sout}]\n")
    tcl = wd / "vivado.tcl"
    tcl.write_text(f"""# Generated by macforge (fpga.flow): vivado -mode batch -source vivado.tcl
# {provenance.line()}
# {module} in its scan wrapper ({top}) on an Artix-7 XC7A35T (Arty A7-35T).
# Not run by macforge (Vivado is not installed here); Yosys' synth_xilinx figures are in
# report.txt. Results go to vivado_out/.
set here [file dirname [file normalize [info script]]]
set out $here/vivado_out
file mkdir $out
read_verilog $here/{unit_v}
read_verilog $here/{wrapper_v}
read_xdc $here/{module}.xdc
synth_design -top {top} -part xc7a35tcsg324-1
report_utilization -hierarchical -file $out/utilization_synth.rpt
opt_design
place_design
route_design
report_utilization -file $out/utilization.rpt
report_utilization -hierarchical -file $out/utilization_hier.rpt
report_timing_summary -max_paths 10 -file $out/timing.rpt
# pins are unplaced (no board file): allow the bitstream anyway
set_property SEVERITY {{Warning}} [get_drc_checks UCIO-1]
set_property SEVERITY {{Warning}} [get_drc_checks NSTD-1]
write_bitstream -force $out/{module}.bit
""")
    return {"vivado_tcl": str(tcl), "xdc": str(xdc)}


def build_board(unit, board_name: str, root: str = BUILD_ROOT, baud: int | None = None,
                seed: int = SEED, settle: int = 15, progress=None) -> dict:
    """Build the UART harness bitstream of ``unit`` for a board of :data:`fpga.harness.BOARDS`."""

    from .harness import BOARDS, DEFAULT_BAUD, BoardTop
    board = BOARDS[board_name]
    baud = baud or DEFAULT_BAUD
    say = progress or (lambda msg: None)
    manifest, module, wd, paths = _unit_dir(unit, root, board_name)
    name = f"harness_{board_name}"
    plan = board.platform().build(BoardTop(manifest, board, baud, settle), name=name, do_build=False)
    constraints = name + (".pcf" if board.target == "ice40" else ".lpf")
    for fname in (f"{name}.il", constraints):
        content = plan.files[fname]
        (wd / fname).write_text(content if isinstance(content, str) else content.decode())
    # the platform instantiates vendor I/O primitives (SB_IO, SB_GB_IO; ECP5 buffers): their
    # library definitions are read first, as synth_ice40/synth_ecp5 do, for hierarchy -check
    lib = {"ice40": ["+/ice40/cells_sim.v"], "ecp5": ["+/ecp5/cells_sim.v", "+/ecp5/cells_bb.v"]}
    reads = [f"read_verilog -lib -specify {f}" for f in lib[board.target]] + [
        f"read_verilog -sv {Path(paths['verilog']).name}", f"read_rtlil {name}.il"]
    rep = {"module": module, "target": board.target, "board": board.description,
           "device": DEVICES[board.target].name, "clock_mhz": board.clock_hz / 1e6,
           "baud": baud, "divisor": board.divisor(baud), "seed": seed,
           "tools": tool_versions(), "seconds": {}}
    t0 = time.time()
    say(f"  synthesising {name} around {module} (pyosys)")
    notes = []
    u, w, t = synth_fpga_hier(board.target, str(wd), reads, name, [module], notes=notes)
    rep["synth"] = {"unit": u, "wrapper": w, "total": t}
    rep["notes"] = notes
    t1 = time.time()
    rep["seconds"]["synth"] = round(t1 - t0, 1)
    say(f"  placing and routing for the {board_name} ({board.clock_hz / 1e6:g} MHz clock)")
    r, bit = _pnr(board.target, str(wd), name, constraints=constraints,
                  freq=board.clock_hz / 1e6, seed=seed)
    rep["seconds"]["pnr"] = round(time.time() - t1, 1)
    rep["placed"] = r["report"]["utilization"]
    rep["utilisation"] = _utilisation(board.target, rep["placed"], t)
    rep["fmax_mhz"] = round(r["fmax_mhz"], 2) if r["fmax_mhz"] else None
    cp = critical_path(r["report"])
    clock = board.clock_hz / 1e6
    # a worst path from the operand register (or a unit register) into the unit or the result
    # register is a (settle + 1)-cycle path in the harness (HarnessCore's settle); any other
    # path is single-cycle
    multi = bool(cp and ("unit." in cp["to"] or "result" in cp["to"])
                 and ("operands" in cp["from"] or "unit." in cp["from"]))
    rep["settle"] = settle
    rep["timing_cycles"] = settle + 1 if multi else 1
    rep["timing_met"] = bool(rep["fmax_mhz"] and rep["fmax_mhz"] * rep["timing_cycles"] >= clock)
    rep["critical_path"] = cp
    rep["files"] = {"verilog": paths["verilog"], "harness": str(wd / f"{name}.il"),
                    "constraints": str(wd / constraints), "bitstream": bit,
                    "report": str(wd / "report.json")}
    _write_report(wd, rep)
    return rep


def _row(label, c):
    return (f"  {label:<8} LUT {c['lut']:>6}  carry {c['carry']:>5}  DSP {c['dsp']:>3}  "
            f"FF {c['ff']:>6}  BRAM {c.get('bram', 0):>3}")


def format_report(rep: dict) -> str:
    """The report as text (``report.txt`` and what ``macforge fpga`` prints)."""
    head = f"{rep['module']}: {rep['target']}, {rep['device']}"
    if "baud" in rep:
        head += (f"; UART harness for the {rep['board']}, {rep['clock_mhz']:g} MHz clock, "
                 f"{rep['baud']} baud")
    else:
        head += f"; scan wrapper {rep['wrapper']['top']} (pins: {', '.join(rep['wrapper']['pins'])})"
    lines = [head, "  synthesis (Yosys cells" + (", DSP blocks allowed" if "synth_nodsp" in rep
                                               else "") + "):"]
    for key, label in (("synth", "with DSP"), ("synth_nodsp", "no DSP")):
        if key not in rep:
            continue
        if key == "synth_nodsp":
            lines.append("  synthesis without DSP blocks:")
        for part in ("unit", "wrapper", "total"):
            lines.append(_row(part, rep[key][part]))
    lines.append("  utilisation" + (" (placed, nextpnr)" if "placed" in rep else
                                    " (Yosys, against the datasheet capacity)") + ":")
    for key, row in rep["utilisation"].items():
        pct = f"{row['percent']:.2f} %" if row["percent"] is not None else "-"
        lines.append(f"    {key:<5} {row['used']:>6} / {row['available']:<6} {pct}")
    if rep.get("fmax_mhz") is not None:
        cp = rep.get("critical_path") or {}
        extra = (f"; critical path {cp['delay_ns']:.2f} ns ({cp['logic_ns']:.2f} ns logic), "
                 f"{cp['from']} -> {cp['to']}" if cp else "")
        lines.append(f"  Fmax {rep['fmax_mhz']:.2f} MHz (nextpnr, seed {rep['seed']}"
                     + (f", placer target {rep['pnr_target_mhz']:g} MHz"
                        if "pnr_target_mhz" in rep else "")
                     + f"){extra}")
        if "timing_met" in rep:
            n = rep["timing_cycles"]
            how = (f"the worst path ends in the unit: a {n}-cycle path in the harness (operands "
                   f"held {rep['settle']} cycles before the one-cycle enable), "
                   f"{n * 1000 / rep['clock_mhz']:.0f} ns available" if n > 1 else
                   "single-cycle path")
            lines.append(f"  timing {'met' if rep['timing_met'] else 'NOT MET'} at the board's "
                         f"{rep['clock_mhz']:g} MHz clock ({how})")
    for note in rep.get("notes", ()):
        lines.append(f"  note: {note}")
    for k, v in rep.get("files", {}).items():
        lines.append(f"  {k:<11} {v}")
    secs = ", ".join(f"{k} {v:.0f} s" for k, v in rep.get("seconds", {}).items())
    lines.append(f"  tools       {rep['tools']['yosys']}" + "".join(
        f", {k} {v}" for k, v in rep["tools"].items() if k.startswith("yowasp")) + f"; {secs}")
    return "\n".join(lines)


def sweep(make, stages, targets, root: str = BUILD_ROOT, seed: int = SEED, progress=None,
          loop_stages=None, meter=None) -> list:
    """Build ``make(s)`` for every s and target -- or ``make(s, l)`` for every s and every
    ``l`` of ``loop_stages`` (a float MAC's accumulate-loop registers, hw.FMac) -- and return
    one row per build; ``progress`` (None: silent) is told ``<module> on <target>`` before
    each build, then the build's phases; ``meter`` (None: silent) ``(builds done, builds)``
    before the first and after each."""
    # every unit is made (and so checked) before the first build starts
    units = [(target, s, make(s) if l is None else make(s, l)) for target in targets
             for l in (loop_stages if loop_stages is not None else (None,)) for s in stages]
    return [_sweep_row(unit, s, target, root, seed, progress)
            for target, s, unit in metered(units, meter)]


def _sweep_row(unit, s, target, root, seed, progress) -> dict:
    if progress:
        progress(f"{unit.module_name} on {target}")
    rep = build(unit, target, root=root, seed=seed, progress=progress)
    man = unit.manifest()
    syn = rep["synth"]["unit"]
    return {"module": rep["module"], "target": target, "stages": s,
            "loop_stages": man.get("loop_stages", 0), "interleave": man["interleave"],
            "latency": rep["unit"]["latency"], "fmax_mhz": rep["fmax_mhz"],
            "lut": syn["lut"], "ff": syn["ff"], "carry": syn["carry"], "dsp": syn["dsp"],
            "notes": rep.get("notes", [])}
