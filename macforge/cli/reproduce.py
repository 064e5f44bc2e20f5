"""``macforge reproduce``: regenerate a published comparison with our own units."""
from __future__ import annotations


from macforge import provenance
from macforge.errors import UsageError
from macforge.progress import meter, say

from ._common import add_run_args, add_timed_arg, cache_from_args

__all__ = ["add_parser", "run", "format_report"]


def add_parser(sub):
    r = sub.add_parser("reproduce", help="regenerate a published comparison (fp8-vs-int8, lmul, int-vs-fp)")
    r.add_argument("name", help="fp8-vs-int8, lmul or int-vs-fp")
    add_run_args(r)
    add_timed_arg(r)
    r.set_defaults(func=run)
    return r


def run(args) -> int:
    from macforge.costmodel.reproduce import REPRODUCTIONS, reproduce
    if args.name not in REPRODUCTIONS:
        raise UsageError(f"unknown reproduction {args.name!r}; accepted: "
                         + ", ".join(REPRODUCTIONS))
    say(f"macforge: reproducing {args.name}")
    rep = reproduce(args.name, cache=cache_from_args(args), n_ops=args.n, progress=say,
                    timed_samples=args.timed_samples, meter=meter(args.name, "unit"))
    print(provenance.dumps(rep) if args.json else format_report(rep))
    return 0


def format_report(rep: dict) -> str:
    """A :func:`costmodel.reproduce.reproduce` result as text: units, then ours vs published."""
    lines = [f"{rep['name']}: {rep['source']}", ""]
    w = max(len(n) for n in rep["units"])
    timed = all("energy_timed_pj" in u for u in rep["units"].values())
    lines.append(f"{'unit':<{w}} {'module':<34} {'µm²':>7} {'GE':>6} {'pJ/op':>7} {'static':>7} "
                 f"{'ps':>6}" + (f" {'zero-delay':>10} {'timed':>7} {'glitch':>6}" if timed else ""))
    for name, u in rep["units"].items():
        lines.append(f"{name:<{w}} {u['module']:<34} {u['area_um2']:>7.0f} {u['ge']:>6.0f} "
                     f"{u['energy_pj']:>7.3f} {u['static_pj']:>7.3f} {u['delay_ps']:>6.0f}"
                     + (_timed_cells(u) if timed else ""))
    if timed:
        lines.append("pJ/op: zero-delay switching, calibrated (costmodel.energy); zero-delay / "
                     "timed: the library's energy figures at 1.1 V, nothing fitted, timed counting "
                     "every glitch (costmodel.timed); glitch = timed / zero-delay transitions.")
    w = max(len(r["comparison"]) for r in rep["rows"])
    m = max(len(r["metric"]) for r in rep["rows"])
    lines += ["", f"{'comparison':<{w}} {'metric':<{m}} {'published':>10} {'ours':>10} "
                  f"{'difference':>11}"]
    for r in rep["rows"]:
        if r["kind"] == "%":
            vals = f"{r['published']:>+9.0f}% {r['ours']:>+9.1f}% {r['diff']:>+8.1f} pp"
        else:
            vals = (f"{r['published']:>10.3f} {r['ours']:>10.3f} "
                    f"{r['ours_over_published']:>10.2f}×")
        lines.append(f"{r['comparison']:<{w}} {r['metric']:<{m}} {vals}")
    if rep.get("clocks"):
        lines += ["", _format_clocks(rep)]
    if rep.get("notes"):
        lines += ["", "Where ours and theirs disagree, measured:"] + [f"  {n}" for n in rep["notes"]]
    return "\n".join(lines)


def _timed_cells(u) -> str:
    return (f" {u['energy_zero_delay_lib_pj']:>10.3f} {u['energy_timed_pj']:>7.3f} "
            f"{u['glitch_factor']:>5.2f}x")


def _format_clocks(rep) -> str:
    """The equal-clock part: the chosen pipelines, then (fp8-vs-int8) the contributions."""
    timed = all("energy_timed_pj" in u for c in rep["clocks"].values()
                for u in c["units"].values())
    lines = ["At equal clock (45 nm; each unit pipelined for the clock with the fewest registers "
             "and mapped timing-driven). pJ/op: zero-delay switching, calibrated "
             "(costmodel.energy)" + ("; zero-delay / timed: library figures, leakage over the "
                                     "clock period" if timed else "; timed energy off") + ".",
             f"{'MHz':>5} {'unit':<20} {'module':<30} {'s/l':>4} {'regs':>5} {'reach':>7} "
             f"{'µm²':>7} {'pJ/op':>7}"
             + (f" {'zero-delay':>10} {'timed':>7} {'glitch':>6}" if timed else "")]
    for f, c in rep["clocks"].items():
        for label, ch in c["choice"].items():
            u = c["units"].get(label)
            tail = (f"{u['area_um2']:>7.0f} {u['energy_pj']:>7.3f}"
                    + (_timed_cells(u) if timed else "") if u else
                    f"  cannot reach {f} MHz (best {ch['reached_mhz']} MHz)")
            lines.append(f"{f:>5} {label:<20} {ch['module']:<30} "
                         f"{ch['stages']}/{ch['loop_stages']:<2} {ch['registers']:>5} "
                         f"{ch['reached_mhz']:>7} {tail}")
    if rep.get("contributions"):
        lines += ["", "What each step contributes to the fp MAC's cost over the int8 MAC "
                      "(percentage points):",
                  f"{'unit':<20} {'MHz':>5} {'metric':<20} {'own clocks':>10} {'+registers':>10} "
                  f"{'+mapping':>9} {'at clock':>9}"]
        for r in rep["contributions"]:
            lines.append(f"{r['unit']:<20} {r['clock_mhz']:>5} {r['metric']:<20} "
                         f"{r['old']:>+9.1f}% {r['registers']:>+9.1f} {r['mapping']:>+9.1f} "
                         f"{r['new']:>+8.1f}%")
        lines.append("own clocks: each unit unpipelined at its own critical path; +registers: "
                     "the pipeline registers the clock needs (their area / clock energy); "
                     "+mapping: the logic mapped timing-driven for the clock. Accumulator "
                     "width: the fp16 rows against the fp32 rows.")
    return "\n".join(lines)
