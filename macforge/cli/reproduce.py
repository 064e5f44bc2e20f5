"""``macforge reproduce``: regenerate a published comparison with our own units."""
from __future__ import annotations


from macforge import provenance
from macforge.errors import UsageError
from macforge.progress import say

from ._common import add_run_args, cache_from_args

__all__ = ["add_parser", "run", "format_report"]


def add_parser(sub):
    r = sub.add_parser("reproduce", help="regenerate a published comparison (fp8-vs-int8, lmul, int-vs-fp)")
    r.add_argument("name", help="fp8-vs-int8, lmul or int-vs-fp")
    add_run_args(r)
    r.set_defaults(func=run)
    return r


def run(args) -> int:
    from macforge.costmodel.reproduce import REPRODUCTIONS, reproduce
    if args.name not in REPRODUCTIONS:
        raise UsageError(f"unknown reproduction {args.name!r}; accepted: "
                         + ", ".join(REPRODUCTIONS))
    say(f"macforge: reproducing {args.name}")
    rep = reproduce(args.name, cache=cache_from_args(args), n_ops=args.n, progress=say)
    print(provenance.dumps(rep) if args.json else format_report(rep))
    return 0


def format_report(rep: dict) -> str:
    """A :func:`costmodel.reproduce.reproduce` result as text: units, then ours vs published."""
    lines = [f"{rep['name']}: {rep['source']}", ""]
    w = max(len(n) for n in rep["units"])
    lines.append(f"{'unit':<{w}} {'module':<34} {'µm²':>7} {'GE':>6} {'pJ/op':>7} {'static':>7} "
                 f"{'ps':>6}")
    for name, u in rep["units"].items():
        lines.append(f"{name:<{w}} {u['module']:<34} {u['area_um2']:>7.0f} {u['ge']:>6.0f} "
                     f"{u['energy_pj']:>7.3f} {u['static_pj']:>7.3f} {u['delay_ps']:>6.0f}")
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
    return "\n".join(lines)
