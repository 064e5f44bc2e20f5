"""Regenerate the measured figures of the docs and of README.md's cost table: run the command
behind each marked region and write its table there.

A region in a page of docs/ (or in README.md) is

    <!-- figures:NAME -->
    ... generated text ...
    <!-- /figures -->

and NAME is a key of :data:`FIGURES`: the macforge command whose ``--json`` output the table is
rendered from (run in this process through :func:`macforge.cli.main`, so the cost model's cache
applies: a warm cache makes the synthesis-backed figures take seconds, an empty one minutes).
Every region starts with a line naming the command and the macforge version. Cheap,
deterministic figures are checked against the commands by tests/test_figures.py on every
``make test``; the synthesis-backed ones are marked slow there. Machine-speed figures
(throughputs, wall times: ``machine=True``) are stamped with the machine and the date as well and
are never compared: they are what this machine measured when they were regenerated.

    python scripts/figures.py              # regenerate every region, report what changed
    python scripts/figures.py --only lmul  # one region
    python scripts/figures.py --check      # exit 1 if a region differs from the command now
    python scripts/figures.py --list
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import io
import os
import platform
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REGION = re.compile(r"(<!-- figures:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /figures -->)", re.S)


@dataclass(frozen=True)
class Figure:
    commands: tuple      # the macforge commands (argv tuples; a bench/ script runs as python)
    render: object       # list of JSON documents -> Markdown text
    slow: bool           # synthesis-backed or over ~20 s: tests/test_figures.py marks it slow
    text: bool = False   # the commands print a table, not JSON: render gets their stdout
    machine: bool = False  # speeds / wall times: stamped with machine and date, never compared


@functools.lru_cache(maxsize=None)
def _run_cached(argv: tuple) -> str:
    return _run(argv)


def run_text(argv) -> str:
    """``macforge <argv>``'s stdout, run once per process (several regions show one command)."""
    return _run_cached(tuple(argv))


def _run(argv) -> str:
    """``macforge <argv>`` in this process (``{tmp}`` in an argument: a scratch directory);
    its stdout. An argv starting with a ``bench/`` script runs that script instead, in its own
    interpreter (benchmarks time themselves and must not share this process's caches)."""
    if argv[0].startswith("bench/"):
        import subprocess
        proc = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or [""])[-1]
            raise RuntimeError(f"python {' '.join(argv)} exited with {proc.returncode}: {last}")
        return proc.stdout
    from macforge.cli import main
    buf = io.StringIO()
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(buf), \
            contextlib.chdir(ROOT):                  # paths in the commands are the repo's
        status = main(["--quiet", *(a.replace("{tmp}", tmp) for a in argv)])
    if status != 0:
        raise RuntimeError(f"macforge {' '.join(argv)} exited with {status}")
    return buf.getvalue()


def run_json(argv) -> dict:
    """``macforge <argv>`` in this process; its JSON document."""
    return json.loads(run_text(argv))


def _table(head, rows) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _pct(x, nd=1) -> str:
    return f"{x:+.{nd}f} %".replace("-", "−")


def _ours_theirs(r) -> tuple:
    """(published, ours) cells of a :func:`costmodel.reproduce._row`: "%" rows as signed
    percentages, "ratio" rows as ratios."""
    if r["kind"] == "%":
        return f"+{r['published']:g} %", _pct(r["ours"])
    return f"{r['published']:g}", f"{r['ours']:g}"


def _units_line(units) -> str:
    return "Units: " + "; ".join(f"{name}: {u['area_um2']:.0f} µm², {u['energy_pj']:.3g} pJ"
                                 for name, u in units.items()) + "."


# -- renderers ---------------------------------------------------------------------------------

def calibrate(docs) -> str:
    doc, = docs
    rows = []
    for r in doc["rows"]:
        ours = "0.2 (calibration)" if r["op"] == "int8 mult" else f"{r['energy_pj']:.3g}"
        rows.append((r["op"], ours, f"{r['ref_pj']:g}", f"{r['energy_ratio']:.2f}",
                     f"{r['area_um2']:.0f}", f"{r['ref_um2']:g}", f"{r['area_ratio']:.2f}"))
    return _table(("op", "ours pJ", "Horowitz pJ", "ratio", "ours µm²", "Horowitz µm²", "ratio"),
                  rows)


def reproduction(docs) -> str:
    """A ``macforge reproduce NAME --json``: every ours-vs-published row, then its units."""
    doc, = docs
    rows = [(r["comparison"], r["metric"], *_ours_theirs(r)) for r in doc["rows"]]
    return (_table(("comparison", "metric", "published", "ours"), rows) + "\n\n"
            + _units_line(doc["units"]))


