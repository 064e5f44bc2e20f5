"""``macforge workload``: list the workloads, show one (built-in or ONNX) layer by layer."""
from __future__ import annotations

import argparse

from macforge import provenance
from macforge.errors import UsageError

__all__ = ["add_parser", "run", "format_table", "describe_shape"]


def add_parser(sub):
    """Add ``workload list`` and ``workload show`` to the CLI's subparsers."""
    w = sub.add_parser("workload", help="workload graphs: per-layer MACs, weights, activations")
    wsub = w.add_subparsers(dest="workload_cmd", required=True)
    ls = wsub.add_parser("list", help="the built-in workloads and their parameters")
    ls.set_defaults(func=run)
    s = wsub.add_parser("show", help="per-layer and total MACs / weight / activation sizes")
    s.add_argument("target", metavar="NAME|model.onnx",
                   help="a built-in workload (see `macforge workload list`) or an ONNX file")
    s.add_argument("--param", "-p", action="append", metavar="K=V",
                   help="a builder parameter (seq=128, phase=prefill, tokens=512, context=4096) "
                        "or, for ONNX, the size of a symbolic input dimension (batch=1)")
    s.add_argument("--bits", type=_bits, default=8, help="bits per element for the byte sizes "
                                                       "(default 8)")
    s.add_argument("--summary", action="store_true", help="totals and per-op sums only")
    s.add_argument("--json", action="store_true", help="nodes, edges and totals as JSON")
    s.set_defaults(func=run)
    return w


def run(args) -> int:
    from macforge.costmodel import workloads
    if args.workload_cmd == "list":
        for n in workloads.names():
            p = ", ".join(f"{k}={v}" for k, v in workloads.params(n).items())
            print(f"{n:<12} {p}")
        return 0
    g = workloads.load(args.target, _parse_params(args.param))
    if args.json:
        print(provenance.dumps(workloads.as_json(g)))
    else:
        print(format_table(g, bits=args.bits, summary=args.summary))
    return 0


def _parse_params(items):
    out = {}
    for it in items or ():
        key, sep, value = it.partition("=")
        if not sep or not key:
            raise UsageError(f"--param must be NAME=VALUE, not {it!r}")
        out[key.strip()] = value.strip()
    return out


def _bits(text):
    try:
        v = int(text)
    except ValueError:
        v = 0
    if not 1 <= v <= 64:
        raise argparse.ArgumentTypeError(f"bits must be an integer 1..64, not {text!r}")
    return v


def _si(n: float) -> str:
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.4g}{suffix}"
    return f"{n:g}"


def _bytes(elems: int, bits: int) -> str:
    n = elems * bits / 8
    for div, suffix in ((2 ** 30, "GiB"), (2 ** 20, "MiB"), (2 ** 10, "KiB")):
        if n >= div:
            return f"{n / div:.3g} {suffix}"
    return f"{n:g} B"


def describe_shape(d: dict) -> str:
    """A short human form of a node's shape ('128x768 @ 768x3072', '64x56x56 -> ... k3 s1')."""
    s, op = d["shape"], d["op"]
    if op in ("matmul", "attn_score", "attn_value"):
        core = f"{s['M']}x{s['K']} @ {s['K']}x{s['N']}"
        return f"{s['B']} x ({core})" if s["B"] != 1 else core
    if op == "conv":
        stride = s["stride"] if not isinstance(s["stride"], list) else "x".join(map(str, s["stride"]))
        g = f" g{s['groups']}" if s["groups"] != 1 else ""
        k = f"{s['kh']}" if s["kh"] == s["kw"] else f"{s['kh']}x{s['kw']}"
        return (f"{s['C_in']}x{s['H']}x{s['W']} -> {s['C_out']}x{s['H_out']}x{s['W_out']} "
                f"k{k} s{stride}{g}")
    if op == "pool" and "kh" in s:
        k = f"{s['kh']}" if s["kh"] == s["kw"] else f"{s['kh']}x{s['kw']}"
        stride = s["stride"] if not isinstance(s["stride"], list) else "x".join(map(str, s["stride"]))
        return (f"{s['C']}x{s['H']}x{s['W']} -> {s['C']}x{s['H_out']}x{s['W_out']} "
                f"k{k} s{stride} {d.get('fn', '')}").rstrip()
    if "rows" in s:
        return f"{s['rows']}x{s['cols']} {d.get('fn', '')}".rstrip()
    if op == "embedding":
        return f"{s['tokens']} of {s['vocab']}x{s['dim']}"
    return f"{s.get('elems', d['act_out_elems'])} {d.get('fn', '')}".rstrip()


def _published(g, macs):
    pub = g.graph.get("published_macs")
    if not pub:
        return g.graph.get("published_note") or "no published figure"
    return (f"published {_si(pub)} ({(macs / pub - 1) * 100:+.2f} %): "
            f"{g.graph.get('published_note', '')}").rstrip(": ")


def format_table(g, bits: int = 8, summary: bool = False) -> str:
    """The workload as text: one line per node (unless ``summary``), per-op sums, totals."""
    from macforge.costmodel.workloads import totals
    t = totals(g)
    p = g.graph.get("params") or {}
    head = f"{g.graph['name']}" + (f" ({', '.join(f'{k}={v}' for k, v in p.items())})" if p else "")
    lines = [head, f"  source: {g.graph['source']}"]
    if not summary:
        rows = [("name", "op", "shape", "K", "MACs", "weights", "act in", "act out")]
        for _, d in g.nodes(data=True):
            rows.append((d["name"], d["op"], describe_shape(d), str(d["K"] or "-"),
                         _si(d["macs"]) if d["macs"] else "-",
                         _si(d["weight_elems"]) if d["weight_elems"] else "-",
                         _si(d["act_in_elems"]), _si(d["act_out_elems"])))
        w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            lines.append("  " + "  ".join(c.ljust(w[i]) if i < 3 else c.rjust(w[i])
                                          for i, c in enumerate(r)).rstrip())
    lines.append("  by op:")
    for op, c in t["by_op"].items():
        share = f" ({c['macs'] / t['macs'] * 100:.1f} %)" if t["macs"] and c["macs"] else ""
        lines.append(f"    {op:<11} {c['count']:>5} nodes  MACs {_si(c['macs']):>8}{share}"
                     f"  weights {_si(c['weight_elems'])}  act out {_si(c['act_out_elems'])}")
    lines.append(f"  total: {t['macs']:,} MACs ({_si(t['macs'])}); {_published(g, t['macs'])}")
    lines.append(f"         weights {t['weight_elems']:,} ({_bytes(t['weight_elems'], bits)} at "
                 f"{bits} bits); activations {t['act_elems']:,} elements "
                 f"({_bytes(t['act_elems'], bits)}); {t['nodes']} nodes")
    return "\n".join(lines)
