"""Synthesis estimates: ASIC (Liberty-mapped, 45 nm) and FPGA (iCE40, ECP5, Xilinx 7).

Every run is one Yosys script in a fresh subprocess (:mod:`macforge.toolchain.yosys`); the script text
is part of each result so the cache key (:mod:`costmodel.cache`) covers it.

ASIC flow (the standard open one)::

    read_liberty -lib macforge45.lib; read_verilog unit.v
    synth -flatten -top T -run :fine    # coarse: $alu, $macc_v2 cells
    maccmap -unmap ...; alumacc ...     # a*b + c: product and add apart (UNMERGE_MAC)
    synth -flatten -top T -run fine:    # generic gates
    design -save generic
    dfflibmap -liberty macforge45.lib   # flip-flops -> DFF_X1 (enables/resets legalised)
    abc -liberty macforge45.lib         # combinational logic -> library cells (ABC &nf)
    opt_clean -purge
    ...
    design -load generic
    abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX # the docs/anchors.md generic flow, for the cross-check

Area is reported in µm² (Nangate 45 nm X1 areas) and in gate equivalents GE = µm² / 0.798
(NAND2_X1). ``generic_ge`` weights the generic gates exactly as docs/anchors.md does
(NOT 0.667, NAND/NOR 1, AND/OR 1.333, XOR/XNOR 2, MUX 2.333, DFF 5.667 NAND2-eq), so it is
directly comparable with that table (int8 x int8 signed ``*``: 581 there).

Examples
--------
>>> from macforge.costmodel.designs import IntMul
>>> d = Design.from_amaranth(IntMul(8), "imul_s8")
>>> r = synth_asic(d)                                   # doctest: +SKIP
>>> round(r["ge"])                                      # doctest: +SKIP
554
"""
from __future__ import annotations

import functools
import hashlib
import re
import json
import os
import tempfile
import time
from dataclasses import dataclass, field

from macforge import progress
from macforge.hw.wrapper import wrapper_verilog
from macforge.toolchain.errors import SynthError
from macforge.toolchain.names import check_source_file, require_module, yosys_id
from macforge.toolchain.sources import RtlSources
from macforge.toolchain.nextpnr import DEVICES, SEED, critical_path, place_and_route
from macforge.toolchain.yosys import (fpga_script, fpga_summary, run_script, synth_fpga_hier,
                                      version_from_stat, yosys_path)

from .cache import logs_dir
from .liberty import LIB_PATH, load
from .netlist import GateNetlist
from .sta import critical_path as sta_critical_path

__all__ = ["Design", "TARGETS", "synth_asic", "synth_fpga", "asic_script", "GENERIC_GE", "ASIC_CONSTR",
           "pnr_fpga", "pnr_flow", "scan_wrapper", "PNR_NEEDS_UNIT", "asic_flow", "shared_modules",
           "HIER_MIN_REPEATS", "HIER_MIN_INPUT_BITS", "UNMERGE_MAC"]

#: Targets of :func:`synth_fpga` plus "asic".
TARGETS = ("asic", "ice40", "ecp5", "xilinx")

#: NAND2-equivalents of Yosys' generic gates: Nangate45 X1 area / NAND2_X1 area (0.798 µm²):
#: INV 0.532, AND2/OR2 1.064, XOR2/XNOR2 1.596, MUX2 1.862, DFF 4.522 (docs/anchors.md).
GENERIC_GE = {"$_NOT_": 0.532 / 0.798, "$_NAND_": 1.0, "$_NOR_": 1.0,
              "$_AND_": 1.064 / 0.798, "$_OR_": 1.064 / 0.798, "$_ANDNOT_": 1.064 / 0.798,
              "$_ORNOT_": 1.064 / 0.798, "$_XOR_": 1.596 / 0.798, "$_XNOR_": 1.596 / 0.798,
              "$_MUX_": 1.862 / 0.798}
_DFF_GE = 4.522 / 0.798


