"""``macforge calibrate``: our energy and area per operation next to Horowitz's 45 nm table."""
from __future__ import annotations


from macforge import provenance
from macforge.progress import say

from ._common import add_run_args, cache_from_args

__all__ = ["add_parser", "run", "format_table"]


def add_parser(sub):
    k = sub.add_parser("calibrate", help="our energy/area per op vs Horowitz's 45 nm table")
    add_run_args(k)
    k.set_defaults(func=run)
    return k


def run(args) -> int:
    from macforge.costmodel.calibrate import calibration_table
    say("macforge: calibration against Horowitz (ISSCC 2014, 45 nm)")
    table = calibration_table(cache=cache_from_args(args), n_ops=args.n, progress=say)
    print(provenance.dumps(table) if args.json else format_table(table))
    return 0


def format_table(table: dict) -> str:
    """A :func:`costmodel.calibrate.calibration_table` as text: one line per row, ratios and a verdict against the 2x goal."""
    c = table["calibration"]
    lines = [
        "Calibration against Horowitz, ISSCC 2014 (45 nm, 0.9 V; docs/anchors.md). One constant fitted:",
        f"  K = {c['k_pj_per_ff'] * 1e3:.4f} fJ per fF switched, so that int8 x int8 mult = "
        f"{c['ref_pj']} pJ ({c['ref_cap_ff_per_op']:.0f} fF/op);",
        f"  K / (V^2/2 at 0.9 V) = {c['k_over_half_cv2']} (the switched capacitance model's "
        "bias, glitches and internal power folded in).",
        "",
        f"{'op':<11} {'ours pJ':>8} {'static':>7} {'Horowitz':>8} {'ratio':>6}   "
        f"{'ours µm²':>9} {'Horowitz':>8} {'ratio':>6}  {'GE':>7}  measured",
    ]
    worst = 1.0
    for r in table["rows"]:
        for q in (r["energy_ratio"], r["area_ratio"]):
            worst = max(worst, q, 1 / q if q else float("inf"))
        lines.append(f"{r['op']:<11} {r['energy_pj']:>8.3g} {r['static_pj']:>7.3g} "
                     f"{r['ref_pj']:>8.3g} {r['energy_ratio']:>5.2f}x   {r['area_um2']:>9.0f} "
                     f"{r['ref_um2']:>8.0f} {r['area_ratio']:>5.2f}x  {r['ge']:>7.0f}  "
                     f"{r['design']}")
    within = all(0.5 <= r["energy_ratio"] <= 2 for r in table["rows"])
    within_a = all(0.5 <= r["area_ratio"] <= 2 for r in table["rows"])
    lines += ["",
              f"energy: every row within 2x: {'yes' if within else 'NO'}; "
              f"area: every row within 2x: {'yes' if within_a else 'NO'} "
              f"(worst factor {worst:.2f}).",
              "static = area-proportional cross-check: 0.2 pJ x area / area(int8 mult)."]
    return "\n".join(lines)
