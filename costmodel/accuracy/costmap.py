"""Cost of one MAC of a unit spec: energy per MAC, area and Fmax of the unit that prices it.

* energy per MAC: :func:`costmodel.api.asic_cost` of the unit of the
  :class:`~costmodel.accuracy.units.UnitSpec` (its ``hw.make_unit`` arguments), with activity
  from real operand codes when given (the layers' codes sampled by the emulation; block
  formats: k-lane steps of element codes with their blocks' scale codes), else uniform random
  codes (scales within 2^-4..2^4); a k-lane block dot unit's energy per step is divided by k
  (k = ``units.PRICING_LANES``);
* area and Fmax of one unit (ASIC: Liberty-mapped, Fmax = 1 / critical path); FPGA targets add
  LUTs, DSPs and nextpnr's Fmax (``--pnr`` flow).

What a whole inference costs on an accelerator built of these units (the mapping, memory
traffic per level, latency) is :mod:`costmodel.mapping`'s (ZigZag). The earlier count here,
"every weight read once, every activation once" at Horowitz's memory energies, survives only
as the hand count that ``tests/test_mapping.py`` checks ZigZag's DRAM accesses against.
"""
from __future__ import annotations

import numpy as np

__all__ = ["unit_cost"]


def _lanes(spec) -> int:
    return spec.unit_args().get("lanes", 1)


def unit_cost(spec, target: str = "asic", operands=None, cache=None, n_ops: int = 16384,
              progress=None) -> dict:
    """Per-MAC energy, unit area and Fmax of ``spec``'s unit on ``target``.

    Returns ``module``, ``lanes`` (k), ``energy_pj_per_mac``, ``area_um2`` (one unit), ``ge``,
    ``fmax_mhz``, ``activity`` ("real operands" or "uniform"); FPGA targets add ``lut``,
    ``carry``, ``dsp``, ``ff`` (with DSPs) and their ``fmax_mhz`` from nextpnr.
    """
    from macforge import hw
    from macforge.costmodel import Design, asic_cost, fpga_cost
    args = dict(spec.unit_args())
    design = Design.from_unit(hw.make_unit(args.pop("unit"), args.pop("fmt"), **args))
    k = _lanes(spec)
    ops = None
    if operands is not None:
        ops = {p: np.asarray(v, np.uint64) for p, v in operands.items()}
    a = asic_cost(design, n_ops=n_ops, operands=ops, cache=cache, progress=progress)
    out = {"module": design.top, "lanes": k, "energy_pj_per_mac": a["energy_pj"] / k,
           "area_um2": a["area_um2"], "ge": a["ge"], "delay_ps": a["delay_ps"],
           "fmax_mhz": 1e6 / a["delay_ps"] if a["delay_ps"] else None,
           "activity": "real operands" if ops is not None else "uniform random codes",
           "cached": a["cached"], "tools": a.get("tools", {})}
    if target != "asic":
        f = fpga_cost(design, target, dsp=True, pnr=True, cache=cache)
        out.update({"lut": f["lut"], "carry": f["carry"], "dsp": f["dsp_blocks"], "ff": f["ff"],
                    "fpga_fmax_mhz": f.get("fmax_mhz"), "device": f.get("device")})
    return out