@dataclass(frozen=True)
class Design:
    """Verilog text and its top module: what gets synthesised.

    Use :meth:`from_unit` for a ``hw`` unit, :meth:`from_amaranth` for any Amaranth
    elaboratable, :meth:`from_file` for your own RTL.
    """
    verilog: str
    top: str
    manifest: dict | None = field(default=None, compare=False, hash=False)
    label: str = ""

    @classmethod
    def from_unit(cls, unit) -> "Design":
        from macforge import hw
        text, manifest = hw.generate(unit)
        return cls(text, manifest["module"], manifest, manifest["module"])

    @classmethod
    def from_amaranth(cls, component, name: str, label: str = "") -> "Design":
        from amaranth.back import verilog
        return cls(verilog.convert(component, name=name, emit_src=False), name, None,
                   label or name)

    @classmethod
    def from_file(cls, path: str, top: str) -> "Design":
        """The module ``top`` of the Verilog file ``path``: ``top`` must be a Verilog
        identifier and a module Verilator's parser reads from the file
        (:func:`toolchain.names.require_module`), checked before any Yosys script is made.

        The text costed (and digested by the cost cache) is the file as Verilator's
        preprocessor reads it, `` `include``s inlined (:meth:`RtlSources.preprocessed`): an
        edit to any included file changes the digest, so a cached cost is never stale."""
        src = check_source_file(path)
        top = require_module(top, src)
        return cls(RtlSources.single(src).preprocessed(), top, None, top)

    def digest(self, *parts: str) -> str:
        """sha256 of the Verilog, the top and any further text (script, library, versions)."""
        h = hashlib.sha256()
        for p in (self.verilog, self.top) + parts:
            h.update(p.encode())
            h.update(b"\0")
        return h.hexdigest()


#: Run between ``synth``'s coarse and fine parts: every ``$macc_v2`` that is one product plus
#: one addend (``a*b + c``, as ``alumacc`` merges it) goes back to a ``$mul`` and an ``$add``,
#: then each becomes its own cell (the product a ``$macc_v2`` alone, the add an ``$alu``).
#: ``maccmap`` maps a merged ``a*b + c`` by extending every partial-product row to the sum's
#: width: the int8 MAC's 16-bit product into int32 costs 1432 NAND2-eq merged, 1048 apart
#: (generic flow; 1171.2 -> 874.3 µm²). No other unit of the docs has such a cell; sums of
#: several products (the dot units' trees) are left merged.
UNMERGE_MAC = ("maccmap -unmap t:$macc_v2 r:NPRODUCTS=1 %i r:NADDENDS=1 %i",
               "alumacc t:$mul", "alumacc t:$add t:$sub")

#: What timing-driven mapping assumes at the unit's boundary (ABC ``-constr``): inputs driven
#: by an X1 inverter, every output loaded like one X1 gate pin plus its wire (fF).
ASIC_CONSTR = "set_driving_cell INV_X1\nset_load 3.5\n"