def int_vs_fp(docs) -> str:
    """int-vs-fp: each published ratio next to ours at k = 8, at the paper's k and at the clock,
    the step table (what lanes, clock and glitches contribute) and the units."""
    doc, = docs
    pivot, cols = {}, []
    for r in doc["rows"]:
        name, where = r["comparison"].split(", ", 1)
        if where not in cols:
            cols.append(where)
        key = (name, r["metric"])
        pivot.setdefault(key, {"published": f"{r['published']:g}"})[where] = f"{r['ours']:.3f}"
    rows = [(name, metric, v["published"], *(v.get(c, "—") for c in cols))
            for (name, metric), v in pivot.items()]
    out = _table(("comparison", "metric", "published", *(f"ours, {c}" for c in cols)), rows)

    def signed(x):
        return "—" if x is None else f"{x:+.3f}"
    steps = [(s["format"], s["metric"], f"{s['published']:.2f}", f"{s['k8']:.3f}",
              signed(s["lanes"]), signed(s["clock"]), signed(s.get("glitches")),
              "—" if s.get("timed", s["at_clock"]) is None else f"{s.get('timed', s['at_clock']):.3f}")
             for s in doc["steps"]]
    out += ("\n\nWhat each step contributes to the ratio to mxfp8 (differences of the ratio; "
            "energy: zero-delay, then timed at the clock):\n\n"
            + _table(("format", "metric", "published", "k = 8", "+ lanes (paper's k)",
                      "+ clock", "+ glitches", "ours, final"), steps))
    return out + "\n\n" + _units_line(doc["units"])


def unit_quality(outputs) -> str:
    """bench/unit_quality.py: each unit's generic-flow NAND2-eq against its open anchor (the
    seconds each synthesis took are left out: a machine figure)."""
    out, = outputs
    line = re.compile(r"^(?P<unit>.{22}) +(?P<ours>[\d.]+) +(?P<ff>\d+) +(?P<anchor>\d+) +"
                      r"(?P<ratio>[\d.]+)  (?P<src>.*?)  \[\d+ s\](?:  logic alone "
                      r"(?P<logic>[\d.]+) = (?P<lratio>[\d.]+) x anchor)?")
    rows = []
    for text in out.splitlines()[1:]:
        m = line.match(text)
        if m is None:
            raise RuntimeError(f"bench/unit_quality.py printed an unexpected line: {text!r}")
        g = m.groupdict()
        rows.append((g["unit"].strip(), g["ours"], g["ff"], f"{g['src']} {g['anchor']}",
                     g["ratio"], "—" if g["logic"] is None else f"{g['logic']} ({g['lratio']})"))
    return _table(("unit", "macforge NAND2-eq", "flip-flops", "anchor", "ours / anchor",
                   "logic alone (/ anchor)"), rows)


def fp8_clocks(docs) -> str:
    """fp8-vs-int8 at equal clock: the pipeline each unit gets, then what each step contributes."""
    doc, = docs
    rows = []
    for f, c in doc["clocks"].items():
        for label, ch in c["choice"].items():
            u = c["units"].get(label)
            sl = f"{ch['stages']} / {ch['loop_stages']}"
            rows.append((f, label, sl if ch["met"] else "best " + sl, ch["registers"],
                         ch["reached_mhz"], f"{u['area_um2']:.0f}" if u else "-",
                         f"{u['energy_pj']:.3f}" if u else "cannot reach"))
    out = _table(("MHz", "unit", "chosen (stages / loop)", "registers", "reaches MHz", "µm²",
                  "pJ/op zero-delay"), rows)
    contrib = [(r["unit"], r["clock_mhz"], r["metric"], f"{r['old']:+.1f} %",
                f"{r['registers']:+.1f}", f"{r['mapping']:+.1f}", f"{r['new']:+.1f} %")
               for r in doc["contributions"]]
    return (out + "\n\nfp MAC over int8 MAC, percentage points (van Baalen et al.: +53 % with "
            "fp16, +183 % with fp32):\n\n"
            + _table(("unit", "MHz", "metric", "own clocks", "+ registers", "+ mapping",
                      "at clock"), contrib))


