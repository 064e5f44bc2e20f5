"""Sweep scaling: points/hour with 1 and 2 local workers, and what 10,000 points would take on a
64-worker Dask cluster (`make bench`).

The sweep: 8 minifloat multipliers (e2m1, e2m3, e3m2, e4m3 x rne/rtz), each measured as in
examples/sweep_small.yaml minus place and route and co-simulation: ASIC synthesis + gate-level
energy (20,000 operations), iCE40 synthesis, error statistics (20,000 pairs). Every run starts
from an empty cost-model cache (only the one-off energy calibration is done beforehand), so
every point is synthesised: this measures work, not cache hits.

The cluster figure is a paper estimate from these measurements, stated with its terms:
per-point cost on one core (the 1-worker run: wall time / points), divided over 64 workers,
plus the driver's own per-point work (validating and planning each point, measured here) and
Dask's per-task scheduling overhead (measured here on an in-process LocalCluster over TCP
loopback with no-op tasks). It assumes one worker per core, points as costly as these, and
no stragglers; a sweep of bigger units (MACs: 5-10x the synthesis time) scales its
per-point cost, not the shape of the estimate.
"""
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
SWEEP = """\
name: scaling
axes:
  unit: mul
  format: [e2m1, e2m3, e3m2, e4m3]
  rounding: [rne, rtz]
measure:
  asic: {energy: true, n_ops: 20000}
  fpga: {targets: [ice40]}
  error_stats: {samples: 20000}
"""
CLUSTER_WORKERS = 64
CLUSTER_POINTS = 10_000


def timed_run(spec, jobs, tmp):
    """One cold run with ``jobs`` local workers; (wall seconds, mean in-worker seconds)."""
    from macforge.costmodel import Cache, get_calibration
    from macforge.costmodel.sweep import run_sweep
    cache = Path(tmp) / f"cache{jobs}"
    os.environ["MACFORGE_CACHE"] = str(cache)      # the spawned workers inherit it
    get_calibration(Cache())                       # one-off, not part of a point's cost
    t0 = time.perf_counter()
    rep = run_sweep(spec, str(Path(tmp) / f"out{jobs}"), jobs=jobs, err=open(os.devnull, "w"))
    wall = time.perf_counter() - t0
    if rep.ok != len(spec.points):
        sys.exit(f"sweep_scaling: {rep.failed} point(s) failed: "
                 + "; ".join(r["error"] for r in rep.rows if r["status"] != "ok"))
    import sqlite3
    with sqlite3.connect(Path(tmp) / f"out{jobs}" / "sweep.sqlite") as db:
        (inner,) = db.execute("SELECT AVG(seconds) FROM results").fetchone()
    return wall, inner


def dask_overhead(n=300):
    """Seconds per no-op task through a LocalCluster scheduler over TCP loopback."""
    from distributed import Client, LocalCluster, wait
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster.scheduler_address) as client:
        wait(client.map(abs, range(20), pure=False))           # warm-up
        t0 = time.perf_counter()
        wait([client.submit(abs, i, pure=False) for i in range(n)])
        return (time.perf_counter() - t0) / n


PLAN_SWEEP = """\
axes:
  unit: [mul, mac]
  format: [e2m1, e2m3, e3m2, e4m3, e5m2, e3m4]
  rounding: [rne, rtz, rna, rup]
  stages: {from: 0, to: 3}
measure: {asic: true}
"""


def driver_cost(tmp):
    """The driver's seconds per point: validate (make_unit), plan keys, register the sweep and
    look up finished points -- on a 192-point sweep, after imports are warm."""
    from macforge.costmodel.sweep import parse_spec
    from macforge.costmodel.sweep._store import Store
    from macforge.costmodel.sweep._point import code_digest
    from macforge.toolchain.versions import tool_versions
    from macforge.costmodel.cache import key
    parse_spec(SWEEP, "warm-up")
    code, tools = code_digest(), tool_versions()
    t0 = time.perf_counter()
    spec = parse_spec(PLAN_SWEEP, "plan")
    pkeys = [key("sweep-param", p.axes, spec.measure, code, tools) for p in spec.points]
    store = Store(str(Path(tmp) / "plan"))
    store.begin(key("sweep", pkeys), spec.name, "", spec.text, spec.measure,
                [(pk, p.module, p.axes) for pk, p in zip(pkeys, spec.points)])
    store.planned(pkeys)
    for p in spec.points:
        store.known(p.module, "{}")
    store.close()
    return (time.perf_counter() - t0) / len(spec.points), len(spec.points)