def asic_script(top: str, library: str = LIB_PATH, clock_ps: float | None = None,
                keep: tuple = ()) -> list:
    """The Yosys commands of the ASIC flow (see the module docstring).

    ``clock_ps`` maps for that clock period: ABC gets it as its delay target (``abc -D``) with
    :data:`ASIC_CONSTR` (``-constr constr.txt``), so it buffers, upsizes to the X2/X4 cells
    and downsizes where the period allows. Without it the mapping is the area-oriented one of
    before: X1 cells only (``-dont_use`` on the X2/X4 ones), no delay target.

    ``keep`` (module names, :func:`shared_modules`) synthesises hierarchically: those modules
    stay their own level (``keep_hierarchy``) through ``synth`` and both ABC mappings, so each
    is optimised and mapped once however often it is instantiated; everything else is flattened
    as before. The *mapped* netlists are flattened afterwards, so the netlist, its area, the
    static timing and the energy simulation see the whole unit (lane arrival + the rest). With
    ``clock_ps`` every module is mapped for the whole period (ABC sees one module at a time)."""
    lib = yosys_path(library)
    top = yosys_id(top)
    if clock_ps is None:
        abc = f"abc -liberty {lib} -dont_use *_X2 -dont_use *_X4"
    else:
        abc = f"abc -D {int(round(clock_ps))} -constr constr.txt -liberty {lib}"
    hold = [f"setattr -mod -set keep_hierarchy 1 {yosys_id(m)}" for m in keep]
    # after mapping: one flat netlist (cheap: cells are library cells by now)
    join = (["setattr -mod -unset keep_hierarchy", "flatten", "delete t:$scopeinfo", "opt_clean -purge",
             f"hierarchy -top {top}"] if keep else [])
    return [
        f"read_liberty -lib {lib}",
        "read_verilog -sv design.v",
        f"hierarchy -check -top {top}",
        *hold,
        f"synth -flatten -top {top} -run :fine",
        *UNMERGE_MAC,
        f"synth -flatten -top {top} -run fine:",
        "delete t:$scopeinfo",
        "design -save generic",
        f"dfflibmap -liberty {lib}",
        abc,
        "opt_clean -purge",
        *join,
        f"tee -q -o stat_asic.json stat -liberty {lib} -json",
        "write_json netlist.json",
        "design -load generic",
        "abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX",
        "opt_clean -purge",
        *join,
        "tee -q -o stat_generic.json stat -json",
    ]


def asic_flow(design: "Design", library: str = LIB_PATH, clock_ps: float | None = None,
              hierarchical: bool = True) -> tuple:
    """``(verilog, script, keep)`` that :func:`synth_asic` runs for ``design``: the one place
    that decides flat or hierarchical (also the cost cache's key material); ``keep`` the
    modules kept as their own level (empty: flat).

    ``hierarchical`` True: hierarchical when :func:`shared_modules` finds a module worth it
    (repeated :data:`HIER_MIN_REPEATS` or more times, :data:`HIER_MIN_INPUT_BITS` inputs or
    more: the lanes of a dot unit of 8-bit formats), flat otherwise; False: flat."""
    if not hierarchical:
        return design.verilog, asic_script(design.top, library, clock_ps), ()
    text, keep = shared_modules(design.verilog)
    return (text if keep else design.verilog), asic_script(design.top, library, clock_ps, keep), keep


def _stat_module(stat: dict) -> dict:
    mods = stat.get("modules", {})
    if len(mods) != 1:
        # flattened designs have one module; pick the biggest otherwise
        return max(mods.values(), key=lambda m: m.get("num_cells", 0))
    return next(iter(mods.values()))


def _generic_ge(cells: dict) -> float:
    ge = 0.0
    for t, n in cells.items():
        if t in GENERIC_GE:
            ge += GENERIC_GE[t] * n
        elif "DFF" in t:              # $_DFF_P_, $_SDFFE_PP0P_, ...: one flip-flop each
            ge += _DFF_GE * n
    return ge


def _workdir(keep):
    if keep:
        os.makedirs(keep, exist_ok=True)
        return keep, None
    tmp = tempfile.TemporaryDirectory(prefix="macforge-synth-")
    return tmp.name, tmp


def _run_on(design: Design, script: str, wd: str, timeout: float, scratch: bool,
            verilog: str | None = None) -> float:
    """Write ``design`` as ``wd/design.v`` (and the ABC constraints ``constr.txt``) and run
    the Yosys ``script`` there; return the start time. When ``wd`` is ``scratch`` (deleted
    afterwards), a failure's log is kept in the cache's ``logs/`` and the error names that
    copy."""
    with open(os.path.join(wd, "design.v"), "w") as f:
        f.write(design.verilog if verilog is None else verilog)
    with open(os.path.join(wd, "constr.txt"), "w") as f:
        f.write(ASIC_CONSTR)
    t0 = time.time()
    run_script(script, wd, timeout=timeout, keep_log_in=logs_dir() if scratch else None)
    return t0