def lmul(docs) -> str:
    """lmul: each published ratio next to ours combinational and at the clock, our areas, the
    pipeline each unit gets at the clock, and the measured causes of the differences."""
    doc, = docs
    (f, clocked), = doc["clocks"].items()
    where = f" at {f} MHz"
    pivot = {}
    for r in doc["rows"]:
        name = r["comparison"]
        col = 2 if name.endswith(where) else 1
        key = (name.removesuffix(where), r["metric"])
        pivot.setdefault(key, [f"{r['published']:g}", "—", "—"])[col] = f"{r['ours']:g}"
    u = doc["units"]
    areas = "; ".join(f"{fmt}: {u['L-Mul ' + fmt]['area_um2']:.0f} / "
                      f"{u['exact mul ' + fmt]['area_um2']:.0f} µm²"
                      for fmt in ("fp8", "bf16", "fp32"))
    choice = [(label, ch["module"], ch["stages"], ch["registers"], ch["reached_mhz"],
               "yes" if ch["met"] else "no") for label, ch in clocked["choice"].items()]
    out = (_table(("L-Mul / exact", "metric", "published", "ours, combinational",
                   f"ours at {f} MHz"), [(*k, *v) for k, v in pivot.items()])
           + f"\n\nOur areas, L-Mul / exact multiplier (same format in and out): {areas}.\n\n"
           + f"At {f} MHz (each unit pipelined by `unit_at_clock`):\n\n"
           + _table(("unit", "module", "stages", "registers", "reaches MHz", f"meets {f} MHz"),
                    choice))
    if doc.get("notes"):
        out += "\n\nMeasured where ours and theirs disagree:\n\n" + "\n".join(
            f"- {n}" for n in doc["notes"])
    return out


WORKLOADS = (("resnet18",), ("resnet50",), ("mobilenetv2",), ("bert-base",), ("minilm",),
             ("llama2-7b",), ("llama2-7b", "-p", "phase=prefill", "-p", "tokens=512"))


def workloads(docs) -> str:
    rows = []
    for d in docs:
        params = ", ".join(f"{k}={v}" for k, v in d["params"].items())
        pub = d["published_macs"]
        diff = _pct(100 * (d["totals"]["macs"] / pub - 1), 2) if pub else "—"
        rows.append((d["name"], params, f"{d['totals']['macs']:,}",
                     f"{pub / 1e9:g} G" if pub else "none (closed form)", diff,
                     f"{d['totals']['weight_elems']:,}"))
    return _table(("workload", "parameters", "MACs (ours)", "published", "diff",
                   "weights (ours)"), rows)


def calibrate_timed(docs) -> str:
    """calibrate's library-figure energies (zero-delay and timed) of every row against Horowitz."""
    doc, = docs
    rows = []
    for r in doc["rows"]:
        b = r["energy_breakdown"]["timed"]
        rows.append((r["op"], f"{r['zero_delay_pj']:.3g}", f"{r['zero_delay_ratio']:.2f}x",
                     f"{r['timed_pj']:.3g}", f"{r['timed_ratio']:.2f}x", f"{r['ref_pj']:g}",
                     f"{r['glitch_factor']:.2f}x", f"{r['area_ratio']:.2f}x",
                     f"{r['timed_ratio'] / r['area_ratio']:.2f}x",
                     f"{b['internal'] / b['total']:.0%}".replace("%", " %")))
    return _table(("op", "zero-delay pJ", "ratio", "timed pJ", "ratio", "Horowitz", "glitch",
                   "area ratio", "per µm²", "internal"), rows)


def cost_table(docs, argvs, ratios=()) -> str:
    """One ``macforge cost ... --json`` per row: area, critical path, calibrated energy/op;
    then each ``(label, row i, row j)`` of ``ratios`` as row i's area and energy over row j's."""
    rows = []
    for argv, d in zip(argvs, docs):
        shown = " ".join(a for a in argv[1:] if a not in ("--json",))
        rows.append((f"`{shown}`", f"{d['area_um2']:.1f} ({d['ge']:.0f})", d["n_cells"],
                     f"{d['delay_ps']:.0f} ps", f"{d['energy_pj']:.3f} pJ"))
    out = _table(("command (`macforge cost ...`)", "area µm² (GE)", "cells", "critical path",
                  "energy/op"), rows)
    if ratios:
        out += "\n\n" + "; ".join(
            f"{label}: area {docs[i]['area_um2'] / docs[j]['area_um2']:.2f}, energy "
            f"{docs[i]['energy_pj'] / docs[j]['energy_pj']:.2f}" for label, i, j in ratios) + "."
    return out


def _cost(*args):
    """``macforge cost ARGS --timed-samples 0 --json`` (the tables show the calibrated
    zero-delay energy; the timed simulation is left off)."""
    return ("cost", *args, "--timed-samples", "0", "--json")


