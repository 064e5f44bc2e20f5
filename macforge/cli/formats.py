"""``macforge formats``: the table of number formats."""
from __future__ import annotations

import json

__all__ = ["add_parser", "run"]


def add_parser(sub):
    f = sub.add_parser("formats", help="table of number formats")
    f.add_argument("names", nargs="*", help="formats to show (default: the docs/formats.md table)")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=run)
    return f


def run(args) -> int:
    from macforge import golden
    names = args.names or golden.known_names()
    rows = []
    nans = []          # the canonical NaN code: what macforge's units and `sim` expect
    for n in names:
        f = golden.parse(n)
        code = getattr(f, "nan_code", None) if getattr(f, "has_nan", False) else None
        nans.append("-" if code is None else f"0x{int(code):0{(f.bits + 3) // 4}x}")
        if isinstance(f, golden.Int):
            rows.append((n, f.name, f.bits, f"{f.min_int}", f"{f.max_int}", "-", "integer"))
        elif hasattr(f, "bias"):
            rows.append((n, f.name, f.bits, f"{f.min_subnormal:.4g}", f"{f.max:.6g}",
                         f"{f.bias}", f.describe()))
        else:                   # posit, LNS: no bias; smallest positive value instead
            rows.append((n, f.name, f.bits, f"{f.min_positive:.4g}", f"{f.max:.6g}", "-",
                         f"{f.family}: {f.describe()}"))
    rows = [r[:6] + (nan,) + r[6:] for r, nan in zip(rows, nans)]
    if args.json:
        keys = ("name", "canonical", "bits", "min_positive_or_min", "max", "bias", "nan",
                "specials")
        print(json.dumps([dict(zip(keys, r)) for r in rows], indent=1))
        return 0
    hdr = ("name", "canonical", "bits", "min (subnormal)", "max finite", "bias", "NaN code",
           "specials")
    widths = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*hdr))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(*map(str, r)))
    print("\nAlso accepted: any e<E>m<M>[b<bias>][fn|fnuz|ieee] (E 1..11, M 0..52), int<N>/uint<N> "
          "(N 2..32), posit<N>[es<K>] (N 3..32, K 0..4), lns<N>f<F>, and every ml_dtypes float "
          "name (float8_e4m3fn, ...).")
    return 0