def synth_asic(design: Design, library: str = LIB_PATH, timeout: float = 1800.0,
               keep_dir: str | None = None, clock_ps: float | None = None,
               hierarchical: bool = True) -> dict:
    """Map ``design`` to the Liberty library; return area, cells, depth, delay, netlist.

    ``hierarchical`` (:func:`asic_flow`): True synthesises the repeated lane logic of a big
    unit once (:func:`shared_modules`), False flat; ``hier_modules`` in the result names the
    modules kept as their own level (empty: flat).

    ``clock_ps`` maps for that clock period (timing-driven, see :func:`asic_script`); the
    area is then the area at that clock, and ``delay_ps`` what the mapped netlist reaches.

    Returns
    -------
    dict
        ``target`` "asic", ``module``, ``area_um2``, ``ge`` (area / NAND2_X1), ``cells``
        (histogram), ``n_cells``, ``flops``, ``depth`` and ``delay_ps`` (critical path with
        the library's NLDM tables, :func:`costmodel.sta.critical_path`, flip-flop setup
        included), ``fmax_mhz``, ``clock_ps`` (the delay target, or None),
        ``generic_ge`` and ``generic_cells`` (docs/anchors.md flow), ``netlist`` (Yosys JSON text
        of the mapped netlist), ``script``, ``tools``, ``seconds``.
    """
    lib = load(library)
    verilog, script, keep = asic_flow(design, os.path.abspath(library), clock_ps, hierarchical)
    wd, tmp = _workdir(keep_dir)
    progress.status(f"synthesising {design.top} for asic (yosys)")
    try:
        t0 = _run_on(design, script, wd, timeout, scratch=tmp is not None, verilog=verilog)
        secs = time.time() - t0
        with open(os.path.join(wd, "stat_asic.json")) as f:
            stat = json.load(f)
        with open(os.path.join(wd, "stat_generic.json")) as f:
            gstat = json.load(f)
        with open(os.path.join(wd, "netlist.json")) as f:
            netlist_text = f.read()
    finally:
        if tmp:
            tmp.cleanup()
    net = GateNetlist(netlist_text, lib, top=design.top)
    cells = net.histogram()
    area = net.area_um2()
    gcells = dict(sorted(_stat_module(gstat).get("num_cells_by_type", {}).items()))
    timing = sta_critical_path(net)
    flops = sum(n for t, n in cells.items() if lib.cells[t].sequential)
    return {
        "target": "asic", "module": design.top, "library": lib.name,
        "area_um2": round(area, 3), "ge": round(area / lib.ge_area, 1),
        "cells": cells, "n_cells": sum(cells.values()), "flops": flops,
        "depth": timing["depth"], "delay_ps": timing["delay_ps"], "fmax_mhz": timing["fmax_mhz"],
        "clock_ps": clock_ps,
        "hier_modules": list(keep),
        "generic_ge": round(_generic_ge(gcells), 1), "generic_cells": gcells,
        "yosys": version_from_stat(stat), "script": script, "seconds": round(secs, 2),
        "netlist": netlist_text,
    }


# -- FPGA ------------------------------------------------------------------------------

#: The one-line error for ``pnr`` on a design without a manifest (:meth:`Design.from_file`,
#: :meth:`Design.from_amaranth`): the scan wrapper needs the ports' roles.
PNR_NEEDS_UNIT = ("--pnr needs a macforge unit: place and route runs it inside the scan wrapper, "
                  "which reads the port roles from the unit's manifest, and {top} has none; "
                  "cost it without --pnr")

_WRAPPERS = {}


#: What the wrapped build reads: the unit as ``design.v``, the wrapper as ``wrapper.v``.
_WRAPPED_READS = ("read_verilog -sv design.v", "read_verilog -sv wrapper.v")