def cost_figure(*rows, ratios=()) -> Figure:
    argvs = tuple(_cost(*r) for r in rows)
    return Figure(argvs, functools.partial(cost_table, argvs=argvs, ratios=ratios), slow=True)


def running_sum(docs) -> str:
    """error-stats --unit running-sum: per format and checkpoint the bias of RNE and SR."""
    rows = []
    for doc in docs:
        runs = {(r["rounding"], r["rnd_bits"] if r["rounding"] == "sr" else None): r
                for r in doc["rows"]}
        rne = runs[("rne", None)]
        srs = sorted(k[1] for k in runs if k[0] == "sr")
        for i, c in enumerate(rne["checkpoints"]):
            cells = [f"{rne['format']}, {c['t']} ({c['exact_mean']:.0f})", _sig(c)]
            for r in srs:
                s = runs[("sr", r)]["checkpoints"][i]
                cells.append(f"{_sig(s)} ({_e(s['stderr'])})")
            cells.append(_e(runs[("sr", srs[-1])]["checkpoints"][i]["std"]))
            rows.append(cells)
    head = ["format, t (exact sum)", "RNE bias",
            *(f"SR R = {r} bias (stderr)" for r in srs), f"SR R = {srs[-1]} std"]
    return _table(head, rows) + "\n\nBold: a bias of more than 3 standard errors."


def _e(x) -> str:
    """``x`` as 2 significant digits, exponent without padding: −6.5e-4."""
    mant, exp = f"{x:.1e}".split("e")
    return f"{mant}e{int(exp)}".replace("-", "−", 1 if mant.startswith("-") else 0)


def _sig(c) -> str:
    """A checkpoint's bias, bold when it is more than 3 standard errors from zero."""
    text = _e(c["bias"])
    return f"**{text}**" if abs(c["bias"]) > 3 * c["stderr"] else text


def error_table(docs, units) -> str:
    """error-stats of each multiplier of ``units``: every normal-range code pair (mean / max),
    then N(0,1) data against the unquantised product (mean)."""
    rows = []
    for (fmt, unit, variant, out), exh, gauss in zip(units, docs[::2], docs[1::2]):
        u, = exh["rows"]
        g, = gauss["rows"]
        what = "mul" if unit == "mul" else f"L-Mul {variant}"
        rows.append((f"{fmt} {what} → {out}",
                     f"{100 * u['normal_mean']:.3g} % / {100 * u['normal_max']:.3g} %",
                     f"{100 * g['data_mean']:.3g} %"))
    return _table(("multiplier", "unit mean / max", "end-to-end mean"), rows)


def sweep_table(outputs) -> str:
    """The table a sweep prints at its end (the lines up to the first blank one)."""
    out, = outputs
    table = out.split("\n\n", 1)[0].rstrip()
    return "```\n" + table + "\n```"


def sim_table(docs) -> str:
    """``macforge sim ... --json`` per row: the ``make sim`` command, vectors and mismatches,
    the Verilator build (a fresh build directory: no cache) and the simulation + golden check."""
    rows = []
    for d in docs:
        sim_s = d["simulation_check_s"]
        rows.append((f"`{d['reproduce']}`", f"{d['vectors']:,}", f"{d['mismatches']:,}",
                     f"{d['build_s']:.0f} s",
                     f"{sim_s:.1f} s ({d['vectors'] / sim_s / 1e3:.0f} k vectors/s)"))
    return _table(("command", "vectors", "mismatches", "build", "simulation + check"), rows)


def preset_gemm(docs) -> str:
    """``error-stats --preset ... --json``: per data and promotion the GEMM's errors against
    float64, then what promotion gains and what a plain fp32 sum errs."""
    doc, = docs
    data = {"uniform": "U(0,1)", "normal": "N(0,1)"}
    rows, by = [], {}
    for r in doc["rows"]:
        by[(r["dist"], r["promote"])] = r
        rows.append((data[r["dist"]], f"every {r['promote_every']}" if r["promote"] else "none",
                     f"{100 * r['max_rel']:.3g} %", f"{100 * r['mean_rel']:.3g} %",
                     f"{100 * r['norm_rel']:.3g} %"))
    r0 = doc["rows"][0]
    gains = "; ".join(
        f"{data[d]}: max relative {by[(d, False)]['max_rel'] / by[(d, True)]['max_rel']:.0f}×, "
        f"normwise {by[(d, False)]['norm_rel'] / by[(d, True)]['norm_rel']:.0f}×"
        for d in data if (d, False) in by and (d, True) in by)
    worst = {}                               # per data: the plain fp32 sum's max relative
    for r in doc["rows"]:
        worst[r["dist"]] = max(worst.get(r["dist"], 0.0), r["fp32_max_rel"])
    plain = ", ".join(f"{data[d]} {_e(x).replace('e', '·10^')}" for d, x in worst.items())
    return (f"{r0['m']}×{r0['k']} @ {r0['k']}×{r0['n']} {r0['fmt']}, seed {r0['seed']}:\n\n"
            + _table(("data", "promotion", "max relative error", "mean relative",
                      "max\\|err\\| / max\\|C\\|"), rows)
            + f"\n\nPromotion cuts the error by {gains}. A plain fp32 sum of the same products "
              f"has a max relative error of {plain}.")


