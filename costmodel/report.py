"""Report writer of ``macforge pareto``: plots (PNG + SVG), report.html, results.csv/json.

``report.html`` is self-contained (inline CSS, no scripts) and shows the images by relative
path (``accuracy_vs_energy.svg`` next to it, PNG fallback), so the directory can be zipped and
shared. It states the pricing basis at the top, the findings in sentences, then the plots
(every format has its own marker in a keyed legend, so labels never overlap; the Pareto front,
:func:`costmodel.pareto.pareto_front`, is filled; accuracy carries its bootstrap interval),
the stacked energy breakdown, the results in one unit per quantity (nJ/inference, µs, mm²)
and the parameters with their meanings.
"""
from __future__ import annotations

import html
import json
import os

from macforge import provenance

from .pareto import pareto_front

__all__ = ["write_report", "write_sweep_report", "plot", "plot_breakdown", "use_log"]

# One unit per quantity, named in the column (energies per inference in nJ, per MAC in pJ).
_CSV_COLS = ("format", "description", "top1", "agreement", "cosine_mean", "cosine_min",
             "spearman", "rel_error", "ci_low", "ci_high", "energy_nj", "mac_energy_nj",
             "memory_energy_nj", "latency_us", "area_mm2", "energy_pj_per_mac",
             "unit_area_um2", "fmax_mhz", "meets_clock", "utilization", "lut", "dsp",
             "fpga_fmax_mhz", "pareto_energy", "pareto_area", "not_priced", "requant_nj",
             "requant_not_priced")

#: Distinct marker/colour pairs: every format keeps its own in every plot (keyed legend).
_MARKERS = "osD^vP*Xh<>pd"
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31")


def use_log(values) -> bool:
    """A log axis only when the values span more than a factor of 10 (else linear).

    Examples
    --------
    >>> use_log([30.0, 40.0, 80.0]), use_log([0.5, 40.0])
    (False, True)
    """
    v = [float(x) for x in values if x is not None and x > 0]
    return bool(v) and max(v) / min(v) > 10.0


def _style(i):
    return _MARKERS[i % len(_MARKERS)], _COLOURS[i % len(_COLOURS)]


def _save(fig, path_base) -> dict:
    paths = {}
    for ext in ("png", "svg"):
        p = f"{path_base}.{ext}"
        fig.savefig(p, metadata={"Date": None} if ext == "svg" else None)
        paths[ext] = p
    return paths


