"""Dataflow-mapped cost of a workload on an accelerator, through ZigZag.

:func:`map_workload` prices one inference of a :mod:`costmodel.workloads` graph on an
architecture (ZigZag's ``tpu_like``, ``edge_tpu_like``, ``eyeriss_like``, ... or a user's
accelerator YAML) whose operational array is made of one macforge unit: macforge supplies the
unit's energy per MAC and area (synthesis and activity simulation of the bit-exact unit,
:func:`costmodel.accuracy.costmap.unit_cost`) and the operand precisions of the format
(:func:`precisions`); ZigZag supplies the spatial and temporal mapping of every layer, the
memory accesses per operand and level, their energy and the latency in cycles
(:mod:`~costmodel.mapping._zigzag`).

Caching: each distinct layer's mapping is stored in the macforge cache (``Cache``) under a key
of the layer (loop sizes, precisions), the architecture with its memories as sized for the
precisions, the mapping file, the search settings and the ZigZag version. The unit's energy
and area are not in that key: ZigZag's MAC energy is ``unit_energy x MACs`` whatever the
mapping (``CostModelEvaluation.calc_mac_energy_cost``), so the unit cost moves every mapping's
energy by the same constant and cannot change which mapping is best. Formats with equal
precisions therefore share their mappings, and the MAC-array energy is recomputed from each
format's own unit energy (:func:`price`).

Examples
--------
>>> from macforge.costmodel.accuracy import unit_spec
>>> from macforge.costmodel.mapping import precisions
>>> precisions(unit_spec("int8"))
Precisions(weight=8.0, act=8.0, psum=32, out=8.0)
>>> precisions(unit_spec("mxfp4")).weight          # 4 element bits + an 8-bit scale per 32
4.25
"""
from __future__ import annotations

import math

from ._zigzag import (MappingError, Precisions, accelerator, arch_data, architectures, layers,
                      map_layers, precision_scale, zigzag_version, zigzag_workloads)

__all__ = ["MappingError", "Precisions", "precisions", "architectures", "arch_data", "layers",
           "accelerator", "precision_scale", "prefetch", "layer_tasks", "map_one", "store",
           "describe", "map_workload", "price", "MAPPING_VERSION",
           "zigzag_version", "zigzag_workloads"]

#: Bump when what is stored per layer changes.
MAPPING_VERSION = 2


def precisions(spec) -> Precisions:
    """The operand precisions of a :class:`~costmodel.accuracy.units.UnitSpec`: storage bits
    per element (block formats with the scale amortised) for weights and activations, and the
    bits of the unit's accumulator for partial sums (the posit quire for quire MACs)."""
    from macforge import golden
    from macforge.costmodel.accuracy.units import Accumulate
    bits = float(spec.bits_per_element)
    if spec.accumulate is Accumulate.QUIRE:
        psum = int(spec.element.quire_bits)
    else:
        psum = int(golden.parse(spec.acc).bits)
    return Precisions(weight=bits, act=bits, psum=psum, out=bits)


def _cache_key(layer, acc_sized, mapping_text, opt, lpf_limit):
    from macforge.costmodel.cache import key
    arch = {k: v for k, v in acc_sized.items() if k != "operational_array"}
    oa = {k: v for k, v in acc_sized["operational_array"].items()
          if k not in ("unit_energy", "unit_area")}
    lay = {k: v for k, v in layer.items() if k not in ("id", "name")}
    return key("zigzag-layer", MAPPING_VERSION, zigzag_version(), lay, arch, oa, mapping_text,
               opt, lpf_limit)


def _plan(graph, arch, prec, unit_energy_pj, unit_area_um2, opt, lpf_limit):
    """What one mapping needs: the sized accelerator, its notes, the mapping file, the ZigZag
    layers and their cache keys."""
    data, name, mapping = arch_data(arch)
    acc, notes = accelerator(data, unit_energy_pj, unit_area_um2, prec, mapping)
    mapping_text = open(mapping).read() if mapping else None
    lay = layers(graph, prec)
    keys = [_cache_key(L, acc, mapping_text, opt, lpf_limit) for L in lay]
    return acc, notes, name, mapping, lay, keys