def fpga_units(docs) -> str:
    """``macforge fpga ... --json`` builds: the unit's own cells, placed LUTs against the
    device, Fmax and the critical path, one row per unit and device."""
    rows = []
    for d in docs:
        for r in d["rows"]:
            u, lut, cp = r["synth"]["unit"], r["utilisation"]["lut"], r["critical_path"]
            rows.append((r["module"], r["device"], u["lut"], u["carry"], u["dsp"], u["ff"],
                         f"{lut['used']} / {lut['available']} ({lut['percent']:.1f} %)",
                         f"{r['fmax_mhz']:.1f}",
                         f"{cp['delay_ns']:.1f} ns ({cp['logic_ns']:.1f} logic)"))
    return _table(("unit", "device", "unit LUT", "carry", "DSP", "unit FF",
                   "placed LUT / capacity", "Fmax MHz", "critical path"), rows)


def fpga_sweep(docs) -> str:
    """``macforge fpga --sweep-stages ... --json``: the table the sweep writes
    (:func:`macforge.cli.fpga.format_sweep`), every command's rows in one."""
    from macforge.cli.fpga import format_sweep
    return format_sweep([r for d in docs for r in d["rows"]])


#: docs/dot-product-units.md's co-simulation runs (fast mode, the default 10^6 random steps)
DOT_SIMS = (("--format", "mxfp4"), ("--format", "nvfp4"), ("--format", "mxfp8"),
            ("--format", "e4m3", "--align", "13"), ("--format", "e4m3", "--preset", "h100-fp8"))

FP8 = ("reproduce", "fp8-vs-int8", "--json")

#: docs/units.md's cost table
UNITS_COST = (("--format", "bf16", "--unit", "convert", "--acc", "e4m3", "-n", "20000"),
              ("--format", "bf16", "--unit", "convert", "--acc", "e4m3", "--rounding", "sr",
               "-n", "20000"),
              ("--format", "bf16", "--unit", "convert", "--acc", "e5m2", "--scale", "e8m0",
               "-n", "20000"),
              ("--format", "fp32", "--unit", "convert", "--acc", "int8", "--saturate",
               "-n", "20000"),
              ("--format", "e5m2", "--unit", "add", "-n", "20000"),
              ("--format", "bf16", "--unit", "add", "--rounding", "sr", "-n", "20000"),
              ("--format", "fp32", "--unit", "quantize", "--acc", "mxfp8", "--lanes", "8",
               "--stages", "1", "-n", "5000"),
              ("--format", "bf16", "--unit", "quantize", "--acc", "mxfp4", "--lanes", "8",
               "--stages", "1", "-n", "5000"),
              ("--format", "fp32", "--unit", "quantize", "--acc", "nvfp4", "--lanes", "8",
               "--stages", "1", "-n", "5000"),
              ("--format", "mxfp8", "--unit", "dequantize", "--acc", "fp32", "--lanes", "8",
               "--stages", "1", "-n", "5000"),
              ("--format", "e8m13", "--format-b", "fp32", "--unit", "fma", "--acc", "fp32",
               "-n", "5000"),
              ("--format", "fp32", "--unit", "mul", "--acc", "fp32", "-n", "5000"))
#: docs/units.md's posit and LNS table, each next to its minifloat neighbour
POSIT_COST = (("--format", "posit8", "--unit", "add", "-n", "20000"),
              ("--format", "e4m3", "--unit", "add", "-n", "20000"),
              ("--format", "posit16es1", "--unit", "add", "-n", "20000"),
              ("--format", "fp16", "--unit", "add", "-n", "20000"),
              ("--format", "lns8", "--unit", "add", "-n", "20000"),
              ("--format", "bf16", "--unit", "convert", "--acc", "posit8", "-n", "20000"),
              ("--format", "posit8", "--unit", "convert", "--acc", "e4m3", "-n", "20000"))
