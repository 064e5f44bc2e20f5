"""``macforge sweep``: the command-line edge of :mod:`costmodel.sweep`."""
from __future__ import annotations

import sys

__all__ = ["add_sweep_parser", "cmd_sweep"]


def _exports(text):
    import argparse
    from ._export import EXPORTS
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in kinds if k not in EXPORTS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(f"unknown export format {bad[0] if bad else text!r}; "
                                         "accepted: " + ", ".join(EXPORTS) + " (comma-separated)")
    return kinds


def _jobs(text):
    import argparse
    try:
        v = int(text)
    except ValueError:
        v = None
    if v is None or v < 1:
        raise argparse.ArgumentTypeError(f"jobs must be a positive integer, not {text!r}")
    return v


def add_sweep_parser(sub):
    """Register ``macforge sweep`` on the CLI's subparsers."""
    s = sub.add_parser("sweep", help="measure every point of a design-space sweep (YAML); "
                                     "resumable, local process pool or a Dask cluster")
    s.add_argument("spec", metavar="SWEEP.yaml", help="the sweep file (see examples/)")
    s.add_argument("-o", "--output", default="results",
                   help="results directory: sweep.sqlite and exports (default results/)")
    s.add_argument("--jobs", "-j", type=_jobs, default=None,
                   help="local worker processes (default: one per core)")
    s.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run the points on this Dask scheduler's workers instead")
    s.add_argument("--retry-failed", action="store_true",
                   help="run the points that failed in earlier runs again")
    s.add_argument("--export", type=_exports, default=[], metavar="csv,json,parquet",
                   help="also write sweep.csv / sweep.json / sweep.parquet to the output")
    s.add_argument("--dry-run", action="store_true",
                   help="validate the file and say what would run, run nothing")
    s.set_defaults(func=cmd_sweep)
    return s


def cmd_sweep(args):
    from macforge.cli import UsageError
    from ._export import export
    from ._run import run_sweep, summary_table
    from ._spec import SweepError, load_spec
    if args.scheduler and args.jobs:
        raise UsageError("--jobs sets the local worker processes; with --scheduler the Dask "
                         "cluster's workers run the points")
    try:
        spec = load_spec(args.spec, progress=lambda m: print(m, file=sys.stderr, flush=True))
        rep = run_sweep(spec, args.output, jobs=args.jobs, scheduler=args.scheduler,
                        retry_failed=args.retry_failed, dry_run=args.dry_run)
    except SweepError as exc:
        raise UsageError(str(exc)) from None
    if args.dry_run:
        return 0
    ok = [r for r in rep.rows if r["status"] == "ok"]
    failed = [r for r in rep.rows if r["status"] != "ok"]
    print(summary_table(rep.rows))
    rate = f", {rep.ran / rep.seconds * 3600:,.0f} points/h" if rep.ran and rep.seconds else ""
    print(f"\n{spec.name}: {len(ok)} of {rep.points} points measured, {len(failed)} failed"
          f" (this run: {rep.ok} measured, {rep.failed} failed, {rep.reused} same as a "
          f"finished point, in {rep.seconds:.1f} s{rate}); {rep.outdir}/sweep.sqlite")
    for r in failed[:10]:
        print(f"  failed {r['module']}: {r['error']}")
    if len(failed) > 10:
        print(f"  ... {len(failed) - 10} more failed points")
    if args.export:
        rows = [{k: v for k, v in r.items() if k not in ("status", "error")} for r in ok]
        for path in export(rows, args.output, args.export):
            print(f"  wrote {path}")
    if rep.interrupted:
        return 130
    return 1 if failed else 0
