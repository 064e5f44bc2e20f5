"""Regenerate the measured figures of the docs: run the command behind each marked region and
write its table there.

A region in a page of docs/ is

    <!-- figures:NAME -->
    ... generated text ...
    <!-- /figures -->

and NAME is a key of :data:`FIGURES`: the macforge command whose ``--json`` output the table is
rendered from (run in this process through :func:`macforge.cli.main`, so the cost model's cache
applies: a warm cache makes the synthesis-backed figures take seconds, an empty one minutes).
Every region starts with a line naming the command and the macforge version. Cheap,
deterministic figures are checked against the commands by tests/test_figures.py on every
``make test``; the synthesis-backed ones are marked slow there.

    python scripts/figures.py              # regenerate every region, report what changed
    python scripts/figures.py --only lmul  # one region
    python scripts/figures.py --check      # exit 1 if a region differs from the command now
    python scripts/figures.py --list
"""
from __future__ import annotations

import argparse
import contextlib
import io
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
    commands: tuple      # the macforge commands (argv tuples) whose --json documents it shows
    render: object       # list of JSON documents -> Markdown text
    slow: bool           # synthesis-backed: a minute or more from an empty cache
    text: bool = False   # the commands print a table, not JSON: render gets their stdout


def run_text(argv) -> str:
    """``macforge <argv>`` in this process (``{tmp}`` in an argument: a scratch directory);
    its stdout."""
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


def fp8_vs_int8(docs) -> str:
    doc, = docs
    rows = [(r["comparison"], r["metric"], f"+{r['published']:g} %", _pct(r["ours"]))
            for r in doc["rows"]]
    units = "; ".join(f"{name}: {u['area_um2']:.0f} µm², {u['energy_pj']:.3g} pJ"
                      for name, u in doc["units"].items())
    return _table(("comparison", "metric", "published", "ours"), rows) + f"\n\nUnits: {units}."


def lmul(docs) -> str:
    doc, = docs
    u = doc["units"]
    rows = []
    for r in doc["rows"]:
        rows.append((r["comparison"], r["metric"], f"{r['published']:g}", f"{r['ours']:g}"))
    areas = "; ".join(f"{fmt}: {u['L-Mul ' + fmt]['area_um2']:.0f} / {u['exact mul ' + fmt]['area_um2']:.0f} µm²"
                      for fmt in ("fp8", "bf16", "fp32"))
    return (_table(("L-Mul / exact", "metric", "published", "ours"), rows)
            + f"\n\nOur areas, L-Mul / exact multiplier (same format in and out): {areas}.")


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


def sweep_table(outputs) -> str:
    """The table a sweep prints at its end (the lines up to the first blank one)."""
    out, = outputs
    table = out.split("\n\n", 1)[0].rstrip()
    return "```\n" + table + "\n```"


#: Every generated region: name -> how it is measured.
FIGURES = {
    "calibrate": Figure((("calibrate", "--json"),), calibrate, slow=True),
    "fp8-vs-int8": Figure((("reproduce", "fp8-vs-int8", "--json"),), fp8_vs_int8, slow=True),
    "lmul": Figure((("reproduce", "lmul", "--json"),), lmul, slow=True),
    "sweep-small": Figure((("sweep", "examples/sweep_small.yaml", "-o", "{tmp}"),), sweep_table,
                          slow=True, text=True),
    "workloads": Figure(tuple(("workload", "show", *w, "--json") for w in WORKLOADS), workloads,
                        slow=False),
}


def generate(name: str) -> str:
    """The text of region ``name`` as the command gives it now (stamp line included)."""
    from macforge import provenance
    fig = FIGURES[name]
    docs = [(run_text if fig.text else run_json)(argv) for argv in fig.commands]
    cmds = "; ".join("macforge " + " ".join(argv).replace("{tmp}", "DIR") for argv in fig.commands)
    return (f"<!-- generated by scripts/figures.py from `{cmds}`, macforge "
            f"{provenance.version()} -->\n" + fig.render(docs).rstrip() + "\n")


def regions():
    """(page path, name, current text) of every region in docs/."""
    out = []
    for page in sorted(DOCS.glob("*.md")):
        for m in REGION.finditer(page.read_text()):
            out.append((page, m["name"], m["body"]))
    return out


def write(name: str, text: str) -> list:
    """Put ``text`` into every region ``name``; return the pages changed."""
    changed = []
    for page in sorted(DOCS.glob("*.md")):
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
    p.add_argument("--cheap", action="store_true", help="only the figures not backed by synthesis")
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
            print(f"{name:12} {page.relative_to(ROOT)}  slow={FIGURES[name].slow}")
        return 0
    names = args.only or [n for n in FIGURES if not (args.cheap and FIGURES[n].slow)]
    status = 0
    for name in names:
        text = generate(name)
        current = [body for _, n, body in found if n == name]
        if args.check:
            if any(body != text for body in current):
                print(f"figures.py: {name} differs from what its commands print now")
                status = 1
            continue
        pages = write(name, text)
        print(f"{name}: " + (", ".join(str(p.relative_to(ROOT)) for p in pages) or "unchanged"))
    return status


if __name__ == "__main__":
    sys.exit(main())