def layer_tasks(graph, arch: str, precs, opt: str = "energy", lpf_limit: int = 6,
                cache=None) -> dict:
    """cache key -> ZigZag search task (for :func:`map_one`) of every distinct layer that
    :func:`map_workload` will need for the precisions ``precs`` (a list of what ``prec`` may
    be) and ``cache`` does not hold yet; empty without a cache (nothing could be kept)."""
    tasks = {}
    if cache is None:
        return tasks
    for prec in precs:
        acc, _, name, mapping, lay, keys = _plan(graph, arch, prec, 0.0, 0.0, opt, lpf_limit)
        for L, k in zip(lay, keys):
            if k not in tasks and cache.get(k) is None:
                tasks[k] = (k, {**L, "id": 0, "name": "u0"}, acc, mapping, opt, lpf_limit)
    return tasks


def map_one(task) -> dict:
    """One layer's ZigZag search, a task of :func:`layer_tasks` (a worker of
    :func:`prefetch`, or of ``costmodel.pareto``'s pool); :func:`store` keeps its result."""
    _, layer, acc, mapping, opt, lpf_limit = task
    r = map_layers([layer], acc, mapping, opt=opt, lpf_limit=lpf_limit)[0]
    return {k: v for k, v in r.items() if k != "mac_energy_pj"}


def store(cache, task, res) -> None:
    """Keep :func:`map_one`'s result of ``task`` in ``cache`` (where :func:`map_workload`
    finds it)."""
    cache.put(task[0], "zigzag-layer", res)


def describe(task) -> str:
    """``Conv B1 K64 ...``: the layer of a :func:`layer_tasks` task, for progress lines."""
    L = task[1]
    return f"{L['operator_type']} " + " ".join(f"{d}{s}" for d, s in zip(L["loop_dims"],
                                                                          L["loop_sizes"]))


def prefetch(graph, arch: str, precs, opt: str = "energy", lpf_limit: int = 6, cache=None,
             workers: int = 2, progress=None) -> int:
    """Map, in ``workers`` processes, every distinct layer that :func:`map_workload` will need
    for the precisions ``precs`` (a list of what ``prec`` may be) and is not cached yet; store
    them in ``cache``. Returns the number of layers mapped. Layers are independent in ZigZag
    (no inter-layer locality is modelled), so they parallelise without changing a result."""
    from macforge.costmodel.api import resolve_cache
    from macforge.jobs import run_pool
    cache = resolve_cache(cache)
    tasks = layer_tasks(graph, arch, precs, opt, lpf_limit, cache)
    if not tasks:
        return 0
    if progress:
        progress(f"  zigzag: mapping {len(tasks)} distinct layer(s) onto "
                 f"{arch_data(arch)[1]} in {min(workers, len(tasks))} process(es)")
    done = [0]

    def on_result(task, res):
        store(cache, task, res)
        done[0] += 1
        if progress:
            progress(f"  zigzag: {done[0]}/{len(tasks)} mapped ({describe(task)})")

    if workers <= 1 or len(tasks) == 1:
        for t in tasks.values():
            on_result(t, map_one(t))
    else:
        run_pool(map_one, list(tasks.values()), workers, on_result)
    return len(tasks)