#: docs/format-families.md's HiF8 units next to e4m3's
HIF8_COST = (("--format", "hif8", "--unit", "mul", "-n", "20000"),
             ("--format", "e4m3", "--unit", "mul", "-n", "20000"),
             ("--format", "hif8", "--unit", "mac", "--acc", "fp32", "-n", "20000"),
             ("--format", "e4m3", "--unit", "mac", "--acc", "fp32", "-n", "20000"))
#: docs/units.md's casts into LNS
LNS_CAST_COST = (("--format", "bf16", "--unit", "convert", "--acc", "lns8", "-n", "20000"),
                 ("--format", "fp32", "--unit", "convert", "--acc", "lns12f6", "-n", "20000"))
#: docs/dot-product-units.md's deepseek-fp8 table: the scaled unit and its tensor-core step alone
DEEPSEEK_COST = (("--unit", "dot", "--format", "e4m3", "--preset", "deepseek-fp8", "-n", "20000"),
                 ("--unit", "dot", "--format", "e4m3", "--preset", "h100-fp8", "-n", "20000"))
#: README.md's cost table: one row per kind of unit, each the same command as a docs/ table's
#: row (so a regeneration costs each unit once)
README_COST = (("--format", "e4m3", "--unit", "mul", "-n", "20000"),
               ("--format", "e4m3", "--unit", "mac", "--acc", "fp32", "-n", "20000"),
               UNITS_COST[4], UNITS_COST[1], UNITS_COST[6], UNITS_COST[8], UNITS_COST[9],
               ("--unit", "dot", "--format", "mxfp8", "--lanes", "8", "-n", "20000"),
               DEEPSEEK_COST[0])
#: docs/dot-product-units.md's cost table
DOT_COST = (("--unit", "dot", "--format", "nvfp4", "-n", "20000"),
            ("--unit", "dot", "--format", "nvint4", "-n", "20000"),
            ("--unit", "dot", "--format", "mxfp8", "--lanes", "8", "-n", "20000"),
            ("--unit", "dot", "--format", "mxint8", "--lanes", "8", "-n", "20000"))

#: the multipliers of the L-Mul error table: (format, unit, variant, result)
ERROR_UNITS = (("e4m3", "mul", "formula", "e4m3"), ("e4m4", "lmul", "formula", "fp32"),
               ("e4m4", "lmul", "intadd", "fp32"), ("e5m2", "mul", "formula", "e5m2"),
               ("e5m3", "lmul", "formula", "fp32"), ("e5m3", "lmul", "intadd", "fp32"))


def _error_stats(fmt, unit, variant, out):
    base = ("error-stats", "--format", fmt, "--unit", unit,
            *(("--variant", variant) if unit == "lmul" else ()), "--acc", out)
    return ((*base, "--dist", "exhaustive", "--json"),
            (*base, "--dist", "gaussian", "-n", "1000000", "--json"))


RUNNING_SUMS = (("error-stats", "--unit", "running-sum", "--format", "bf16", "--steps", "4096",
                 "-n", "1000", "--json"),
                ("error-stats", "--unit", "running-sum", "--format", "fp16", "--steps", "16384",
                 "-n", "300", "--json"))