def plot(rows, x: str, y: str, xlabel: str, ylabel: str, path_base: str, title: str,
         maximize_y: bool = True, yerr: str | None = None) -> dict:
    """Scatter ``y`` against ``x`` (one marker and colour per format, keyed in a legend beside
    the axes, so labels never overlap) with the Pareto front (best y, min x) as a step line;
    ``yerr``: a row key holding (low, high) error bars. Axes are linear unless the values span
    more than 10x (:func:`use_log`). PNG + SVG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    pts = [(r.get(y), r.get(x)) for r in rows]
    front = pareto_front(pts, maximize=(maximize_y, False))
    fig, ax = plt.subplots(figsize=(7.6, 4.6), dpi=110)
    for i, r in enumerate(rows):
        if pts[i][0] is None or pts[i][1] is None:
            continue
        on = i in front
        mk, col = _style(i)
        ci = r.get(yerr) if yerr else None
        if ci:
            ax.errorbar(pts[i][1], pts[i][0], yerr=[[pts[i][0] - ci[0]], [ci[1] - pts[i][0]]],
                        fmt="none", ecolor=col, elinewidth=1.0, capsize=3, alpha=0.8, zorder=2)
        ax.scatter(pts[i][1], pts[i][0], s=70 if on else 46, marker=mk, zorder=3,
                   facecolor=col if on else "none", edgecolor=col, linewidth=1.6,
                   label=r["format"] + (" (front)" if on else ""))
    fr = sorted((pts[i][1], pts[i][0]) for i in front)
    if fr:
        ax.step([p[0] for p in fr], [p[1] for p in fr], where="post", color="#c0392b",
                linewidth=1.0, alpha=0.6, zorder=1)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
              title="format (filled: on the front)", title_fontsize=8)
    xs = [p[1] for p in pts if p[1] is not None]
    ys = [p[0] for p in pts if p[0] is not None]
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter
    for axis, vals, setter in ((ax.xaxis, xs, ax.set_xscale), (ax.yaxis, ys, ax.set_yscale)):
        if use_log(vals):
            setter("log")
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.5, not 5x10^-1
            axis.set_minor_formatter(NullFormatter())
        else:              # plain numbers in the axis unit (no "1e6"), few enough to fit
            axis.set_major_locator(MaxNLocator(nbins=5))
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    paths = _save(fig, path_base)
    plt.close(fig)
    return {"paths": paths, "front": [rows[i]["format"] for i in front]}


def plot_breakdown(rows, path_base: str, title: str) -> dict:
    """Horizontal stacked bars: each format's energy per inference split into the MAC array
    and every memory level (nJ); the segments of a bar sum to its total. The last part is the
    off-chip level; where it dwarfs the rest, a second panel (same formats, same colours)
    stacks the on-chip parts alone on their own linear scale, so the MAC array and the
    on-chip memories stay readable."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    rows = [r for r in rows if r.get("energy_breakdown_nj")]
    parts = list(dict.fromkeys(k for r in rows for k in r["energy_breakdown_nj"]))
    off = parts[-1] if len(parts) > 2 else None
    on_chip = [sum(v for k, v in r["energy_breakdown_nj"].items() if k != off) for r in rows]
    tot = [sum(r["energy_breakdown_nj"].values()) for r in rows]
    # a second panel when the on-chip parts are under a fifth of some format's bar
    split = off is not None and any(t > 0 and o < 0.2 * t for o, t in zip(on_chip, tot))
    panels = [(parts, "energy per inference, all parts (nJ)")]
    if split:
        panels.append((parts[:-1], f"on chip only: without {off} (nJ)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(7.6 if not split else 11.0,
                                                      0.45 * len(rows) + 1.8),
                             dpi=110, sharey=True, squeeze=False)
    cmap = plt.get_cmap("tab10")
    colour = {part: cmap(j % 10) for j, part in enumerate(parts)}
    for ax, (shown, xlabel) in zip(axes[0], panels):
        left = [0.0] * len(rows)
        for part in shown:
            w = [r["energy_breakdown_nj"].get(part, 0.0) for r in rows]
            ax.barh(range(len(rows)), w, left=left, color=colour[part], label=part,
                    height=0.7)
            left = [a + b for a, b in zip(left, w)]
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
        ax.grid(True, axis="x", alpha=0.3)
    ax0 = axes[0][0]
    ax0.set_yticks(range(len(rows)), [r["format"] for r in rows], fontsize=8)
    ax0.invert_yaxis()
    fig.suptitle(title, fontsize=10)
    axes[0][-1].legend(handles=[plt.Rectangle((0, 0), 1, 1, color=colour[p]) for p in parts],
                       labels=parts, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                       frameon=False, title="part", title_fontsize=8)
    fig.tight_layout()
    paths = _save(fig, path_base)
    plt.close(fig)
    return {"paths": paths, "split": split}


def _num(v, nd=4):
    if v is None or v == "":
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if abs(v) >= 10 ** nd:                # 1,535,000, not 1.535e+06: whole units
            return f"{float(f'{v:.{nd}g}'):,.0f}"
        return f"{v:.{nd}g}"
    if isinstance(v, int):
        return f"{v:,}"
    return html.escape(str(v))


def _arch_notes(rows) -> str:
    """The mapping's architecture adjustments, each naming the formats it was made for (a
    per-MAC register is widened to each format's own element width)."""
    by = {}
    for r in rows:
        for n in r.get("arch_notes", []):
            by.setdefault(n, []).append(r["format"])
    if not by:
        return ""
    return "; ".join(n if len(f) == len(rows) else f"{n} for {', '.join(f)}"
                     for n, f in sorted(by.items()))


