"""Cost of one inference of a workload on a PE array of one unit type.

energy / inference = sum over MAC layers of MACs x energy per MAC of the layer's unit
                     + memory traffic (weights + activations, bits) x access energy per bit

* energy per MAC: :func:`costmodel.api.asic_cost` of the unit of the layer's
  :class:`~costmodel.accuracy.units.UnitSpec` (its ``hw.make_unit`` arguments), with activity
  from the layer's real operand codes when the emulation sampled them (else uniform random
  codes); a k-lane block dot unit's energy per step is divided by k (k =
  ``units.PRICING_LANES``; activity: uniform element codes, scales within 2^-4..2^4);
* memory: every weight element read once, every MAC layer's input activations read once and
  outputs written once, at the spec's bits per element (block formats: element bits plus the
  amortised scale); energy per bit from Horowitz's memory rows (:data:`MEMORY`), the level
  chosen by footprint (weights: the smallest SRAM that holds all of them, DRAM beyond 1 MB;
  activations: the smallest SRAM that holds the largest layer's input plus output);
* area: a PE array of ``P`` MAC lanes (``P`` scalar units, or ``P / k`` k-lane dot units);
  memories are not included;
* throughput: MACs / (P x Fmax) per inference, Fmax = 1 / critical path (ASIC) or nextpnr's
  Fmax (FPGA targets, ``--pnr`` flow).

Operations without MACs (softmax, norms, elementwise) are not priced.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["MEMORY", "memory_level", "unit_cost", "workload_cost", "DEFAULT_P"]

#: Horowitz, ISSCC 2014 (45 nm), per 64-bit access (docs/anchors.md): name -> (bytes, pJ).
#: DRAM: the low end of 1.3-2.6 nJ.
MEMORY = (("SRAM 8 KB", 8 * 1024, 10.0), ("SRAM 32 KB", 32 * 1024, 20.0),
          ("SRAM 1 MB", 1024 * 1024, 100.0), ("DRAM", math.inf, 1300.0))
MEMORY_SOURCE = ("Horowitz, \"Computing's energy problem\", ISSCC 2014, 45 nm: per 64-bit "
                 "access SRAM 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ; DRAM 1.3-2.6 nJ (low end "
                 "used)")
#: MAC lanes of the PE array.
DEFAULT_P = 64


def memory_level(nbytes: float):
    """(name, pJ per bit) of the smallest memory row holding ``nbytes``."""
    for name, size, pj in MEMORY:
        if nbytes <= size:
            return name, pj / 64.0
    raise AssertionError(nbytes)


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
    if operands is not None and not spec.is_block:
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


def workload_cost(graph, layer_specs: dict, default_spec, target: str = "asic",
                  P: int = DEFAULT_P, activity: dict | None = None, cache=None,
                  progress=None) -> dict:
    """Energy, area and throughput of one inference of ``graph`` (see module docstring).

    ``layer_specs`` maps node names to specs (nodes not in it use ``default_spec``);
    ``activity`` maps node names to real operand codes (``{"a": ..., "b": ...}``); nodes
    without their own take the pooled codes of all sampled layers with the same spec.
    """
    from macforge.costmodel.workloads import MAC_OPS
    activity = activity or {}
    units, layers = {}, []
    mac_energy = mem_energy = 0.0
    w_bits = 0.0
    max_act_bytes = 0.0
    nodes = [(n, d) for n, d in graph.nodes(data=True) if d["op"] in MAC_OPS]
    for n, d in nodes:
        spec = layer_specs.get(n, default_spec)
        w_bits += d["weight_elems"] * spec.bits_per_element
        max_act_bytes = max(max_act_bytes,
                            (d["act_in_elems"] + d["act_out_elems"]) * spec.bits_per_element / 8)
    w_level, w_pj = memory_level(w_bits / 8)
    a_level, a_pj = memory_level(max_act_bytes)
    for n, d in nodes:
        spec = layer_specs.get(n, default_spec)
        ops = activity.get(n)
        if ops is None:
            pooled = [activity[m] for m in activity if layer_specs.get(m, default_spec) == spec]
            ops = ({p: np.concatenate([x[p] for x in pooled]) for p in ("a", "b")}
                   if pooled else None)
        key = (spec.name, n if n in activity else "pooled")
        if key not in units:
            if progress:
                progress(f"  cost: {spec.name} unit for {n if n in activity else 'all layers'}")
            units[key] = unit_cost(spec, target, ops, cache)
        u = units[key]
        e_mac = d["macs"] * u["energy_pj_per_mac"]
        a_bits = (d["act_in_elems"] + d["act_out_elems"]) * spec.bits_per_element
        e_mem = d["weight_elems"] * spec.bits_per_element * w_pj + a_bits * a_pj
        mac_energy += e_mac
        mem_energy += e_mem
        layers.append({"name": n, "op": d["op"], "macs": d["macs"], "spec": spec.name,
                       "module": u["module"], "energy_pj_per_mac": u["energy_pj_per_mac"],
                       "mac_energy_pj": e_mac, "memory_energy_pj": e_mem,
                       "activity": u["activity"]})
    by_spec = {}
    for (name, _), u in units.items():
        by_spec.setdefault(name, u)
    # area: P lanes of every distinct unit type (a mixed-precision array holds both)
    area = sum(P / u["lanes"] * u["area_um2"] for u in by_spec.values())
    fmax = min(u["fmax_mhz"] for u in by_spec.values())
    macs = sum(d["macs"] for _, d in nodes)
    out = {"macs": macs, "P": P, "energy_pj": mac_energy + mem_energy,
           "mac_energy_pj": mac_energy, "memory_energy_pj": mem_energy,
           "weight_bits": w_bits, "weight_memory": w_level, "act_memory": a_level,
           "area_um2": area, "area_mm2": area * 1e-6, "fmax_mhz": fmax,
           "latency_us": macs / (P * fmax), "inferences_per_s": P * fmax * 1e6 / macs,
           "units": sorted({u["module"] for u in units.values()}), "layers": layers,
           "unit_costs": {k[0] + "@" + k[1]: v for k, v in units.items()}}
    if target != "asic":
        u0 = list(by_spec.values())
        out["lut"] = sum(P / u["lanes"] * u["lut"] for u in u0)
        out["dsp"] = sum(P / u["lanes"] * u["dsp"] for u in u0)
        f = [u["fpga_fmax_mhz"] for u in u0]
        out["fpga_fmax_mhz"] = min(f) if all(f) else None
        if out["fpga_fmax_mhz"]:
            out["latency_us"] = macs / (P * out["fpga_fmax_mhz"])
            out["inferences_per_s"] = P * out["fpga_fmax_mhz"] * 1e6 / macs
    return out
