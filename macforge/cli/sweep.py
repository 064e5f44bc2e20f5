"""``macforge sweep``: measure every point of a design-space sweep (:mod:`costmodel.sweep`)."""
from __future__ import annotations

import os

from macforge.errors import UsageError
from macforge.progress import say

from ._common import bounded, check_output_dir, comma_choices, ignore_further_interrupts
from ._units import _mhz

__all__ = ["add_parser", "run", "summary_table"]


def _export_kinds():
    from macforge.costmodel.sweep import EXPORTS
    return EXPORTS


def add_parser(sub):
    s = sub.add_parser("sweep", help="measure every point of a design-space sweep (YAML); "
                                     "resumable, local process pool or a Dask cluster")
    s.add_argument("spec", metavar="SWEEP.yaml", help="the sweep file (see examples/)")
    s.add_argument("-o", "--output", default="results",
                   help="results directory: sweep.sqlite and exports (default results/)")
    s.add_argument("--jobs", "-j", type=bounded("jobs"), default=None,
                   help="local worker processes (default: one per core)")
    s.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run the points on this Dask scheduler's workers instead "
                        "(tls://HOST:PORT with the --tls-* files; see docs/security.md)")
    s.add_argument("--tls-ca-file", default=None, metavar="FILE",
                   help="Dask TLS: the CA certificate that signed the scheduler's")
    s.add_argument("--tls-cert", default=None, metavar="FILE",
                   help="Dask TLS: this driver's certificate (PEM)")
    s.add_argument("--tls-key", default=None, metavar="FILE",
                   help="Dask TLS: this driver's private key (PEM; if not in --tls-cert)")
    s.add_argument("--retry-failed", action="store_true",
                   help="run the points that failed in earlier runs again")
    s.add_argument("--export", type=comma_choices("export format", _export_kinds, "comma-separated"),
                   default=[], metavar="csv,json,parquet",
                   help="also write sweep.csv / sweep.json / sweep.parquet to the output")
    s.add_argument("--dry-run", action="store_true",
                   help="validate the file and say what would run; run and write nothing")
    s.add_argument("--rebuild", action="store_true",
                   help="move the output's sweep.sqlite aside (kept as "
                        "sweep.sqlite.corrupt-<time>) and start a new store: the fix for a "
                        "damaged store")
    s.add_argument("--clock-mhz", type=_mhz, default=None, metavar="F",
                   help="price every point at F MHz: the pipeline with the fewest registers "
                        "that meets F (replaces the points' stages), mapped timing-driven; a "
                        "point that cannot reach F is priced as its fastest, with what it "
                        "reaches (Make CLOCK_MHZ=; overrides the file's asic: clock_mhz)")
    s.set_defaults(func=run)
    return s


def run(args) -> int:
    from macforge.costmodel.sweep import export, load_spec, plan_sweep, run_sweep
    if args.rebuild and args.dry_run:
        raise UsageError("--rebuild starts a new store; a --dry-run writes nothing")
    tls_given = [o for o, v in (("--scheduler", args.scheduler),
                                ("--tls-ca-file", args.tls_ca_file), ("--tls-cert", args.tls_cert),
                                ("--tls-key", args.tls_key)) if v is not None]
    if tls_given and args.dry_run:
        raise UsageError(f"{tls_given[0]} is for connecting to a Dask scheduler; a --dry-run "
                         "connects to none")
    if args.scheduler and args.jobs:
        raise UsageError("--jobs sets the local worker processes; with --scheduler the Dask "
                         "cluster's workers run the points")
    if args.dry_run:
        plan_sweep(args.spec, args.output, retry_failed=args.retry_failed, progress=say,
                   clock_mhz=args.clock_mhz)
        return 0
    check_output_dir(args.output, "-o")
    spec = load_spec(args.spec, progress=say)
    if args.clock_mhz is not None:
        from macforge.costmodel.sweep import with_clock
        spec = with_clock(spec, args.clock_mhz)
        say(f"macforge sweep: every point priced at {args.clock_mhz:g} MHz (asic)")
    if args.rebuild:
        from macforge.costmodel.sweep._store import rebuild
        moved = rebuild(args.output)
        if moved:
            say(f"macforge sweep: moved {moved[0]} aside to {moved[1]}; starting a new store")
    tls = {"tls_ca_file": args.tls_ca_file, "tls_cert": args.tls_cert, "tls_key": args.tls_key}
    rep = run_sweep(spec, args.output, jobs=args.jobs, scheduler=args.scheduler,
                    retry_failed=args.retry_failed,
                    tls={k: v for k, v in tls.items() if v is not None})
    if rep.interrupted:                 # Ctrl-C: say what was kept, let no second one cut in
        ignore_further_interrupts()
    ok = [r for r in rep.rows if r["status"] == "ok"]
    failed = [r for r in rep.rows if r["status"] != "ok"]
    print(summary_table(rep.rows))
    rate = f", {rep.ran / rep.seconds * 3600:,.0f} points/h" if rep.ran and rep.seconds else ""
    print(f"\n{spec.name}: {len(ok)} of {rep.points} points measured, {len(failed)} failed"
          f" (this run: {rep.ok} measured, {rep.failed} failed, {rep.reused} same as a "
          f"finished point, in {rep.seconds:.1f} s{rate}); {rep.outdir}/sweep.sqlite")
    slow = [r for r in ok if r.get("clock_met") is False]
    for r in slow[:10]:
        print(f"  {r['module']} cannot reach {r['clock_mhz']:g} MHz: its fastest pipeline "
              f"({r['clock_module']}) reaches {r['clock_reached_mhz']} MHz, priced as that")
    if len(slow) > 10:
        print(f"  ... {len(slow) - 10} more points cannot reach the clock (clock_met in the export)")
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


_PREFERRED = ("clock_mhz", "clock_reached_mhz", "clock_stages", "area_ge", "energy_pj",
              "delay_ps", "latency_cycles", "lut_", "fmax_mhz_",
              "err_mean_rel", "err_max_rel", "verify_mismatches")


def _cell(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def summary_table(rows, max_rows: int = 40, max_metrics: int = 8) -> str:
    """The points as a text table: the axes that vary, then the main metrics and status.

    ``rows`` are :func:`load_results` dicts (axis keys come before ``module``)."""
    if not rows:
        return "(no finished points)"
    keys = list(rows[0])
    axes = keys[:keys.index("module")]
    varying = [k for k in axes if len({repr(r.get(k)) for r in rows}) > 1] or ["module"]
    names = []
    for r in rows:
        names += [k for k in r if k not in names and k not in axes]
    numeric = [k for k in names if all(
        isinstance(r.get(k), (int, float)) and not isinstance(r.get(k), bool)
        for r in rows if r.get(k) is not None)
        and any(r.get(k) is not None for r in rows)]
    metrics = []
    for pref in _PREFERRED:
        metrics += [k for k in numeric if k not in metrics and
                    (k == pref or (pref.endswith("_") and k.startswith(pref)))]
    metrics = metrics[:max_metrics]
    cols = varying + metrics + ["status"]
    table = [cols] + [[_cell(r.get(c, "ok" if c == "status" else None)) for c in cols]
                      for r in rows[:max_rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    lines = ["  ".join(c.rjust(w) if j >= len(varying) else c.ljust(w)
                       for j, (c, w) in enumerate(zip(row, widths))).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if len(rows) > max_rows:
        lines.append(f"... {len(rows) - max_rows} more points (all of them: --export csv)")
    return "\n".join(lines)