def scan_wrapper(design: Design) -> tuple:
    """``(top, Verilog)`` of ``design``'s unit inside :class:`hw.wrapper.ScanWrapper`.

    Raises :class:`SynthError` (:data:`PNR_NEEDS_UNIT`) for a design without a manifest.
    Memoised per manifest: the text is part of the place-and-route cache key."""
    if design.manifest is None:
        raise SynthError(PNR_NEEDS_UNIT.format(top=design.top))
    memo = json.dumps(design.manifest, sort_keys=True, default=str)
    if memo not in _WRAPPERS:
        _WRAPPERS[memo] = wrapper_verilog(design.manifest)
    return _WRAPPERS[memo]


def pnr_flow(design: Design, target: str, dsp: bool = True) -> dict:
    """Everything that shapes :func:`pnr_fpga`'s result besides the unit's Verilog and the
    tools: the wrapper's Verilog, the Yosys script, nextpnr's device, target clock and seed
    (:mod:`macforge.toolchain.nextpnr`'s). Part of the cost cache key, so a change to any of
    them re-runs."""
    if target not in ("ice40", "ecp5"):
        raise SynthError(f"--pnr applies to the FPGA targets ice40 and ecp5, not {target}")
    top, text = scan_wrapper(design)
    dev = DEVICES[target]
    return {"wrapper": top, "wrapper_verilog": text,
            "script": fpga_script(target, top, dsp, reads=_WRAPPED_READS, keep=(design.top,)),
            "device": list(dev.nextpnr), "freq_mhz": dev.freq_mhz, "seed": SEED}


def pnr_fpga(design: Design, target: str, dsp: bool = True, timeout: float = 1800.0,
             keep_dir: str | None = None) -> dict:
    """Place and route ``design``'s unit inside the scan wrapper; return its Fmax.

    The build is :func:`fpga.flow.build`'s without the bitstream: the unit between scan
    registers on five pins (:class:`hw.wrapper.ScanWrapper`), synthesised with the unit kept
    as its own hierarchy level (``fpga.flow._synth``), placed and routed by nextpnr on the
    flow's device (iCE40 UP5K SG48, ECP5 LFE5U-85F CABGA381) with its placer target clock and
    seed. So ``fmax_mhz`` is register to register through the unit (plus the unit's own
    pipeline registers), not pin to pin, on the same part whatever the unit's width.

    Returns
    -------
    dict
        ``fmax_mhz`` (None if nextpnr timed nothing), ``device`` (the part's name), ``pnr``:
        ``wrapper`` (top module), ``seed``, ``freq_mhz`` (placer target), ``unit`` (the unit's
        cells inside the wrapper: lut/carry/dsp/ff/bram), ``wrapper_cells`` (the wrapper's
        own), ``critical_path`` (nextpnr's worst register-to-register path) and ``notes``.
    """
    flow = pnr_flow(design, target, dsp)
    wd, tmp = _workdir(keep_dir)
    try:
        with open(os.path.join(wd, "design.v"), "w") as f:
            f.write(design.verilog)
        with open(os.path.join(wd, "wrapper.v"), "w") as f:
            f.write(flow["wrapper_verilog"])
        notes = []
        progress.status(f"placing and routing {design.top} on {target} (yosys, nextpnr)")
        unit, wrapper, _ = synth_fpga_hier(target, wd, list(_WRAPPED_READS), flow["wrapper"],
                                           [design.top], dsp=dsp, timeout=timeout, notes=notes)
        r = place_and_route(target, wd, flow["device"], freq=flow["freq_mhz"], seed=flow["seed"],
                            report="nextpnr_report.json", timeout=timeout)
    finally:
        if tmp:
            tmp.cleanup()
    fmax = round(r["fmax_mhz"], 2) if r["fmax_mhz"] else None
    return {"fmax_mhz": fmax, "device": DEVICES[target].name,
            "pnr": {"wrapper": flow["wrapper"], "seed": flow["seed"],
                    "freq_mhz": flow["freq_mhz"], "unit": unit, "wrapper_cells": wrapper,
                    "critical_path": critical_path(r["report"]), "notes": notes}}