#: Every generated region: name -> how it is measured.
FIGURES = {
    "calibrate": Figure((("calibrate", "--json"),), calibrate, slow=True),
    "fp8-vs-int8": Figure((FP8,), reproduction, slow=True),
    "fp8-clocks": Figure((FP8,), fp8_clocks, slow=True),
    "int-vs-fp": Figure((("reproduce", "int-vs-fp", "--json"),), int_vs_fp, slow=True),
    "lmul": Figure((("reproduce", "lmul", "--json"),), lmul, slow=True),
    "calibrate-timed": Figure((("calibrate", "--json"),), calibrate_timed, slow=True),
    "units-cost": cost_figure(*UNITS_COST),
    "readme-cost": cost_figure(*README_COST),
    "posit-cost": cost_figure(*POSIT_COST),
    "hif8-cost": cost_figure(*HIF8_COST),
    "lns-cast-cost": cost_figure(*LNS_CAST_COST),
    "deepseek-cost": cost_figure(*DEEPSEEK_COST),
    "unit-quality": Figure((("bench/unit_quality.py",),), unit_quality, slow=True, text=True),
    "dot-cost": cost_figure(*DOT_COST, ratios=(("MXINT8 / MXFP8 at 8 lanes", 3, 2),
                                               ("NVINT4 / NVFP4 at 16 lanes", 1, 0))),
    "timed-energy-speed": Figure((("bench/timed_energy.py",),), sweep_table, slow=True,
                                 text=True, machine=True),
    "lmul-error": Figure(tuple(a for u in ERROR_UNITS for a in _error_stats(*u)),
                         functools.partial(error_table, units=ERROR_UNITS), slow=True),
    "running-sum": Figure(RUNNING_SUMS, running_sum, slow=True),
    "sweep-small": Figure((("sweep", "examples/sweep_small.yaml", "-o", "{tmp}"),), sweep_table,
                          slow=True, text=True),
    "workloads": Figure(tuple(("workload", "show", *w, "--json") for w in WORKLOADS), workloads,
                        slow=False),
    "deepseek-gemm": Figure((("error-stats", "--preset", "h100-fp8", "--k", "4096", "--size",
                              "64", "--json"),), preset_gemm, slow=True),
    "fpga-units": Figure(tuple(("fpga", "--format", f, "--target", "ice40,ecp5", "--output",
                                "{tmp}", "--json") for f in ("e4m3", "int8")),
                         fpga_units, slow=True),
    "fpga-stages": Figure(tuple(("fpga", "--format", f, "--target", "ice40,ecp5",
                                 "--sweep-stages", "0..4", "--output", "{tmp}", "--json")
                                for f in ("e4m3", "int8")), fpga_sweep, slow=True),
    "fpga-loops": Figure((("fpga", "--format", "e4m3", "--target", "ice40,ecp5",
                           "--sweep-stages", "1", "--sweep-loop-stages", "0..4", "--output",
                           "{tmp}", "--json"),), fpga_sweep, slow=True),
    "dot-sim": Figure(tuple(("sim", "--unit", "dot", *a, "--mode", "fast", "--build-dir",
                             "{tmp}", "--json") for a in DOT_SIMS),
                      sim_table, slow=True, machine=True),
}


_PUBLISHED = "published figures of the source named above it (docs/anchors.md#sources), not ours"
_DEFINED = "definitions, options or limits (what is accepted), not measurements"
#: Every table of numbers in docs/ outside a region: page -> header row -> why it stays typed.
TYPED = {
    "anchors.md": {
        "| op | energy (pJ) | area (µm²) |": _PUBLISHED,
        "| memory | energy per 64-bit access |": _PUBLISHED,
        "| | MXFP8 | MXINT8 | NVFP4 | NVINT4 |": _PUBLISHED,
        "| format | L-Mul area (µm²) | exact multiplier area (µm²) |": _PUBLISHED,
        "| what | speed |": "speeds of third-party tools (ml_dtypes, SoftPosit, cocotb, Yosys, "
                            "nextpnr) measured when the anchors were chosen: machine speeds of "
                            "others' tools, not a macforge figure",
        "| cell | NAND2-eq weight |": "the cost model's constants (Nangate45 X1 areas / NAND2_X1), "
                                     "definitions of the generic flow",
        "| design (source) | NAND2-eq | iCE40 LUT4+CARRY | Xilinx LUT+CARRY4 (-nodsp) |":
            "third-party RTL (HardFloat, cvfpu, PACoGen, ...) measured through our flow; the RTL "
            "is not in the repository and nothing downloads at run time",
        "| short name | reference |": "bibliography",
    },
    "cost-model.md": {"| cells | what comes from Nangate |": _DEFINED},
    "dot-product-units.md": {
        "| variable | meaning | default |": _DEFINED,
    },
    "energy.md": {"| key (JSON) | what | fitted? |": _DEFINED},
    "format-families.md": {
        "| names | family |": _DEFINED,
        "| `UNIT=` | unit | verified (0 mismatches) |": "which unit is verified how (vector "
            "classes: exhaustive 2^16 etc.), a definition of each unit's bench",
    },
    "formats.md": {
        "| alias | means |": _DEFINED,
        "| name | canonical | bits | bias | specials | max | min subnormal | inf code | "
        "canonical NaN |": "the formats' definitions (exact by construction; "
                           "tests/test_golden_*.py check them against ml_dtypes)",
        "| `Specials` | infinity | NaN | −0 | used by |": _DEFINED,
        "| dot | D | \\|E\\| | mantissa bits | binades |": _DEFINED,
        "| name | alias | element | element_exp | scale | block | tensor scale | emax_elem |":
            _DEFINED,
        "| block | scale code | elements |": _DEFINED,
        "| format | minpos (code 0…01) | maxpos (code 01…1) | significand bits (hidden one "
        "incl.) |": _DEFINED,
        "| format kind | canonical NaN | examples |": _DEFINED,
        "| condition (in priority order) | next `acc` |": _DEFINED,
        "| L | registers after |": _DEFINED,
        "| field | value | source |": _DEFINED,
    },
    "make-sim.md": {"| variable | meaning | default |": _DEFINED},
    "options.md": {"| Make | CLI | Python / YAML | Commands | Meaning |": _DEFINED},
    "pareto.md": {"| value | what | accuracy |": _DEFINED},
    "security.md": {
        "| input | trusted? | what protects the rest |": _DEFINED,
        "| parameter | accepted | what | why |": _DEFINED,
        "| input | refused with one line (exit 2) | where |": _DEFINED,
    },
    "units.md": {"| | |": _DEFINED},
    "verifying-rtl.md": {"| class | meaning |": _DEFINED, "| option | meaning |": _DEFINED},
}


