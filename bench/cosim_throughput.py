"""Co-simulation throughput: fast mode vs the per-vector cocotb bench, same run (`make bench`).

Both modes simulate the same Verilator-compiled unit and check every output against the golden
model; a vector counts when it has been simulated *and* compared. Measured on:

- the e4m3 x e4m3 -> e4m3 multiplier, all 65,536 operand pairs (combinational);
- the e4m3 MAC into fp32 (one accumulate per cycle, checked per transition): the 65,536
  exhaustive sequence starts plus random sequences.

cocotb: vectors / the test's own wall time (driving every vector + the golden check, from
cocotb's results.xml; simulator start-up and the Verilator build are left out, which flatters
cocotb). fast: vectors / wall time of ``FastSim.run`` + ``sim.model.compare`` on one core,
repeated for at least MIN_SECONDS; the harness build (cached) is reported apart.
Target (issue #8): >= 2 M verified vectors/s for 8-bit units on one core, >= 40x cocotb.
"""
import json
import os
import sys
import time
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from macforge.sim import fast, model
from macforge.sim.runner import SimSpec, run
from macforge.sim.stimulus import make_stimulus

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
TARGET_RATE = 2e6
TARGET_RATIO = 40.0
MIN_SECONDS = 3.0
MAC_FAST_RANDOM = 4_000_000           # the fast mode needs more vectors to time
MAC_COCOTB_RANDOM = 50_000


def cocotb_rate(spec: SimSpec):
    lines = []
    res = run(spec, out=lines.append)
    if not res.ok:
        sys.exit("cocotb run failed:\n" + "\n".join(lines))
    workdir = BUILD / res.module
    (case,) = ET.parse(workdir / "results.xml").iter("testcase")
    seconds = float(case.attrib["time"])
    manifest = json.loads((workdir / "bench.json").read_text())["manifest"]
    with np.load(workdir / "vectors.npz") as v:
        stim = {k: v[k] for k in v.files}
    return res.vectors / seconds, res.vectors, manifest, workdir / "rtl" / f"{res.module}.v", stim


def fast_rate(manifest, verilog, stim):
    with fast.FastSim(manifest, verilog, build_root=BUILD) as dut:
        n = sim_s = gold_s = cpu = 0.0
        reps = 0
        while reps < 3 or sim_s + gold_s < MIN_SECONDS:
            dut.reset()
            c0 = time.process_time()
            t0 = time.perf_counter()
            observed = dut.run(stim)
            t1 = time.perf_counter()
            _, bad = model.compare(manifest, stim, observed)
            t2 = time.perf_counter()
            cpu += time.process_time() - c0
            if bad.size:
                sys.exit(f"fast mode: {bad.size} mismatches on {manifest['module']}")
            n += observed.size
            sim_s += t1 - t0
            gold_s += t2 - t1
            reps += 1
        return {"rate": n / (sim_s + gold_s), "sim": n / sim_s, "golden": n / gold_s,
                "cpu_rate": n / cpu, "vectors": int(n), "reps": reps,
                "build": dut.build_seconds, "cached": dut.cached, "one_eval": dut.one_eval,
                "clocked": manifest.get("clock") is not None}


def main():
    warnings.filterwarnings("ignore", message=".*created but never used")   # manifests only
    load = os.getloadavg()[0]
    cores = os.cpu_count()
    print(f"co-simulation throughput (vectors simulated + checked against golden per second); "
          f"load average {load:.1f} on {cores} cores")
    if load > 0.75 * cores:
        print("  note: the machine is busy; absolute rates are low by about the load factor, "
              "the fast/cocotb ratio much less so")
    rows = []
    cases = [
        ("e4m3 x e4m3 -> e4m3 mul, all 65,536 pairs",
         SimSpec(format="e4m3", unit="mul", n=0, build_root=str(BUILD), quiet=True, waves=False),
         None),
        ("e4m3 MAC into fp32 (per-step check)",
         SimSpec(format="e4m3", unit="mac", acc="fp32", n=MAC_COCOTB_RANDOM,
                 build_root=str(BUILD), quiet=True, waves=False),
         MAC_FAST_RANDOM),
    ]
    for what, spec, fast_random in cases:
        print(f"- {what}: cocotb run ({spec.command()}) ...", flush=True)
        c_rate, c_n, manifest, verilog, stim = cocotb_rate(spec)
        if fast_random is not None:               # same generator, more vectors for timing
            stim = make_stimulus(manifest, fast_random, spec.seed)
            stim.pop("meta")
        print("  fast run ...", flush=True)
        f = fast_rate(manifest, verilog, stim)
        rows.append((what, f, c_rate, c_n))
    print()
    print(f"{'unit':40s} {'fast':>10s} {'(sim':>9s} {'golden)':>9s} {'cocotb':>10s} {'ratio':>8s}")
    verdicts = []
    for what, f, c_rate, c_n in rows:
        ratio = f["rate"] / c_rate
        print(f"{what:40s} {f['rate'] / 1e6:6.2f} M/s {f['sim'] / 1e6:5.1f} M/s "
              f"{f['golden'] / 1e6:5.1f} M/s {c_rate / 1e3:6.1f} k/s {ratio:7.0f}x")
        met = f["rate"] >= TARGET_RATE and ratio >= TARGET_RATIO
        if not met:
            slow = "golden model" if f["golden"] < f["sim"] else "Verilator simulation"
            why = (f"bottleneck: the {slow} ({min(f['sim'], f['golden']) / 1e6:.1f} M/s alone; "
                   f"the other part {max(f['sim'], f['golden']) / 1e6:.1f} M/s)")
        else:
            why = ""
        verdicts.append((what, met, why, f))
    print()
    for what, met, why, f in verdicts:
        cpu_met = f["cpu_rate"] >= TARGET_RATE
        clocking = ("one eval() per cycle" if f["one_eval"] else "two eval() per cycle"
                    ) if f["clocked"] else "combinational: one eval() per vector"
        print(f"{what}: target >= {TARGET_RATE / 1e6:.0f} M/s and >= {TARGET_RATIO:.0f}x cocotb "
              f"{'met' if met else 'NOT met'}" + (f"; {why}" if why else ""))
        print(f"    {f['vectors']:,} vectors in {f['reps']} runs; {clocking}; harness "
              + ("from cache" if f["cached"] else f"built in {f['build']:.0f} s")
              + f"; on CPU time (the rate of an uncontended core) {f['cpu_rate'] / 1e6:.2f} M/s: "
              f"rate target {'met' if cpu_met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
