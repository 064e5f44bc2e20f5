"""Report writer of ``macforge pareto``: plots (PNG + SVG), report.html, results.csv/json.

``report.html`` is self-contained (inline CSS, no scripts) and shows the images by relative
path (``accuracy_vs_energy.svg`` next to it, PNG fallback), so the directory can be zipped and
shared. Plots mark the Pareto front (:func:`costmodel.pareto.pareto_front`) in red.
"""
from __future__ import annotations

import csv
import html
import json
import os

from .pareto import pareto_front

__all__ = ["write_report", "write_sweep_report", "plot"]

_CSV_COLS = ("format", "description", "top1", "agreement", "cosine_mean", "cosine_min",
             "spearman", "energy_nj", "mac_energy_pj", "memory_energy_pj", "area_mm2",
             "fmax_mhz", "latency_us", "inferences_per_s", "lut", "dsp", "fpga_fmax_mhz",
             "weight_memory", "act_memory", "pareto_energy", "pareto_area", "not_priced")


def plot(rows, x: str, y: str, xlabel: str, ylabel: str, path_base: str, title: str,
         logx: bool = True) -> dict:
    """Scatter ``y`` against ``x`` with the Pareto front (max y, min x) joined; PNG + SVG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    pts = [(r.get(y), r.get(x)) for r in rows]
    front = pareto_front(pts, maximize=(True, False))
    fig, ax = plt.subplots(figsize=(7.2, 4.6), dpi=110)
    for i, r in enumerate(rows):
        if pts[i][0] is None or pts[i][1] is None:
            continue
        on = i in front
        ax.scatter(pts[i][1], pts[i][0], s=46 if on else 30, zorder=3,
                   color="#c0392b" if on else "#5d6d7e", edgecolor="black", linewidth=0.5)
        ax.annotate(r["format"], (pts[i][1], pts[i][0]), textcoords="offset points",
                    xytext=(5, 4), fontsize=8, color="#c0392b" if on else "#2c3e50")
    fr = sorted((pts[i][1], pts[i][0]) for i in front)
    if fr:
        ax.step([p[0] for p in fr], [p[1] for p in fr], where="post", color="#c0392b",
                linewidth=1.2, alpha=0.8, label="Pareto front", zorder=2)
        ax.legend(loc="lower right", fontsize=8)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    paths = {}
    for ext in ("png", "svg"):
        p = f"{path_base}.{ext}"
        fig.savefig(p, metadata={"Date": None} if ext == "svg" else None)
        paths[ext] = p
    plt.close(fig)
    return {"paths": paths, "front": [rows[i]["format"] for i in front]}


def _fmt(v, nd=4):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{nd}g}"
    return html.escape(str(v))


def _table(rows, cols, labels) -> str:
    head = "".join(f"<th>{html.escape(l)}</th>" for l in labels)
    body = []
    for r in rows:
        cls = ' class="front"' if r.get("pareto_energy") or r.get("pareto_area") else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in cols) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;
color:#1c2833;max-width:1200px}h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;
margin-top:28px;border-bottom:1px solid #d5d8dc}p.sub{color:#566573;margin-top:0}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots figure{margin:0}.plots img{width:560px;
border:1px solid #d5d8dc}table{border-collapse:collapse;font-size:12.5px;margin:8px 0}
td,th{border:1px solid #d5d8dc;padding:3px 7px;text-align:right}th{background:#eaecee}
td:first-child,th:first-child{text-align:left}tr.front td{background:#fdedec}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px;font-size:13px}
dt{font-weight:600}dd{margin:0}code{font-size:12px}"""


def _page(title, sub, sections) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p class=\"sub\">{sub}</p>"
            + "".join(sections) + "</body></html>\n")