def synth_fpga(design: Design, target: str, dsp: bool = True, pnr: bool = False,
               timeout: float = 1800.0, keep_dir: str | None = None) -> dict:
    """Synthesise for an FPGA family; optionally place and route for Fmax.

    The cell counts are always the bare unit's; ``pnr`` adds :func:`pnr_fpga`'s Fmax of the
    unit inside the scan wrapper (a macforge unit only: :class:`SynthError` otherwise, before
    anything runs).

    Returns
    -------
    dict
        ``target``, ``module``, ``dsp`` (allowed or not), ``cells`` (histogram), ``lut``,
        ``carry``, ``dsp_blocks``, ``ff``, and with ``pnr``: ``fmax_mhz`` (nextpnr's clock
        Fmax, register to register through the unit), ``device`` and ``pnr`` (see
        :func:`pnr_fpga`).
    """
    if pnr:
        pnr_flow(design, target, dsp)              # the one-line errors, before synthesis
    script = fpga_script(target, design.top, dsp)
    wd, tmp = _workdir(keep_dir)
    progress.status(f"synthesising {design.top} for {target} (yosys)")
    try:
        t0 = _run_on(design, script, wd, timeout, scratch=tmp is not None)
        with open(os.path.join(wd, "stat.json")) as f:
            stat = json.load(f)
        cells = dict(sorted(_stat_module(stat).get("num_cells_by_type", {}).items()))
        res = {"target": target, "module": design.top, "dsp": dsp, "cells": cells,
               **{("dsp_blocks" if k == "dsp" else k): v
                  for k, v in fpga_summary(target, cells).items()},
               "yosys": version_from_stat(stat), "script": script}
        if pnr:
            res.update(pnr_fpga(design, target, dsp, timeout,
                                os.path.join(wd, "pnr") if keep_dir else None))
        res["seconds"] = round(time.time() - t0, 2)
        return res
    finally:
        if tmp:
            tmp.cleanup()


# -- hierarchical synthesis of repeated logic -------------------------------------------

#: A design whose largest group of identical submodules has at least this many instances is
#: synthesised hierarchically by default (:func:`shared_modules`): a k-lane dot unit (k >= 4).
HIER_MIN_REPEATS = 4

#: A repeated module is kept as its own level only with at least this many input bits; a
#: smaller one is flattened into its parent. Measured at 8 lanes, area-oriented flow, area
#: kept / flat (2026-12-02): nvfp4 (e2m1 product: 8 input bits, lane align: 9) +10.4 % with
#: both kept -- its lane's constant ``is_inf``/``is_nan`` outputs and the parent's clamped
#: shift amount do not cross the boundary, a large part of so small a module; Yosys'
#: ``synth -hieropt`` (``opt_hier``) brings it to +5.8 % (+5.2 / +5.4 % keeping only one of
#: the two) but takes mxfp8 from +4.6 % to +6.8 %, so it is not used. Flat, nvfp4 maps in
#: 65 s at k = 16. The 8-bit formats' lanes (15-18 input bits) are what makes k = 32
#: unmappable flat, and are kept (mxfp8 +4.6 %).
HIER_MIN_INPUT_BITS = 12

_MODULE_RE = re.compile(r"^module\s+(\\\S+|[A-Za-z_][A-Za-z0-9_$]*)\s*\(.*?^endmodule\b",
                        re.M | re.S)
_INPUT_RE = re.compile(r"^\s*input\s+(?:\[(\d+):(\d+)\]\s*)?(?:\\\S+|[A-Za-z_][\w$]*)\s*;", re.M)


#: Amaranth's generated port names (``\\port$2972$0``): numbered design-wide, so two identical
#: instances' ports differ by name; renumbered per module for the comparison.
_PORT_RE = re.compile(r"\\port\$\d+\$\d+(?=\s)")