def map_workload(graph, arch: str, prec, unit_energy_pj: float,
                 unit_area_um2: float, opt: str = "energy", lpf_limit: int = 6, cache=None,
                 progress=None) -> dict:
    """Map every MAC layer of ``graph`` onto ``arch`` made of one unit; the ZigZag results.

    ``prec``: :class:`Precisions` of every layer, or a dict node name -> Precisions.
    Returns a dict: ``arch`` (name), ``arch_notes`` (adjustments, sentences), ``array_units``
    (MAC units in the operational array), ``levels`` (memory names, innermost first),
    ``layers`` (per MAC node: ``name``, ``op``, ``macs``, ``memory_energy_pj``
    by level, ``latency_cycles``, ``ideal_cycles``, ``spatial_utilization``, ``accesses``,
    the mappings) and ``cached`` (layers whose mapping came from the cache). Prices come from
    :func:`price`.
    """
    from macforge.costmodel.api import resolve_cache
    from macforge.costmodel.workloads import MAC_OPS
    cache = resolve_cache(cache)
    acc, notes, name, mapping, lay, keys = _plan(graph, arch, prec, unit_energy_pj,
                                                 unit_area_um2, opt, lpf_limit)
    found = {}
    for k in set(keys):
        hit = cache.get(k) if cache is not None else None
        if hit is not None:
            found[k] = hit
    todo = {}
    for L, k in zip(lay, keys):
        if k not in found and k not in todo:
            todo[k] = L
    if todo:
        if progress:
            progress(f"  zigzag: mapping {len(todo)} distinct layer(s) of {len(lay)} onto "
                     f"{name} ({len(found)} cached)")
        res = map_layers(list(todo.values()), acc, mapping, opt=opt, lpf_limit=lpf_limit,
                         progress=progress)
        for k, r in zip(todo, res):
            r = {kk: v for kk, v in r.items() if kk != "mac_energy_pj"}
            found[k] = r
            if cache is not None:
                cache.put(k, "zigzag-layer", r)
    nodes = [(n, d) for n, d in graph.nodes(data=True) if d["op"] in MAC_OPS]
    out_layers = []
    for (n, d), k in zip(nodes, keys):
        r = found[k]
        if r["macs"] != d["macs"]:
            raise MappingError(f"layer {n}: ZigZag counts {r['macs']} MACs, the workload graph "
                               f"{d['macs']}")
        out_layers.append({"name": str(n), "op": d["op"], **r})
    sizes = acc["operational_array"]["sizes"]
    return {"arch": name, "arch_notes": notes, "array_units": math.prod(int(s) for s in sizes),
            "array_sizes": [int(s) for s in sizes], "levels": list(acc["memories"]),
            "opt": opt, "layers": out_layers,
            "cached": len(nodes) - sum(1 for k in keys if k in todo),
            "memory_area": sum(float(m.get("area", 0) or 0) for m in acc["memories"].values())}


def price(mapped: dict, unit_energy_pj, unit_area_um2: float, clock_mhz: float) -> dict:
    """Energy per inference with its breakdown, latency and array area of a mapped workload.

    ``unit_energy_pj``: pJ per MAC of the unit, or a dict layer name -> pJ (mixed precision);
    ``unit_area_um2``: area of one processing element (a mixed array's PE holds each unit).

    ``energy_pj = mac_energy_pj + sum(memory_energy_pj.values())`` exactly: the MAC array is
    ``MACs x unit_energy_pj`` (ZigZag's own rule), each memory level the energy ZigZag counted
    for it over all operands and layers; the top level of the hierarchy is the off-chip one
    (``dram`` in the shipped architectures). Latency is ZigZag's cycle count (layers one
    after the other, stalls for loading and off-loading included) at ``clock_mhz``; the area
    is the array's units times the unit's area (memories have area 0 in the shipped
    architectures; a YAML's memory areas are added as given). ``clock_mhz`` None (the unit's
    frequency is unknown): ``latency_us`` is None, the cycles are still counted.
    """
    macs = sum(L["macs"] for L in mapped["layers"])
    mem = {lvl: 0.0 for lvl in mapped["levels"]}
    for L in mapped["layers"]:
        for lvl, e in L["memory_energy_pj"].items():
            mem[lvl] = mem.get(lvl, 0.0) + e
    e = unit_energy_pj if isinstance(unit_energy_pj, dict) else \
        {L["name"]: unit_energy_pj for L in mapped["layers"]}
    mac_e = sum(L["macs"] * e[L["name"]] for L in mapped["layers"])
    cycles = sum(L["latency_cycles"] for L in mapped["layers"])
    ideal = sum(L["ideal_cycles"] for L in mapped["layers"])
    area_um2 = mapped["array_units"] * unit_area_um2
    return {"macs": macs, "mac_energy_pj": mac_e, "memory_energy_pj": mem,
            "energy_pj": mac_e + sum(mem.values()), "latency_cycles": cycles,
            "ideal_cycles": ideal, "clock_mhz": clock_mhz,
            "latency_us": cycles / clock_mhz if clock_mhz else None,
            "array_area_um2": area_um2, "array_area_mm2": area_um2 * 1e-6,
            "memory_area": mapped["memory_area"],
            "utilization": ideal / cycles if cycles else None}
