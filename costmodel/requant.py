"""Requantisation cost per layer output: the cast of every layer's fp32 results into the format.

An accelerator that keeps activations in a low-precision format casts each layer's outputs
(accumulated in fp32) back into that format before they are stored (issue 19 item 6). This
module prices that cast with the same measured flow as ``macforge cost``:

* plain formats (minifloats, hif8, takum, integers): ``hw.Convert`` fp32 -> format
  (``macforge cost --format fp32 --unit convert --acc <fmt>``; integers saturate), one cast per
  output element;
* block formats (MX): ``hw.Quantize`` fp32 -> format at ``QUANT_LANES`` lanes with one
  register stage (as in docs/units.md's cost table), its energy per block divided by the lanes.

Energy per layer = energy per cast (``costmodel.asic_cost``: Liberty-mapped netlist, toggle
count of uniform random fp32 codes, the int8-multiplier calibration) x the layer's output
elements (the workload graph's ``act_out_elems``). Nothing here is estimated: a format without
a cast unit (LNS results; NVFP4 quantisation) raises the unit's one-line FormatError.
"""
from __future__ import annotations

__all__ = ["QUANT_LANES", "cast_unit", "layer_cast_energy", "requant_fields"]

#: Lanes of the block quantiser the cast of a block format is priced with (docs/units.md).
QUANT_LANES = 8


def cast_unit(fmt):
    """The hw unit casting fp32 into ``fmt`` (a format name or golden object, or a pareto
    ``UnitSpec``), and the elements one operation produces."""
    from macforge import hw
    from macforge.golden import parse
    from macforge.hw.dot import block_of
    if hasattr(fmt, "accumulate") and hasattr(fmt, "fmt"):      # an accuracy UnitSpec
        fmt = fmt.fmt
    f = parse(fmt)
    if block_of(f) is not None:
        return hw.make_unit("quantize", "fp32", acc=f, lanes=QUANT_LANES, stages=1), QUANT_LANES
    return hw.make_unit("convert", "fp32", acc=f, saturate=f.family == "integer"), 1


def layer_cast_energy(graph, fmt, clock_mhz: float | None = None, cache=None,
                      n_ops: int = 20000) -> dict:
    """Per-layer cast energy of requantising every MAC layer's outputs of ``graph`` (a
    workload graph) into ``fmt``.

    ``clock_mhz``: synthesise the cast unit timing-driven for that clock (None: area-driven,
    as ``macforge cost``). Returns ``module``, ``energy_pj_per_cast``, ``area_um2``,
    ``delay_ps``, ``meets_clock``, ``layers`` (``name``, ``op``, ``elements``, ``energy_nj``)
    and ``total_nj``.
    """
    from macforge.costmodel import Design, asic_cost
    from macforge.costmodel.workloads import MAC_OPS
    unit, per_op = cast_unit(fmt)
    design = Design.from_unit(unit)
    clock_ps = 1e6 / clock_mhz if clock_mhz else None
    a = asic_cost(design, n_ops=n_ops, cache=cache, clock_ps=clock_ps)
    e_cast = a["energy_pj"] / per_op
    layers = [{"name": n, "op": d["op"], "elements": int(d["act_out_elems"]),
               "energy_nj": int(d["act_out_elems"]) * e_cast / 1000.0}
              for n, d in graph.nodes(data=True) if d["op"] in MAC_OPS]
    return {"module": design.top, "energy_pj_per_cast": e_cast, "area_um2": a["area_um2"],
            "delay_ps": a["delay_ps"],
            "meets_clock": None if clock_ps is None else a["delay_ps"] <= clock_ps,
            "layers": layers, "total_nj": sum(L["energy_nj"] for L in layers)}


def requant_fields(graph, spec, clock_mhz=None, cache=None) -> dict:
    """The Pareto row's requantisation fields (``costmodel.pareto.run(..., requant=True)``):
    ``requant_nj`` (cast energy per inference, all MAC layers' outputs) and ``requant`` (the
    per-layer figures of :func:`layer_cast_energy`); a format without a cast unit gets
    ``requant_not_priced`` (its one-line reason) instead of a number."""
    from macforge.errors import MacforgeError
    try:
        r = layer_cast_energy(graph, spec, clock_mhz, cache)
    except MacforgeError as exc:
        return {"requant_not_priced": str(exc).splitlines()[0][:200]}
    return {"requant_nj": r["total_nj"], "requant": r}
