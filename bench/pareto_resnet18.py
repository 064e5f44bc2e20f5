"""Wall time of `macforge pareto --workload resnet18 --arch tpu_like` (the 11 default formats),
cold (an empty cache directory: every unit synthesised and simulated, every layer mapped by
ZigZag) and warm (the same command again on that cache), measured in the same run
(`make bench`).

Targets (issue #18): cold < 10 min, warm < 1 min on 2 cores. Wall time depends on what else
the machine runs, so the CPU time of the command and its children (Yosys, the simulator, the
ZigZag workers) and the load average are printed too.

    python bench/pareto_resnet18.py [--cache DIR] [--keep]

``--cache DIR`` uses (and keeps) DIR instead of a fresh temporary directory, so a second
invocation measures two warm runs; the reports go to DIR/report-cold and DIR/report-warm, and
their results.csv must be identical (the warm run reads what the cold one measured): a
difference fails the bench.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

COLD_S, WARM_S = 600.0, 60.0


def _run(cache: str, out: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and every process it waited for)."""
    env = dict(os.environ, MACFORGE_CACHE=cache)
    cmd = [sys.executable, "-c", "import sys; from macforge.cli import main; sys.exit(main())",
           "pareto", "--workload", "resnet18", "--arch", "tpu_like", "-o", out]
    t = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    dt = time.perf_counter() - t
    cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"pareto_resnet18: macforge pareto failed (exit {r.returncode}): {last}")
    return dt, cpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=None, help="cache directory to use and keep")
    a = ap.parse_args(argv)
    cache = a.cache or tempfile.mkdtemp(prefix="macforge-bench-pareto-")
    try:
        load0 = os.getloadavg()[0]
        outs = [os.path.join(cache, "report-cold"), os.path.join(cache, "report-warm")]
        cold = _run(cache, outs[0])
        warm = _run(cache, outs[1])
        same = _figures(outs[0]) == _figures(outs[1])
    finally:
        if a.cache is None:
            shutil.rmtree(cache, ignore_errors=True)
    ok_c, ok_w = cold[0] < COLD_S, warm[0] < WARM_S
    print(f"pareto resnet18 on tpu_like, 11 formats: cold {cold[0]:.1f} s wall "
          f"({cold[0] / COLD_S:.2f}x the target), {cold[1]:.1f} s CPU ({cold[1] / COLD_S:.2f}x) "
          f"(target < {COLD_S:.0f} s wall: {'ok' if ok_c else 'MISSED'}); warm {warm[0]:.1f} "
          f"s wall ({warm[0] / WARM_S:.2f}x), {warm[1]:.1f} s CPU ({warm[1] / WARM_S:.2f}x) "
          f"(target < {WARM_S:.0f} s: {'ok' if ok_w else 'MISSED'}); "
          f"{os.cpu_count()} cores, 1-min load average {load0:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after; results.csv cold == warm: "
          f"{'yes' if same else 'NO (a figure changed)'}")
    return 0 if ok_c and ok_w and same else 1


def _figures(out: str) -> list[str]:
    """results.csv of a report without its first line (the command that wrote it)."""
    with open(os.path.join(out, "results.csv")) as f:
        return f.read().splitlines()[1:]


if __name__ == "__main__":
    sys.exit(main())