def _figure(name, caption):
    return (f"<figure><picture><source srcset=\"{name}.svg\" type=\"image/svg+xml\">"
            f"<img src=\"{name}.png\" alt=\"{html.escape(caption)}\"></picture>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def write_report(res: dict, out_dir: str) -> dict:
    """Write the report of :func:`costmodel.pareto.run` into ``out_dir``; return the paths."""
    os.makedirs(out_dir, exist_ok=True)
    rows, prm = res["rows"], res["params"]
    m = prm["metric"]
    for key, x in (("pareto_energy", "energy_nj"), ("pareto_area", "area_mm2")):
        front = set(pareto_front([(r.get(m), r.get(x)) for r in rows]))
        for i, r in enumerate(rows):
            r[key] = i in front
    wl = prm["workload"]
    ylab = prm["metric_label"]
    p1 = plot(rows, "energy_nj", m, "energy per inference (nJ, log scale)", ylab,
              os.path.join(out_dir, "accuracy_vs_energy"), f"{wl}: accuracy vs energy")
    area_x, area_lab = ("area_mm2", f"PE array area, {prm['P']} MAC lanes (mm², log scale)")
    if prm["target"] != "asic":
        area_x, area_lab = "lut", f"{prm['target']} LUT4, {prm['P']} MAC lanes (log scale)"
    p2 = plot(rows, area_x, m, area_lab, ylab, os.path.join(out_dir, "accuracy_vs_area"),
              f"{wl}: accuracy vs area")
    cols = ["format", m, "agreement"] + (["cosine_min", "spearman"] if m != "top1" else []) + [
        "energy_nj", "mac_energy_pj", "memory_energy_pj", "area_mm2", "fmax_mhz", "latency_us"]
    labels = ["format", m, "agrees with fp32 (%)"] + (
        ["cosine min", "Spearman"] if m != "top1" else []) + [
        "energy / inf. (nJ)", "MAC energy (pJ)", "memory energy (pJ)", "area (mm²)",
        "Fmax (MHz)", "latency (µs)"]
    if prm["target"] != "asic":
        cols += ["lut", "dsp", "fpga_fmax_mhz"]
        labels += ["LUT4", "DSP", f"{prm['target']} Fmax (MHz)"]
    desc = "".join(f"<tr><td>{html.escape(r['format'])}</td><td style='text-align:left'>"
                   f"{html.escape(r['description'])}</td><td style='text-align:left'>"
                   f"{html.escape(', '.join(r.get('units', [])) or r.get('not_priced', ''))}"
                   f"</td><td style='text-align:left'>"
                   f"{html.escape(', '.join(f'{k} {v}' for k, v in r['emulation_paths'].items()))}"
                   "</td></tr>" for r in rows)
    layer_rows = []
    for r in rows:
        for L in r.get("layers", []):
            layer_rows.append({"format": r["format"], **L})
    lcols = ["format", "name", "op", "macs", "module", "energy_pj_per_mac", "mac_energy_pj",
             "memory_energy_pj", "activity"]
    params = {k: v for k, v in prm.items() if k != "tools"}
    dl = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(json.dumps(v) if isinstance(v, dict) else str(v))}</dd>"
                 for k, v in params.items())
    tools = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>"
                    for k, v in prm["tools"].items())
    not_priced = [r for r in rows if r.get("not_priced")]
    np_html = ("<p><b>Not priced</b> (no cost is invented; the point is left off the plots): "
               + "; ".join(f"{html.escape(r['format'])}: {html.escape(r['not_priced'])}"
                           for r in not_priced) + "</p>") if not_priced else ""
    sections = [
        "<h2>Accuracy against cost</h2><div class=\"plots\">"
        + _figure("accuracy_vs_energy", "Accuracy vs energy per inference; red: Pareto front "
                  f"({', '.join(p1['front'])})")
        + _figure("accuracy_vs_area", "Accuracy vs PE-array area; red: Pareto front "
                  f"({', '.join(p2['front'])})") + "</div>" + np_html,
        "<h2>Results</h2>" + _table(rows, cols, labels)
        + "<p>Rows shaded red are on a Pareto front (energy or area). The float model scores "
        + html.escape(json.dumps(prm["float_reference"])) + ".</p>",
        "<h2>Formats and units</h2><table><thead><tr><th>format</th><th>arithmetic and "
        "quantisation</th><th>priced unit</th><th>emulation paths (matmuls)</th></tr></thead>"
        f"<tbody>{desc}</tbody></table>",
        "<h2>Per-layer cost</h2>" + _table(layer_rows, lcols, lcols),
        f"<h2>Parameters and sources</h2><dl>{dl}</dl>",
        f"<h2>Tool versions</h2><dl>{tools}</dl>",
    ]
    title = f"macforge Pareto report: {wl} on {prm['target']}"
    sub = (f"{prm['macs_per_inference']:,} MACs per inference; accuracy by bit-exact emulation "
           f"of every matmul on the unit; {len(rows)} formats; built in {prm['seconds']} s.")
    paths = {"report": os.path.join(out_dir, "report.html")}
    with open(paths["report"], "w") as f:
        f.write(_page(title, html.escape(sub), sections))
    paths["csv"] = os.path.join(out_dir, "results.csv")
    with open(paths["csv"], "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[c for c in _CSV_COLS], extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in _CSV_COLS})
    paths["json"] = os.path.join(out_dir, "results.json")
    with open(paths["json"], "w") as f:
        json.dump({"params": prm, "rows": rows}, f, indent=1, default=str)
    for p in (p1, p2):
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
    with open(paths["csv"], "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    paths["json"] = os.path.join(out_dir, "results.json")
    with open(paths["json"], "w") as f:
        json.dump({"source": source, "rows": rows}, f, indent=1, default=str)
    return paths
