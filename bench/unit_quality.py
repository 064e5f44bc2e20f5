"""Unit quality: each unit's NAND2-eq on the docs/anchors.md generic flow against its anchor.

For each row of docs/anchors.md "Area of open arithmetic RTL" that macforge has a unit for, the
unit is synthesised with ``costmodel.synth.synth_asic`` (Yosys ``synth -flatten`` with
``UNMERGE_MAC`` between its coarse and fine parts, then ``abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX``
weighted in NAND2 equivalents) and printed next to the anchor with the ratio ours / anchor
(below 1: smaller than the open design). The anchors were measured with plain ``synth``:
through this flow the plain ``a*b + c`` anchor is 831 NAND2-eq, not 1220 (the plain int8 ``*``
stays 581; the third-party RTL is not here to re-run). ``--clock-mhz``
also prints the Nangate45 area at that clock (``costmodel.pipelining.unit_at_clock``).

``--breakdown`` prints where the area goes: the same generic flow without ``-flatten``, every
submodule kept as its own level, so each sub-block (decoders, multiplier, aligner, adder,
normaliser, rounder) is optimised alone and reported with its NAND2-eq (the sum is larger than
the flat figure by what flattening optimises across block boundaries).

Usage: python bench/unit_quality.py [--only e4m3-mul,...] [--clock-mhz 500] [--breakdown]
"""
import argparse
import json
import os
import tempfile
import time

from macforge import hw
from macforge.costmodel.synth import GENERIC_GE, Design, synth_asic
from macforge.toolchain.yosys import run_script

#: (key, label, make_unit arguments, anchor NAND2-eq, anchor source) -- anchors from
#: docs/anchors.md, "Area of open arithmetic RTL (measured here)".
ROWS = (
    ("e4m3-mul", "e4m3 mul", dict(unit="mul", fmt="e4m3"), 456, "HardFloat mul (4,4)"),
    ("e5m2-mul", "e5m2 mul", dict(unit="mul", fmt="e5m2"), 375, "HardFloat mul (5,3)"),
    ("fp16-mul", "fp16 mul", dict(unit="mul", fmt="fp16"), 1861, "HardFloat mul FP16"),
    ("e4m3-fma", "e4m3 FMA", dict(unit="fma", fmt="e4m3", acc="e4m3"), 996, "cvfpu FMA E4M3"),
    ("fp16-fma", "fp16 FMA", dict(unit="fma", fmt="fp16", acc="fp16"), 2867, "cvfpu FMA FP16"),
    ("bf16-fma", "bf16 FMA", dict(unit="fma", fmt="bf16", acc="bf16"), 2218, "cvfpu FMA BF16"),
    ("p8-mul", "posit(8,2) mul", dict(unit="mul", fmt="posit8es2"), 570, "PACoGen mul (8,2)"),
    ("p16-mul", "posit(16,1) mul", dict(unit="mul", fmt="posit16es1"), 2475, "PACoGen mul (16,1)"),
    ("int8-mac", "int8 MAC, int32 acc", dict(unit="mac", fmt="int8", acc="int32"), 1220,
     "plain a*b+c, combinational"),
)


def logic_ge(cells):
    """NAND2-eq of the combinational generic gates of a cell histogram (flip-flops left out)."""
    return sum(GENERIC_GE.get(t, 0.0) * n for t, n in cells.items())


def measure(spec, clock_mhz=None):
    """Return (generic NAND2-eq, its logic alone, flip-flops, seconds, area at clock or None)
    of one unit."""
    t = time.time()
    r = synth_asic(Design.from_unit(hw.make_unit(**spec)))
    at = None
    if clock_mhz:
        from macforge.costmodel.pipelining import unit_at_clock
        at = unit_at_clock(spec, clock_mhz)
    return r["generic_ge"], logic_ge(r["generic_cells"]), r["flops"], time.time() - t, at


def breakdown(spec):
    """``{module path: NAND2-eq}`` of one unit's sub-blocks, each synthesised as its own level
    (generic flow, combinational gates only; a module's figure excludes its submodules)."""
    d = Design.from_unit(hw.make_unit(**spec))
    with tempfile.TemporaryDirectory(prefix="macforge-qual-") as wd:
        with open(os.path.join(wd, "design.v"), "w") as f:
            f.write(d.verilog)
        run_script(["read_verilog -sv design.v", f"hierarchy -check -top {d.top}",
                     "setattr -mod -set keep_hierarchy 1", f"synth -top {d.top}",
                     "delete t:$scopeinfo", "abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX",
                     "opt_clean -purge", "tee -q -o stat.json stat -json"], wd)
        with open(os.path.join(wd, "stat.json")) as f:
            mods = json.load(f)["modules"]
    ge = {name: logic_ge(m.get("num_cells_by_type", {})) for name, m in mods.items()}
    return dict(sorted(ge.items(), key=lambda kv: -kv[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma list of row keys: "
                    + ",".join(k for k, *_ in ROWS))
    ap.add_argument("--clock-mhz", type=float, default=None)
    ap.add_argument("--breakdown", action="store_true",
                    help="NAND2-eq per sub-block (hierarchical generic flow) instead")
    a = ap.parse_args()
    keys = [k for k in a.only.split(",") if k]
    if a.breakdown:
        for key, label, spec, *_ in ROWS:
            if not keys or key in keys:
                parts = breakdown(spec)
                print(f"{label}: {sum(parts.values()):.1f} NAND2-eq in sub-blocks")
                for name, ge in parts.items():
                    print(f"  {ge:8.1f}  {name}")
        return
    print(f"{'unit':22} {'ours':>8} {'FF':>4} {'anchor':>7} {'ratio':>6}  anchor source")
    for key, label, spec, anchor, src in ROWS:
        if keys and key not in keys:
            continue
        ge, logic, ff, secs, at = measure(spec, a.clock_mhz)
        # flip-flops are in ge (DFF weight 5.667); the anchors are combinational, so a unit
        # with flip-flops also gets its logic alone against the anchor
        extra = f"  [{secs:.0f} s]"
        if ff:
            extra += f"  logic alone {logic:.1f} = {logic / anchor:.3f} x anchor"
        if at:
            extra += (f"  at {a.clock_mhz:g} MHz: {at['area_um2']} um2 = {at['ge']} GE, stages "
                      f"{at['stages']}/{at['loop_stages']}, {at['registers']} registers, "
                      f"reaches {at['reached_mhz']} MHz")
        print(f"{label:22} {ge:8.1f} {ff:4d} {anchor:7d} {ge / anchor:6.3f}  {src}{extra}",
              flush=True)


if __name__ == "__main__":
    main()
