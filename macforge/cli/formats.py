"""``macforge formats``: the table of number formats.

``--json`` gives one typed record per format (:func:`record`): integers as JSON integers,
field widths, specials and NaN/inf codes, and every characteristic value exactly, as
``{"value": <float64>, "hex": "0x1p-9", "fraction": "1/512"}`` (``fraction`` is the exact
rational; ``hex`` the C99 hex float, exact too; ``value`` the same number as a JSON number,
exact because every value listed is a float64: LNS values are irrational, so there
``"exact": false`` and ``fraction`` is the float64's).
"""
from __future__ import annotations

from fractions import Fraction

from macforge import provenance

__all__ = ["add_parser", "run", "record", "exact_value"]


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
        print(provenance.dumps({"formats": [record(n, golden.parse(n)) for n in names]},
                               exact=True))
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


def exact_value(x: float, exact: bool = True) -> dict:
    """``{"value", "hex", "fraction"}`` of a float64 (``0.001953125`` -> ``"0x1p-9"``,
    ``"1/512"``); None for a value the format does not have."""
    if x is None:
        return None
    x = float(x)
    mant, _, exp = x.hex().partition("p")
    mant = mant.rstrip("0").rstrip(".")
    rec = {"value": x, "hex": f"{mant}p{exp}", "fraction": str(Fraction(x))}
    if not exact:
        rec["exact"] = False
    return rec


def record(name: str, f) -> dict:
    """The typed JSON record of format ``f`` (asked for as ``name``)."""
    from macforge import golden
    rec = {"name": name, "canonical": f.name, "family": f.family, "bits": int(f.bits),
           "description": f.describe()}
    if isinstance(f, golden.BlockFormat):
        rec.update(block=int(f.block), element=record(f.element.name, f.element),
                   scale=record(f.scale.name, f.scale), tensor_scale=bool(f.tensor_scale),
                   max=exact_value(f.max), min_positive=exact_value(f.min_positive))
        return rec
    rec["signed"] = bool(f.signed)
    if isinstance(f, golden.Int):
        rec.update(fields={"sign": int(f.signed), "magnitude": int(f.bits - f.signed)},
                   min=int(f.min_int), max=int(f.max_int))
        return rec
    if hasattr(f, "layout"):                       # fixed fields: minifloats
        rec["fields"] = {k: int(v) for k, v in reversed(f.layout().members.items())}
        rec["bias"] = int(f.bias)
        rec["specials"] = f.specials.name.lower()
        rec["subnormals"] = bool(f.subnormals)
    for k in ("es", "frac"):                       # posit es, LNS fraction bits
        if hasattr(f, k):
            rec[k] = int(getattr(f, k))
    exact = not isinstance(f, golden.Lns)          # 2^(L/2^F) is irrational
    rec.update(has_inf=bool(f.has_inf), has_nan=bool(f.has_nan),
               has_negative_zero=bool(f.has_negative_zero),
               has_zero=bool(getattr(f, "has_zero", True)))
    rec["nan_code"] = int(f.nan_code) if f.has_nan else None
    rec["inf_code"] = int(f.inf_code) if f.has_inf and hasattr(f, "inf_code") else None
    if f.bits <= 8:                                # every NaN pattern (fp16 has 2046)
        codes = f.codes()
        rec["nan_codes"] = [int(c) for c in codes[f.is_nan(codes)]] if f.has_nan else []
    rec["max"] = exact_value(f.max, exact)
    for k in ("min_normal", "min_subnormal", "min_positive"):
        if hasattr(f, k):
            rec[k] = exact_value(getattr(f, k), exact)
    return rec