def _id_re(name: str):
    """The Verilog identifier ``name`` as a whole token (escaped ones end at white space)."""
    if name.startswith("\\"):
        return re.compile(re.escape(name) + r"(?=\s)")
    return re.compile(r"(?<![\w$\\])" + re.escape(name) + r"(?![\w$])")


def _input_bits(body: str) -> int:
    return sum(int(hi) - int(lo) + 1 if hi else 1 for hi, lo in _INPUT_RE.findall(body))


@functools.lru_cache(maxsize=16)
def shared_modules(verilog: str) -> tuple:
    """``(text, keep)``: ``verilog`` with structurally identical modules made one, and the
    names of the repeated modules to synthesise once each.

    Amaranth emits one module per instance (``top.product0``, ``top.product1``, ...), so the k
    identical lanes of a dot unit are k modules. Two modules are identical when their text is,
    once their own name and the names of the modules they instantiate are replaced by the
    representative of each one's class (bottom-up, first in the file represents): the
    duplicates are dropped and every instance refers to the representative. Deterministic
    (text order), and the logic is unchanged (the same module text, renamed).

    ``keep`` lists the representatives instantiated :data:`HIER_MIN_REPEATS` or more times
    whose parent is not itself repeated (the outermost repeated level: a lane, not the lane's
    multiplier) and that have :data:`HIER_MIN_INPUT_BITS` input bits or more, in file order;
    empty when nothing qualifies (then ``text`` is ``verilog``). Memoised (the cost cache's
    key and the synthesis both ask)."""
    mods = [(m.group(1), m.group(0)) for m in _MODULE_RE.finditer(verilog)]
    if len(mods) < HIER_MIN_REPEATS:
        return verilog, ()
    names = [n for n, _ in mods]
    bodies = dict(mods)
    ids = {n: _id_re(n) for n in names}              # compiled once per name
    children = {n: [c for c in names if c != n and ids[c].search(bodies[n])] for n in names}
    uses = {(n, c): len(ids[c].findall(bodies[n])) for n in names for c in children[n]}
    rep, seen, texts, owns, ports = {}, {}, {}, {}, {}
    pending = list(names)
    while pending:                                   # bottom-up: children resolved first
        progressed = False
        for n in list(pending):
            if any(c in pending for c in children[n]):
                continue
            body = bodies[n]
            for c in sorted(children[n], key=len, reverse=True):
                body = ids[c].sub(lambda _m, c=c: rep[c], body)
                body = _PORT_RE.sub(lambda t, c=c: ports[c].get(t.group(0), t.group(0)), body)
            own = list(dict.fromkeys(_PORT_RE.findall(body)))
            index = {p: i for i, p in enumerate(own)}
            canon = _PORT_RE.sub(lambda t: f"\\port${index[t.group(0)]}", body)
            canon = ids[n].sub("\\\\<self>", canon)
            rep[n] = seen.setdefault(canon, n)
            owns[n], texts[n] = own, body
            # this module's generated port names -> its representative's (same order)
            ports[n] = dict(zip(own, owns[rep[n]]))
            pending.remove(n)
            progressed = True
        if not progressed:                           # a cycle: not Verilog we understand
            return verilog, ()
    count = {}
    for (n, c), k in uses.items():
        count[rep[c]] = count.get(rep[c], 0) + k
    out = [texts[n] for n in names if rep[n] == n]
    last = mods[-1][1]
    text = (verilog[:verilog.find(mods[0][1])] + "\n\n".join(out)
            + verilog[verilog.rfind(last) + len(last):])
    parents = {}
    for n in names:
        if rep[n] == n:
            for c in children[n]:
                parents.setdefault(rep[c], set()).add(n)
    keep = [n for n in names if rep[n] == n and count.get(n, 0) >= HIER_MIN_REPEATS
            and not any(count.get(p, 0) >= HIER_MIN_REPEATS for p in parents.get(n, ()))
            and _input_bits(bodies[n]) >= HIER_MIN_INPUT_BITS]
    return (text, tuple(keep)) if keep else (verilog, ())
