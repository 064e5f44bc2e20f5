"""`macforge sweep --dry-run` of a 10^6-point file: wall time, points/s, peak RSS, files written
(issue 15: under 60 s and 500 MB, writing nothing).

The file: unit mac over 20 operand formats x 15 accumulators x 4 roundings x 25 rnd_bits (30,000
distinct units, each built once by its own constructor under ``hw.naming_only``) x stages 0..32:
990,000 points. The dry run is a child process (``sys.executable -m macforge``) so its peak RSS
(``resource.getrusage(RUSAGE_CHILDREN)``) is its own; it runs in an empty temporary directory with
``MACFORGE_CACHE`` pointing into it, and every file there afterwards is listed.

``--points N`` scales the stages axis down for a quick look (``--points 30000``: one stage).
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FORMATS = [f"e{e}m{m}" for e in (2, 3, 4, 5) for m in (1, 2, 3, 4, 5)]
ACCS = [f"e{e}m{m}" for e in (5, 6, 7, 8) for m in (7, 8, 9, 10)][:15]
ROUNDINGS = ["rne", "rtz", "rna", "sr"]


def sweep_yaml(stages: int) -> str:
    return ("name: dryrun\n"
            "skip_invalid: true\n"
            "axes:\n"
            "  unit: mac\n"
            f"  format: [{', '.join(FORMATS)}]\n"
            f"  acc: [{', '.join(ACCS)}]\n"
            f"  rounding: [{', '.join(ROUNDINGS)}]\n"
            "  rnd_bits: {from: 1, to: 25}\n"
            f"  stages: {{from: 0, to: {stages - 1}}}\n"
            "measure:\n"
            "  asic: true\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=10**6,
                    help="about this many points (the stages axis is cut to fit; default 10^6)")
    a = ap.parse_args(argv)
    units = len(FORMATS) * len(ACCS) * len(ROUNDINGS) * 25
    stages = max(1, min(33, a.points // units))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spec = tmp / "dryrun.yaml"
        spec.write_text(sweep_yaml(stages))
        before = {spec}
        env = {**os.environ, "MACFORGE_CACHE": str(tmp / "cache")}
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "macforge", "sweep", "--dry-run", str(spec),
                            "-o", str(tmp / "results")], cwd=tmp, env=env,
                           capture_output=True, text=True)
        wall = time.perf_counter() - t0
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        written = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p not in before)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        return 1
    plan = [ln for ln in r.stderr.splitlines() if ln.startswith("macforge sweep dryrun:")]
    n = int(plan[-1].split(": ", 1)[1].split(" points")[0])
    print(plan[-1])
    print(f"sweep --dry-run: {n} points ({units} distinct units) in {wall:.1f} s = "
          f"{n / wall:,.0f} points/s; peak RSS {rss_mb:.0f} MB; files written: "
          f"{', '.join(written) or 'none'}")
    return 0 if not written else 1


if __name__ == "__main__":
    sys.exit(main())
