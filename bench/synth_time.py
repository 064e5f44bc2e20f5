"""Synthesis time per unit: the ASIC flow area-oriented and timing-driven, uncached.

For each unit: Yosys + ABC wall time of ``costmodel.synth.synth_asic`` without a clock (the
area-oriented X1 flow) and mapped for a clock (``abc -D``), with the area, flip-flops and the
critical path of each mapping (``costmodel.sta``). Tensor-core-sized block dot units (k = 32
MXFP8, k = 16 NVFP4) are the ones issue 17 needs in minutes; this bench tracks where the
hierarchical flow (``costmodel.synth.asic_flow``: the lanes synthesised once) stands at growing
k (``--lanes``), the full-size k = 32 MXFP8 / k = 16 NVFP4 units, and the hierarchical-vs-flat
row at 8 lanes (time and area ratios; issue 17 asks for area within 5 %), one core, nothing
from the cache.

Usage: python bench/synth_time.py [--lanes 4,8] [--clock-mhz 500] [--quick]
"""
import argparse
import time

from macforge import hw
from macforge.costmodel.synth import Design, synth_asic

UNITS = (("int8 MAC, int32 acc", dict(unit="mac", fmt="int8", acc="int32")),
         ("e4m3 MAC, fp32 acc", dict(unit="mac", fmt="e4m3", acc="fp32")),
         ("fp16 FMA, fp32 acc", dict(unit="fma", fmt="fp16", acc="fp32")))
DOTS = ("mxfp8", "nvfp4")


def _row(label, spec, clock_ps):
    d = Design.from_unit(hw.make_unit(**spec))
    out = [label, d.top]
    for ps in (None, clock_ps):
        t = time.time()
        r = synth_asic(d, clock_ps=ps)
        out.append((round(time.time() - t, 1), r["area_um2"], r["flops"], r["delay_ps"]))
    return out


def _hier_vs_flat(fmt, lanes=8):
    """``(label, s hier, s flat, area hier, area flat)`` of the area-oriented flow."""
    d = Design.from_unit(hw.make_unit(unit="dot", fmt=fmt, acc="fp32", lanes=lanes))
    out = []
    for h in (True, False):
        t = time.time()
        r = synth_asic(d, hierarchical=h)
        out += [round(time.time() - t, 1), r["area_um2"]]
    return f"{fmt} dot, k={lanes}", out[0], out[2], out[1], out[3]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lanes", default="4,8", help="k of the block dot units (comma list)")
    ap.add_argument("--clock-mhz", type=float, default=500.0)
    ap.add_argument("--quick", action="store_true", help="the MAC/FMA units only")
    a = ap.parse_args()
    clock_ps = 1e6 / a.clock_mhz
    units = list(UNITS)
    if not a.quick:
        units += [(f"{f} dot, k={k}", dict(unit="dot", fmt=f, acc="fp32", lanes=int(k)))
                  for f in DOTS for k in a.lanes.split(",")]
        units += [("mxfp8 dot, k=32", dict(unit="dot", fmt="mxfp8", acc="fp32", lanes=32)),
                  ("nvfp4 dot, k=16", dict(unit="dot", fmt="nvfp4", acc="fp32", lanes=16))]
    print(f"| unit | module | area flow s | µm² | flops | ps | at {a.clock_mhz:g} MHz s | µm² "
          "| flops | ps |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, spec in units:
        lab, mod, (t0, a0, f0, d0), (t1, a1, f1, d1) = _row(label, spec, clock_ps)
        print(f"| {lab} | {mod} | {t0} | {a0:.0f} | {f0} | {d0:.0f} | {t1} | {a1:.0f} | {f1} "
              f"| {d1:.0f} |", flush=True)
    if a.quick:
        return
    print("\n| unit | hier s | flat s | time flat/hier | hier µm² | flat µm² | area hier/flat |")
    print("|---|---|---|---|---|---|---|")
    for f in DOTS:
        lab, th, tf, ah, af = _hier_vs_flat(f)
        print(f"| {lab} | {th} | {tf} | {tf / th:.2f} | {ah:.0f} | {af:.0f} | {ah / af:.3f} |",
              flush=True)


if __name__ == "__main__":
    main()