def main():
    from macforge.costmodel.sweep import parse_spec
    spec = parse_spec(SWEEP, "sweep_scaling")
    n = len(spec.points)
    print(f"sweep scaling: {n} points (minifloat multipliers; ASIC synthesis + energy, iCE40 "
          f"synthesis, error statistics), cold cache, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start", flush=True)
    with tempfile.TemporaryDirectory(prefix="macforge-sweep-bench-") as tmp:
        saved = os.environ.get("MACFORGE_CACHE")
        try:
            runs = {j: timed_run(spec, j, tmp) for j in (1, 2)}
            plan_s, plan_n = driver_cost(tmp)
        finally:
            if saved is None:
                os.environ.pop("MACFORGE_CACHE", None)
            else:
                os.environ["MACFORGE_CACHE"] = saved
    overhead = dask_overhead()
    per_point = runs[1][0] / n                     # one core, driver and startup included
    rows = []
    for j, (wall, inner) in runs.items():
        rows.append({"workers": j, "wall_s": round(wall, 1), "points_per_hour": round(n / wall * 3600),
                     "mean_point_s": round(inner, 2)})
        print(f"  {j} worker{'s' if j > 1 else ' '}: {wall:6.1f} s wall, "
              f"{n / wall * 3600:7,.0f} points/h  (mean {inner:.2f} s per point in the worker)")
    speedup = runs[1][0] / runs[2][0]
    print(f"  speed-up 1 -> 2 workers: {speedup:.2f}x (load average {os.getloadavg()[0]:.1f} "
          "now: the cores are shared with whatever else runs)")
    print(f"  driver: {plan_s * 1e3:.1f} ms per point to validate and plan ({plan_n}-point sweep); "
          f"Dask: {overhead * 1e3:.1f} ms per task (in-process LocalCluster, TCP loopback)")
    worker_s = CLUSTER_POINTS * per_point / CLUSTER_WORKERS
    driver_s = CLUSTER_POINTS * (plan_s + overhead)
    total = worker_s + driver_s
    print(f"  estimate, {CLUSTER_POINTS:,} such points on a {CLUSTER_WORKERS}-worker Dask cluster: "
          f"{CLUSTER_POINTS:,} x {per_point:.2f} s / {CLUSTER_WORKERS} = {worker_s / 60:.1f} min of "
          f"worker time + driver {CLUSTER_POINTS:,} x ({plan_s * 1e3:.1f} ms planning + "
          f"{overhead * 1e3:.1f} ms Dask per task) = {driver_s / 60:.1f} min, overlapped: "
          f"about {max(worker_s, driver_s) / 60:.0f}-{total / 60:.0f} min "
          f"(one laptop core: {CLUSTER_POINTS * per_point / 3600:.1f} h)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "sweep_scaling.json").write_text(json.dumps({
        "points": n, "runs": rows, "speedup_2": round(speedup, 2),
        "per_point_s": round(per_point, 3), "loadavg": os.getloadavg()[0], "plan_s_per_point": round(plan_s, 5),
        "dask_s_per_task": round(overhead, 5),
        "estimate": {"points": CLUSTER_POINTS, "workers": CLUSTER_WORKERS,
                     "worker_min": round(worker_s / 60, 1), "driver_min": round(driver_s / 60, 1),
                     "one_core_h": round(CLUSTER_POINTS * per_point / 3600, 1)}}, indent=1) + "\n")


if __name__ == "__main__":
    main()