def generate(name: str) -> str:
    """The text of region ``name`` as the command gives it now (stamp line included)."""
    from macforge import provenance
    fig = FIGURES[name]
    docs = [(run_text if fig.text else run_json)(argv) for argv in fig.commands]
    cmds = "; ".join(("python " if argv[0].startswith("bench/") else "macforge ")
                     + " ".join(argv).replace("{tmp}", "DIR") for argv in fig.commands)
    where = f", measured on {machine()} on {datetime.date.today()}" if fig.machine else ""
    return (f"<!-- generated by scripts/figures.py from `{cmds}`, macforge "
            f"{provenance.version()}{where} -->\n" + fig.render(docs).rstrip() + "\n")


def machine() -> str:
    """The machine a speed was measured on: CPU model and core count."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores"


def pages() -> list:
    """The pages that hold regions: README.md (its cost table) and every page of docs/."""
    return [p for p in (DOCS.parent / "README.md", *sorted(DOCS.glob("*.md"))) if p.is_file()]


def regions():
    """(page path, name, current text) of every region in docs/."""
    out = []
    for page in pages():
        for m in REGION.finditer(page.read_text()):
            out.append((page, m["name"], m["body"]))
    return out


NUMBER = re.compile(r"\d")


def typed_tables():
    """(page name, header row) of every Markdown table outside the regions whose body has a
    digit outside code spans (a candidate measured figure typed by hand)."""
    out = []
    for page in pages():
        text = REGION.sub("", page.read_text())
        text = re.sub(r"```.*?```", "", text, flags=re.S)
        for m in re.finditer(r"^ *(\|.*\|) *\n *\|[-:| ]+\| *\n((?: *\|.*\| *\n?)+)", text,
                             re.M):
            body = re.sub(r"`[^`]*`", "", m[2])
            if NUMBER.search(body):
                out.append((page.name, m[1].strip()))
    return out


def write(name: str, text: str) -> list:
    """Put ``text`` into every region ``name``; return the pages changed."""
    changed = []
    for page in pages():
        old = page.read_text()
        new = REGION.sub(lambda m: m.group(1) + text + m.group(4) if m["name"] == name
                         else m.group(0), old)
        if new != old:
            page.write_text(new)
            changed.append(page)
    return changed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", action="append", choices=sorted(FIGURES))
    p.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    p.add_argument("--cheap", action="store_true",
                   help="only the cheap figures (not slow: seconds, no synthesis)")
    p.add_argument("--list", action="store_true")
    args = p.parse_args(argv)
    found = regions()
    unknown = sorted({n for _, n, _ in found} - set(FIGURES))
    if unknown:
        print(f"figures.py: unknown region(s) {', '.join(unknown)}; known: "
              + ", ".join(FIGURES), file=sys.stderr)
        return 2
    if args.list:
        for page, name, _ in found:
            print(f"{name:18} {page.relative_to(DOCS.parent)}  slow={FIGURES[name].slow}"
                  + ("  machine" if FIGURES[name].machine else ""))
        return 0
    names = args.only or [n for n in FIGURES if not (args.cheap and FIGURES[n].slow)]
    status = 0
    for name in names:
        if args.check and FIGURES[name].machine:
            print(f"figures.py: {name} is a machine-speed figure: not compared")
            continue
        try:
            text = generate(name)
        except RuntimeError as exc:          # one failing command does not stop the others
            print(f"figures.py: {name}: {exc}", file=sys.stderr)
            status = 1
            continue
        current = [body for _, n, body in found if n == name]
        if args.check:
            if any(body != text for body in current):
                print(f"figures.py: {name} differs from what its commands print now")
                status = 1
            continue
        pages = write(name, text)
        shown = ", ".join(str(p.relative_to(DOCS.parent)) for p in pages)
        print(f"{name}: {shown or 'unchanged'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
