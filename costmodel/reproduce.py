"""Published format-vs-format hardware comparisons, regenerated with our own units.

``fp8-vs-int8``: van Baalen et al., "FP8 versus INT8 for efficient deep learning inference",
arXiv 2303.17951 (../shared/ANCHORS.md): an FP8-E4 MAC costs **+53 %** area/energy over an
INT8 MAC with an FP16 accumulator and **+183 %** with an FP32 accumulator. Ours: ``hw.FMac``
e4m3 (OCP E4M3FN) with fp16 and fp32 accumulators (fused, RNE, one register, no pipeline)
against ``hw.IntMac`` int8 x int8 -> int32 (wrapping), all through the same ASIC flow and
the same activity model (uniform random finite codes, a fresh dot product every 32 cycles;
see :func:`costmodel.energy.stimulus`).
"""
from __future__ import annotations

__all__ = ["REPRODUCTIONS", "reproduce", "format_report"]

#: name -> (description, source, published numbers)
REPRODUCTIONS = {
    "fp8-vs-int8": {
        "source": "van Baalen et al., arXiv 2303.17951 (FP8 versus INT8 for efficient deep "
                  "learning inference)",
        "published": {"e4m3 MAC, fp16 acc": 53.0, "e4m3 MAC, fp32 acc": 183.0},
    },
}


def _fp8_vs_int8(cache, n_ops, progress):
    import hw
    from .api import asic_cost
    from .synth import Design
    units = {"int8 MAC, int32 acc": hw.make_unit("mac", "int8", acc="int32"),
             "e4m3 MAC, fp16 acc": hw.make_unit("mac", "e4m3", acc="fp16"),
             "e4m3 MAC, fp32 acc": hw.make_unit("mac", "e4m3", acc="fp32")}
    res = {}
    for i, (name, unit) in enumerate(units.items()):
        r = asic_cost(Design.from_unit(unit), n_ops=n_ops, cache=cache)
        res[name] = {k: r[k] for k in ("module", "area_um2", "ge", "energy_pj", "static_pj",
                                        "delay_ps", "flops", "cached")}
        if progress:
            progress(f"  [{i + 1}/{len(units)}] {r['module']}: {r['area_um2']:.0f} µm², "
                     f"{r['energy_pj']:.3g} pJ/MAC{' (cached)' if r['cached'] else ''}")
    base = res["int8 MAC, int32 acc"]
    pub = REPRODUCTIONS["fp8-vs-int8"]["published"]
    rows = []
    for name, theirs in pub.items():
        ours = res[name]
        da = 100 * (ours["area_um2"] / base["area_um2"] - 1)
        de = 100 * (ours["energy_pj"] / base["energy_pj"] - 1)
        rows.append({"comparison": f"{name} vs int8 MAC", "published_pct": theirs,
                     "area_pct": round(da, 1), "energy_pct": round(de, 1),
                     "area_diff_pp": round(da - theirs, 1), "energy_diff_pp": round(de - theirs, 1)})
    return {"units": res, "rows": rows}


def reproduce(name: str, cache=None, n_ops: int = 100_000, progress=print) -> dict:
    """Run one reproduction; return its units and ours-vs-theirs rows.

    Raises
    ------
    KeyError
        Unknown name (the CLI turns it into a one-line error listing the accepted ones).
    """
    if name not in REPRODUCTIONS:
        raise KeyError(name)
    out = {"name": name, "source": REPRODUCTIONS[name]["source"]}
    out.update(_fp8_vs_int8(cache, n_ops, progress))
    return out


def format_report(rep: dict) -> str:
    lines = [f"{rep['name']}: {rep['source']}", ""]
    lines.append(f"{'unit':<22} {'module':<28} {'µm²':>7} {'GE':>6} {'pJ/MAC':>7} {'static':>7} "
                 f"{'ps':>6}")
    for name, u in rep["units"].items():
        lines.append(f"{name:<22} {u['module']:<28} {u['area_um2']:>7.0f} {u['ge']:>6.0f} "
                     f"{u['energy_pj']:>7.3f} {u['static_pj']:>7.3f} {u['delay_ps']:>6.0f}")
    lines += ["", f"{'comparison':<34} {'published':>9} {'ours area':>10} {'ours energy':>12} "
                  f"{'diff (pp) area/energy':>22}"]
    for r in rep["rows"]:
        lines.append(f"{r['comparison']:<34} {r['published_pct']:>+8.0f}% {r['area_pct']:>+9.1f}% "
                     f"{r['energy_pct']:>+11.1f}% {r['area_diff_pp']:>+10.1f} / "
                     f"{r['energy_diff_pp']:+.1f}")
    return "\n".join(lines)