def _table(rows, cols, labels, front_key=True, text=False) -> str:
    head = "".join(f"<th>{html.escape(l)}</th>" for l in labels)
    body = []
    for r in rows:
        cls = ' class="front"' if front_key and (r.get("pareto_energy") or
                                                 r.get("pareto_area")) else ""
        cells = []
        for c in cols:
            v = c(r) if callable(c) else _num(r.get(c))
            cells.append(f"<td>{v}</td>")
        body.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    cls = ' class="text"' if text else ""
    return (f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            "</table>")


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;
color:#1c2833;max-width:1240px}h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;
margin-top:28px;border-bottom:1px solid #d5d8dc}p.sub{color:#566573;margin-top:0}
p.basis{background:#f4f6f7;border-left:4px solid #5d6d7e;padding:8px 12px}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots figure{margin:0}.plots img{width:600px;
border:1px solid #d5d8dc}.plots figure.wide img{width:900px}
figcaption{font-size:12.5px;color:#566573;max-width:600px}
table{border-collapse:collapse;font-size:12.5px;margin:8px 0}
td,th{border:1px solid #d5d8dc;padding:3px 7px;text-align:right}th{background:#eaecee}
td:first-child,th:first-child{text-align:left}tr.front td{background:#fdedec}
table.text td,table.text th{text-align:left}code{font-size:12px}"""


def _page(title, sub, sections) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"generator\" content=\"macforge {html.escape(provenance.describe())}\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p class=\"sub\">{sub}</p>"
            + "".join(sections)
            + f"<p class=\"sub\">Generated by <code>{html.escape(provenance.line())}</code></p>"
            "</body></html>\n")


def _figure(name, caption, wide=False):
    cls = ' class="wide"' if wide else ""
    return (f"<figure{cls}><picture><source srcset=\"{name}.svg\" type=\"image/svg+xml\">"
            f"<img src=\"{name}.png\" alt=\"{html.escape(caption)}\"></picture>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


#: What each parameter means, for the parameters table.
_MEANINGS = {
    "workload": "network whose one inference is priced",
    "workload_source": "where its layer shapes come from",
    "metric_label": "accuracy metric (against the data's labels or the fp32 run)",
    "arch": "accelerator the workload is mapped onto (ZigZag architecture)",
    "array_sizes": "operational array dimensions (MAC units per dimension)",
    "array_units": "MAC units in the array, each one unit of the format",
    "memory_levels": "memory hierarchy, innermost first",
    "clock_mhz": "clock of every format's array (MHz)",
    "clock_source": "how the clock was chosen",
    "clock_rule": "how each unit is made to meet it",
    "target": "technology of the unit cost (ASIC: 45 nm cells)",
    "mapping_objective": "what ZigZag's mapping search minimises per layer",
    "activity_source": "operands driving the unit's switching-energy simulation",
    "activity_pairs_per_layer": "operand pairs sampled per layer for the activity",
    "macs_per_inference": "multiply-accumulates of one inference",
    "weight_elems": "stored parameters of the network",
    "energy_model": "how energy is computed",
    "block_dot_lanes": "lanes of the dot unit a block format is priced on (one MAC each)",
    "area_model": "what the area covers",
    "latency_model": "how latency is computed",
    "seconds": "wall time of the report (s)",
}


def _accuracy(r, m):
    v = r.get(m)
    if v is None:
        return "–"
    ci = r.get("ci")
    nd = 4 if m != "top1" else 3
    return _num(float(v), nd) + (f" <small>({ci[0]:.{nd}g}–{ci[1]:.{nd}g})</small>" if ci else "")


def _sentences(rows, prm, fronts) -> str:
    """The findings as prose."""
    priced = [r for r in rows if r.get("energy_nj") is not None]
    if not priced:
        return "<p>No format could be priced.</p>"
    lo = min(priced, key=lambda r: r["energy_nj"])
    hi = max(priced, key=lambda r: r["energy_nj"])
    timed = [r for r in priced if r.get("latency_us") is not None]
    out = [f"{html.escape(lo['format'])} needs the least energy, {_num(lo['energy_nj'])} "
           f"nJ/inference, and {html.escape(hi['format'])} the most, {_num(hi['energy_nj'])} "
           f"nJ/inference ({hi['energy_nj'] / lo['energy_nj']:.3g}x)."]
    share = lo["mac_energy_nj"] / lo["energy_nj"] if lo["energy_nj"] else 0
    out.append(f"For {html.escape(lo['format'])}, the MAC array takes {100 * share:.3g} % of "
               "the energy and the memories the rest (breakdown chart below).")
    if timed:
        fast = min(timed, key=lambda r: r["latency_us"])
        out.append(f"{html.escape(fast['format'])} is the fastest at {_num(fast['latency_us'])} "
                   f"µs per inference at {fast['array_clock_mhz']:.4g} MHz.")
    unknown = [r["format"] for r in priced if r.get("fmax_mhz") is None]
    if unknown:
        out.append("The unit frequency of " + ", ".join(map(html.escape, unknown))
                   + (" is" if len(unknown) == 1 else " are") + " unknown (no timing was "
                   "measured): " + ("it is" if len(unknown) == 1 else "they are")
                   + " not counted as meeting the clock and get no latency.")
    slow_units = [r["format"] for r in priced if r.get("meets_clock") is False
                  and r.get("fmax_mhz") is not None]
    if slow_units:
        out.append("The units of " + ", ".join(map(html.escape, slow_units)) + " do not reach "
                   f"{prm['clock_mhz']:.4g} MHz with any pipeline tried; they are priced as "
                   "their fastest pipeline, and their latency at the frequency it reaches.")
    if prm.get("metric"):
        m = prm["metric"]
        out.append("On the accuracy-against-energy front: " + ", ".join(
            map(html.escape, fronts["energy"])) + "; against area: " + ", ".join(
            map(html.escape, fronts["area"])) + ".")
        scored = [r for r in rows if r.get(m) is not None]
        top = max(r[m] for r in scored)
        best = [r for r in scored if r[m] == top]
        low = min((r["ci"][0] for r in best if r.get("ci")), default=None)
        ties = [r["format"] for r in scored if r not in best and low is not None
                and r.get("ci") and r["ci"][1] >= low]
        names = ", ".join(html.escape(r["format"]) for r in best)
        out.append(f"{names} score{'s' if len(best) == 1 else ''} highest ({m} {top:.4g})"
                   + ("; the 95 % intervals of " + ", ".join(map(html.escape, ties))
                      + " overlap " + ("it" if len(best) == 1 else "theirs") + ": on this "
                      "evaluation set they cannot be told apart." if ties else "."))
    else:
        out.append("This workload carries no weights or data, so no accuracy is reported: "
                   "the plots show the cost axes only. On the latency-against-energy front "
                   "(no other format is at least as cheap and as fast, and better in one): "
                   + ", ".join(map(html.escape, fronts["latency"])) + "; on the "
                   "area-against-energy front: " + ", ".join(map(html.escape, fronts["area"]))
                   + ".")
    return "<p>" + " ".join(out) + "</p>"


def write_report(res: dict, out_dir: str) -> dict:
    """Write the report of :func:`costmodel.pareto.run` into ``out_dir``; return the paths."""
    os.makedirs(out_dir, exist_ok=True)
    rows, prm = res["rows"], res["params"]
    m = prm.get("metric")
    for r in rows:
        if r.get("ci"):
            r["ci_low"], r["ci_high"] = r["ci"]
    wl, arch = prm["workload"], prm["arch"]
    fronts = {}
    if m:
        for key, x, name in (("pareto_energy", "energy_nj", "energy"),
                             ("pareto_area", "area_mm2", "area")):
            front = set(pareto_front([(r.get(m), r.get(x)) for r in rows]))
            for i, r in enumerate(rows):
                r[key] = i in front
            fronts[name] = [rows[i]["format"] for i in sorted(front)]
        ylab = prm["metric_label"]
        p1 = plot(rows, "energy_nj", m, "energy per inference (nJ)", ylab,
                  os.path.join(out_dir, "accuracy_vs_energy"), f"{wl} on {arch}: accuracy "
                  "vs energy (bars: 95 % bootstrap interval)", yerr="ci")
        area_x, area_lab = "area_mm2", f"MAC array area, {prm['array_units']} units (mm²)"
        if prm["target"] != "asic":
            area_x, area_lab = "lut", f"{prm['target']} LUT4, {prm['array_units']} units"
        p2 = plot(rows, area_x, m, area_lab, ylab, os.path.join(out_dir, "accuracy_vs_area"),
                  f"{wl} on {arch}: accuracy vs area", yerr="ci")
        figs = [("accuracy_vs_energy", "Accuracy against energy per inference; filled "
                 f"markers: Pareto front ({', '.join(p1['front'])})", p1),
                ("accuracy_vs_area", "Accuracy against MAC-array area; filled markers: "
                 f"Pareto front ({', '.join(p2['front'])})", p2)]
    else:
        for key, x, name in (("pareto_energy", "latency_us", "latency"),
                             ("pareto_area", "area_mm2", "area")):
            front = set(pareto_front([(r.get(x), r.get("energy_nj")) for r in rows],
                                     maximize=(False, False)))
            for i, r in enumerate(rows):
                r[key] = i in front
            fronts[name] = [rows[i]["format"] for i in sorted(front)]
        p1 = plot(rows, "energy_nj", "latency_us", "energy per inference (nJ)",
                  f"latency per inference at {prm['clock_mhz']:.4g} MHz (µs)",
                  os.path.join(out_dir, "latency_vs_energy"), f"{wl} on {arch}: latency vs "
                  "energy (no accuracy: the workload has no weights)", maximize_y=False)
        p2 = plot(rows, "energy_nj", "area_mm2", "energy per inference (nJ)",
                  f"MAC array area, {prm['array_units']} units (mm²)",
                  os.path.join(out_dir, "area_vs_energy"), f"{wl} on {arch}: area vs energy",
                  maximize_y=False)
        figs = [("latency_vs_energy", "Latency against energy per inference; filled markers: "
                 f"Pareto front ({', '.join(p1['front'])})", p1),
                ("area_vs_energy", "MAC-array area against energy per inference; filled "
                 f"markers: Pareto front ({', '.join(p2['front'])})", p2)]
    p3 = plot_breakdown(rows, os.path.join(out_dir, "energy_breakdown"),
                        f"{wl} on {arch}: energy per inference by part")
    figs.append(("energy_breakdown", "Energy per inference split into the MAC array and each "
                 "memory level (the last is off-chip); the segments sum to the total"
                 + ("; right: the on-chip parts alone, on their own scale" if p3["split"]
                    else ""), p3))
    cols, labels = ["format"], ["format"]
    if m:
        cols += [lambda r: _accuracy(r, m), "agreement"]
        labels += [f"{m} (95 % interval)", "agrees with fp32 (%)"]
    parts = list(dict.fromkeys(k for r in rows for k in r.get("energy_breakdown_nj", {})))
    cols += ["energy_nj"] + [(lambda r, k=k: _num(r.get("energy_breakdown_nj", {}).get(k)))
                             for k in parts]
    labels += ["energy (nJ/inference)"] + [f"{k} (nJ)" for k in parts]
    requant = any("requant_nj" in r or "requant_not_priced" in r for r in rows)
    if requant:
        cols += [lambda r: _num(r.get("requant_nj")) if "requant_nj" in r else "not priced"]
        labels += ["requantisation (nJ/inference)"]
    cols += ["latency_us", "area_mm2", "energy_pj_per_mac", "fmax_mhz", "meets_clock"]
    labels += ["latency (µs)", "array area (mm²)", "unit energy (pJ/MAC)", "unit Fmax (MHz)",
               f"meets {prm['clock_mhz']:.4g} MHz"]
    if prm["target"] != "asic":
        cols += ["lut", "dsp", "fpga_fmax_mhz"]
        labels += ["LUT4", "DSP", f"{prm['target']} Fmax (MHz)"]
    units_cols = ["format", (lambda r: f"<span>{html.escape(r['description'])}</span>"),
                  lambda r: html.escape(", ".join(r.get("units", []))),
                  lambda r: html.escape(", ".join(f"{k} {v:g}" for k, v in
                                                  r.get("precisions", {}).items())),
                  "activity",
                  lambda r: html.escape(r["mapping_shared_with"] or "own")]
    units_labels = ["format", "arithmetic and quantisation", "priced unit",
                    "precisions (bits/element)", "unit activity", "ZigZag mapping"]
    layer_rows = [{"format": r["format"], **L} for r in rows for L in r.get("layers", [])]
    lcols = ["format", "name", "op", "macs", "unit_energy_pj", "mac_energy_nj",
             "memory_energy_nj", "latency_cycles", "utilization",
             lambda r: f"<code>{html.escape(r['spatial_mapping'])}</code>"]
    llabels = ["format", "layer", "op", "MACs", "unit energy (pJ/MAC)", "MAC array (nJ)",
               "memories (nJ)", "latency (cycles)", "utilisation", "spatial mapping"]
    prow = [{"p": k, "v": prm[k], "m": _MEANINGS[k]} for k in _MEANINGS if prm.get(k) is not None]
    ptable = _table(prow, ["p", lambda r: html.escape(
                               (" × " if r["p"] == "array_sizes" else ", ").join(map(str, r["v"]))
                               if isinstance(r["v"], list) else str(r["v"])),
                           lambda r: html.escape(r["m"])],
                    ["parameter", "value", "meaning"], front_key=False, text=True)
    tools = _table([{"k": k, "v": v} for k, v in prm["tools"].items()], ["k", "v"],
                   ["tool", "version"], front_key=False)
    notes = _arch_notes(rows)
    basis = (f"Every format is priced on the same basis: one inference of {html.escape(wl)} "
             f"mapped by ZigZag onto {html.escape(arch)} ({prm['array_units']} MAC units of "
             f"the format, memory hierarchy {html.escape(' → '.join(prm['memory_levels']))}), "
             f"one clock of {prm['clock_mhz']:.4g} MHz ({html.escape(prm['clock_source'])}"
             + (f"; {html.escape(prm['clock_rule'])}" if prm.get("clock_rule") else "") + "), "
             f"unit energy and area from 45 nm synthesis with "
             f"{html.escape(prm['activity_source'])}, operand precisions of the format "
             "(block scales amortised per element), one lane rule (a block format's "
             f"{prm.get('block_dot_lanes', 'k')}-lane dot unit counts as that many MAC units: "
             "its energy and area per MAC are the unit's divided by its lanes), mapping "
             "minimising "
             f"{html.escape(prm['mapping_objective'])}. Energy in nJ per inference, latency in "
             "µs, area in mm²." + (" Architecture adjustments: " + html.escape(notes) + "."
                                   if notes else ""))
    acc_line = ""
    if m:
        acc_line = (f"<p>Accuracy: {html.escape(prm['metric_label'])}; in brackets the 95 % "
                    "percentile bootstrap interval over the evaluation set. The fp32 model "
                    f"scores {html.escape(m)} {prm['float_reference'][m]:.4g} on it.</p>")
    if requant:
        acc_line += ("<p>Requantisation (<code>--requant</code>): the cast of every MAC "
                     "layer's fp32 outputs into the format before they are stored, priced as "
                     "the measured cast unit (hw.Convert; block formats: the MX quantiser) at "
                     f"{prm['clock_mhz']:.4g} MHz on uniform random fp32 codes, times each "
                     "layer's output elements; it is listed on its own and not included in "
                     "the energy column."
                     + "".join(f" {html.escape(r['format'])}: not priced "
                               f"({html.escape(r['requant_not_priced'])})."
                               for r in rows if r.get("requant_not_priced")) + "</p>")
    not_priced = [r for r in rows if r.get("not_priced")]
    if not_priced:
        acc_line += ("<p><b>Not priced</b> (no cost is invented; the format is left off the "
                     "cost axes): " + "; ".join(f"{html.escape(r['format'])}: "
                                                f"{html.escape(r['not_priced'])}"
                                                for r in not_priced) + "</p>")
    sections = [
        f"<p class=\"basis\">{basis}</p>", _sentences(rows, prm, fronts) + acc_line,
        "<h2>Plots</h2><div class=\"plots\">"
        + "".join(_figure(n, c, p.get("split", False)) for n, c, p in figs) + "</div>",
        "<h2>Results</h2>" + _table(rows, cols, labels)
        + ("<p>Rows shaded red are on a Pareto front (accuracy against energy or area).</p>"
           if m else "<p>Rows shaded red are on a cost front (latency or area against "
                     "energy).</p>"),
        "<h2>Formats and units</h2>" + _table(rows, units_cols, units_labels, front_key=False,
                                              text=True),
        "<h2>Parameters</h2>" + ptable,
        "<h2>Per-layer cost</h2><details><summary>" + f"{len(layer_rows)} rows"
        + "</summary>" + _table(layer_rows, lcols, llabels, front_key=False) + "</details>",
        "<h2>Tool versions</h2>" + tools,
    ]
    title = f"macforge Pareto report: {wl} on {arch}"
    sub = (f"{prm['macs_per_inference']:,} MACs per inference; {len(rows)} formats; built in "
           f"{prm['seconds']} s.")
    paths = {"report": os.path.join(out_dir, "report.html")}
    with open(paths["report"], "w") as f:
        f.write(_page(title, html.escape(sub), sections))
    paths["csv"] = os.path.join(out_dir, "results.csv")
    extra = [f"energy_{k}_nj" for k in parts]
    provenance.write_csv(paths["csv"], [
        {**r, **{f"energy_{k}_nj": r.get("energy_breakdown_nj", {}).get(k, "") for k in parts}}
        for r in rows], list(_CSV_COLS) + extra)
    paths["json"] = os.path.join(out_dir, "results.json")
    provenance.write_json(paths["json"], {"params": prm, "rows": rows})
    for _, _, p in figs:
        paths.update({f"{os.path.basename(v)}": v for v in p["paths"].values()})
    return paths


def write_sweep_report(rows: list, out_dir: str, source: str) -> dict:
    """Plots and table of a sweep's result rows (``costmodel.sweep.load_results``): every
    numeric column against every other numeric column that looks like a cost."""
    os.makedirs(out_dir, exist_ok=True)
    num = [k for k in rows[0] if all(isinstance(r.get(k), (int, float)) and not
                                     isinstance(r.get(k), bool) for r in rows)]
    costs = [k for k in num if any(t in k for t in ("energy", "area", "ge", "lut", "pj"))]
    quality = [k for k in num if k not in costs]
    label = next((k for k in ("format", "module", "name", "config") if k in rows[0]), None)
    for i, r in enumerate(rows):
        r.setdefault("format", str(r.get(label, i)) if label else str(i))
    figs, paths = [], {}
    if costs and quality:
        for c in costs[:2]:
            p = plot(rows, c, quality[0], c, quality[0], os.path.join(out_dir, f"sweep_{c}"),
                     f"{quality[0]} vs {c}")
            figs.append(_figure(f"sweep_{c}", f"{quality[0]} vs {c}; red: Pareto front"))
            paths.update({os.path.basename(v): v for v in p["paths"].values()})
    cols = list(rows[0])
    sections = ["<h2>Plots</h2><div class=\"plots\">" + "".join(figs) + "</div>",
                "<h2>Results</h2>" + _table(rows, cols, cols)]
    paths["report"] = os.path.join(out_dir, "report.html")
    with open(paths["report"], "w") as f:
        f.write(_page("macforge sweep report", html.escape(f"from {source}: {len(rows)} rows"),
                      sections))
    paths["csv"] = os.path.join(out_dir, "results.csv")
    provenance.write_csv(paths["csv"], rows, cols)
    paths["json"] = os.path.join(out_dir, "results.json")
    provenance.write_json(paths["json"], {"source": source, "rows": rows})
    return paths
