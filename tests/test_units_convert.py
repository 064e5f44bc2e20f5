"""``convert``: golden.convert against ml_dtypes casts and the Fraction reference, the Convert
unit (hw) in process against golden.convert, and its Verilog (lint, manifest, errors).

The exhaustive co-simulations of the issue's "done when" (every bf16 input into e4m3 with SR
over every rnd value, 2^24 vectors) run the generated Verilog in the fast harness and are
marked ``slow``.
"""
import re
import sys
from fractions import Fraction
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from macforge import golden, hw
from macforge.golden import FormatError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _reference import MODES, ReferenceUndefined, Val, canon_codes, decode, round_val  # noqa: E402
from _posit_reference import posit_decode, posit_round  # noqa: E402
from test_hw_units import assert_lint_clean, check, elaborated, simulate_stream  # noqa: E402

SEED = 20261202

# ---------------------------------------------------------------------------------------------
# golden.convert
# ---------------------------------------------------------------------------------------------
_ML = {"bf16": ml_dtypes.bfloat16, "fp16": np.float16, "fp32": np.float32,
       "e4m3": ml_dtypes.float8_e4m3fn, "e5m2": ml_dtypes.float8_e5m2,
       "e4m3fnuz": ml_dtypes.float8_e4m3fnuz, "e5m2fnuz": ml_dtypes.float8_e5m2fnuz,
       "e3m2": ml_dtypes.float6_e3m2fn, "e2m3": ml_dtypes.float6_e2m3fn,
       "e2m1": ml_dtypes.float4_e2m1fn}


@pytest.mark.parametrize("src", ["bf16", "fp16"])
@pytest.mark.parametrize("dst", [k for k in _ML if k != "fp32"])
def test_golden_convert_vs_ml_dtypes(src, dst):
    """Every 16-bit source code, RNE: ml_dtypes' cast (through float32, exact for 16-bit
    sources, so one rounding). NaN/inf sources into formats without them are left out (an
    error in golden; ml_dtypes gives an unspecified code)."""
    fi, fo = golden.parse(src), golden.parse(dst)
    codes = fi.codes()
    keep = np.isfinite(fi.decode(codes)) | (fo.has_nan & np.ones(codes.size, bool))
    codes = codes[keep]
    got = golden.convert(codes, fi, fo)
    with np.errstate(invalid="ignore", over="ignore"):
        ref = codes.view(_ML[src]).astype(np.float32).astype(_ML[dst])
    want = np.asarray(ref).view(np.uint8 if fo.bits <= 8 else np.uint16).astype(np.uint64)
    if fo.bits < 8:
        want &= fo.mask
    assert codes.size > 60_000
    check(f"convert {src}->{dst}", canon_codes(fo, got).astype(np.uint64),
          canon_codes(fo, want), {"a": codes})


_FRACTION_CASES = [
    # (source, result, saturate, scale format)
    ("bf16", "e4m3", False, None), ("bf16", "e5m2", True, "e8m0"), ("fp32", "e4m3", True, "int8"),
    ("fp32", "bf16", False, None), ("fp16", "e2m1", True, "e8m0"), ("e4m3", "fp16", False, "int8"),
    ("fp32", "int8", True, None), ("bf16", "int16", False, "e8m0"), ("fp16", "uint8", True, None),
    ("int16", "e4m3", False, None), ("int8", "fp16", True, "int8"), ("e5m2", "e4m3fnuz", True, None),
]


def _sample(fmt, n, rng):
    codes = rng.integers(0, 1 << fmt.bits, size=n, dtype=np.uint64)
    return np.concatenate([fmt.corner_codes().astype(np.uint64), codes]).astype(fmt.dtype)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("src,dst,saturate,scale", _FRACTION_CASES)
def test_golden_convert_vs_fraction(src, dst, saturate, scale, mode):
    """Sampled codes (corners first) in every mode against round_val(decode(x) * 2^k), the
    Fraction reference; integers: NaN -> max_int, +-inf -> the extreme of its sign. NaNs into a
    format without NaN are an error (test_golden_convert_errors) and left out here."""
    rng = np.random.default_rng(SEED)
    fi, fo = golden.parse(src), golden.parse(dst)
    x = _sample(fi, 200, rng)
    n = x.size
    k = np.zeros(n, np.int64)
    nan = np.isnan(fi.decode(x))
    kw = dict(rounding=mode, saturate=saturate)
    if scale is not None:
        fs = golden.parse(scale)
        s = rng.integers(0, 1 << fs.bits, size=n, dtype=np.uint64)
        if fs.family == "minifloat":                    # e8m0: mostly near 1, some extremes
            s = np.where(rng.random(n) < 0.8, rng.integers(110, 145, n), s)
            k, nan = s.astype(np.int64) - 127, nan | (s == 0xFF)
        else:
            k = fs.to_int(s.astype(fs.dtype))
        kw.update(scale=s.astype(fs.dtype), scale_fmt=fs)
    if mode == "sr":
        kw.update(rnd=rng.integers(0, 256, size=n, dtype=np.uint64), rnd_bits=8)
    keep = ~nan if not fo.has_nan and fo.family != "integer" else np.ones(n, bool)
    x, k, nan = x[keep], k[keep], nan[keep]
    kw = {key: (v[keep] if isinstance(v, np.ndarray) else v) for key, v in kw.items()}
    want, ok = [], []
    for i, code in enumerate(x):
        v = decode(fi, int(code))
        if nan[i]:
            v = Val("nan")
        elif v.kind == "num":
            v = Val("num", v.neg, v.mag * Fraction(2) ** int(k[i]))
        rnd = int(kw["rnd"][i]) if mode == "sr" else None
        try:
            if fo.family == "integer" and v.kind != "num":
                lim = fo.min_int if v.kind == "inf" and v.neg else fo.max_int
                want.append(int(fo.from_int(np.array([lim]))[0]))
            else:
                want.append(round_val(fo, v, mode, saturate, rnd, 8, inf_saturates=True))
            ok.append(i)
        except ReferenceUndefined:
            pass
    ok = np.array(ok, np.intp)
    assert ok.size > 150
    got = golden.convert(x, fi, fo, **kw)[ok]
    check(f"convert {src}->{dst} {mode} sat={saturate} scale={scale}", got.astype(np.uint64),
          np.array(want, np.uint64), {"a": x[ok]})


_POSIT_CASES = [
    # (source, result, saturate): posit results and sources, every mode
    ("bf16", "posit8", False), ("fp32", "posit16es1", False), ("posit8", "e4m3", False),
    ("posit8", "e4m3", True), ("posit8", "fp16", False), ("posit8", "int8", True),
    ("posit16es1", "fp32", False), ("posit16es1", "posit8", False), ("e5m2", "posit8es0", False),
]


def _ref_val(fmt, code):
    return posit_decode(fmt, code) if fmt.family == "posit" else decode(fmt, code)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("src,dst,saturate", _POSIT_CASES)
def test_golden_convert_posit_vs_fraction(src, dst, saturate, mode):
    """Casts into and out of posits (8-bit sources: every code; else corners + seeded random)
    against the Fraction references: the encoding rounding of ``_posit_reference`` for posit
    results, round_val for the others (integers: NaR -> max_int, as golden documents)."""
    rng = np.random.default_rng(SEED)
    fi, fo = golden.parse(src), golden.parse(dst)
    x = fi.codes() if fi.bits <= 8 else _sample(fi, 1500, rng)
    rnd = rng.integers(0, 256, size=x.size, dtype=np.uint64) if mode == "sr" else None
    got = golden.convert(x, fi, fo, rounding=mode, saturate=saturate, rnd=rnd,
                         rnd_bits=8 if mode == "sr" else None)
    want, ok = [], []
    for i, code in enumerate(x):
        v, r = _ref_val(fi, int(code)), None if rnd is None else int(rnd[i])
        try:
            if fo.family == "posit":
                want.append(posit_round(fo, v, mode, r, 8))
            elif fo.family == "integer" and v.kind != "num":
                want.append(int(fo.from_int(np.array([fo.max_int]))[0]))
            else:
                want.append(round_val(fo, v, mode, saturate, r, 8, inf_saturates=True))
            ok.append(i)
        except ReferenceUndefined:
            pass
    ok = np.array(ok, np.intp)
    assert ok.size > 250
    check(f"convert {src}->{dst} {mode} sat={saturate}", got[ok].astype(np.uint64),
          np.array(want, np.uint64), {"a": x[ok]})


def test_golden_convert_errors():
    with pytest.raises(FormatError, match=r"^e2m1fn has no NaN; cannot convert the NaN codes "
                                          r"of bf16$"):
        golden.convert(np.array([0x7FC0]), "bf16", "e2m1")
    with pytest.raises(FormatError, match=r"^a conversion scale is an integer exponent "
                                          r"\(int<N>\) or a power of two \(e8m0\), not "
                                          r"e4m3fn$"):
        golden.convert(np.array([0]), "bf16", "e2m1", scale=np.array([0]), scale_fmt="e4m3")


# ---------------------------------------------------------------------------------------------
# hw.Convert, in process against golden.convert
# ---------------------------------------------------------------------------------------------
_HW_CASES = [
    # (source, result, rounding, saturate, scale, stages, random vectors beyond the corners)
    ("e4m3", "fp16", "rne", False, None, 0, 0),          # every e4m3 code
    ("e5m2", "e4m3", "sr", True, None, 1, 0),
    ("bf16", "e4m3", "sr", False, None, 0, 1200),
    ("bf16", "e5m2", "rne", True, "e8m0", 0, 1200),
    ("fp32", "e4m3", "rtz", False, "int8", 2, 1200),
    ("fp32", "bf16", "rdn", False, None, 0, 800),
    ("int8", "e2m1", "rna", True, "int8", 0, 800),
    ("e5m2", "e4m3fnuz", "rne", True, None, 0, 0),
    ("fp32", "int8", "rne", True, None, 0, 1200),
    ("bf16", "uint8", "sr", True, "int8", 0, 1000),
    ("fp16", "int32", "rup", True, None, 0, 800),
    ("int16", "e4m3", "rne", False, None, 0, 800),
    ("int8", "bf16", "rtz", False, "int8", 0, 800),
    ("hif8", "fp16", "rne", False, None, 0, 0),          # every hif8 code
    ("bf16", "hif8", "rne", False, None, 0, 1000),
    ("e4m3", "takum8", "sr", False, None, 0, 0),
    ("fp16", "takum16", "rne", False, "e8m0", 0, 800),
    ("posit8", "e4m3", "sr", False, None, 0, 0),        # every posit8 code
    ("posit8", "int8", "rna", True, None, 1, 0),
    ("posit8", "fp16", "rne", False, "int8", 0, 0),
    ("bf16", "posit8", "rne", False, None, 0, 1200),
    ("bf16", "posit8", "sr", False, "e8m0", 2, 1000),
    ("fp32", "posit16es1", "rdn", False, None, 0, 800),
    ("posit16es1", "fp32", "rtz", False, None, 0, 800),
    ("posit16es1", "posit8", "rup", False, None, 0, 800),
]


@pytest.mark.parametrize("src,dst,rounding,saturate,scale,stages,n", _HW_CASES)
def test_convert_unit(src, dst, rounding, saturate, scale, stages, n):
    """Every code of 8-bit sources, else corners + seeded random codes (and random scales,
    rnd values), code for code against golden.convert."""
    rng = np.random.default_rng(SEED)
    unit = hw.make_unit("convert", src, acc=dst, rounding=rounding, saturate=saturate,
                        stages=stages, scale=scale)
    fi, fo = golden.parse(src), golden.parse(dst)
    a = fi.codes() if fi.bits <= 8 else _sample(fi, n, rng)
    cols = {"a": a}
    kw = dict(rounding=rounding, saturate=saturate)
    if scale is not None:
        fs = golden.parse(scale)
        s = rng.integers(0, 1 << fs.bits, size=a.size, dtype=np.uint64)
        if fs.family == "minifloat":
            s = np.where(rng.random(a.size) < 0.7, rng.integers(118, 137, a.size), s)
        cols["scale"] = s.astype(fs.dtype)
        kw.update(scale=cols["scale"], scale_fmt=fs)
    if rounding == "sr":
        cols["rnd"] = rng.integers(0, 256, size=a.size, dtype=np.uint64)
        kw.update(rnd=cols["rnd"], rnd_bits=8)
    got = simulate_stream(unit, cols)
    check(unit.module_name, got, golden.convert(a, fi, fo, **kw), cols)


def test_convert_verilog_lint_and_manifest(tmp_path):
    text = assert_lint_clean(lambda: hw.make_unit("convert", "fp32", acc="int8", saturate=True,
                                                  scale="e8m0", rounding="sr", stages=1),
                             tmp_path)
    assert "unit convert" in text.splitlines()[3]
    m = elaborated(hw.make_unit("convert", "bf16", acc="e4m3", scale="e8m0")).manifest()
    assert m["module"] == "cvt_bf16_e4m3fn_rne_ke8m0fnu_s0"
    assert m["model"] == "convert" and m["formats"] == {"a": "bf16", "out": "e4m3fn",
                                                        "scale": "e8m0fnu"}
    assert [(p["name"], p["role"]) for p in m["ports"]] == [("a", "operand"), ("scale", "scale"),
                                                           ("y", "result")]


def test_convert_posit_verilog_lint(tmp_path):
    text = assert_lint_clean(lambda: hw.make_unit("convert", "bf16", acc="posit8", rounding="sr",
                                                  scale="e8m0", stages=1), tmp_path)
    assert text.startswith("// cvt_bf16_posit8_sr_r8_ke8m0fnu_s1:")


@pytest.mark.parametrize("kw,msg", [
    (dict(fmt="fp32", acc="int8"), "a cast into int8 saturates: pass saturate (--saturate)"),
    (dict(fmt="bf16"), "unit 'convert' needs the result format as acc (e.g. acc=e4m3); "),
    (dict(fmt="bf16", acc="e2m1"), "e2m1fn has no NaN, so it cannot hold the NaN results that "
                                   "bf16 operands produce"),
    (dict(fmt="bf16", acc="e4m3", scale="e4m3"), "a conversion scale is an integer exponent "
                                                 "(int<N>) or a power of two (e8m0), not "
                                                 "e4m3fn"),
    (dict(fmt="int8", acc="e2m1", scale="e8m0"), "e2m1fn has no NaN, so it cannot hold the "
                                                 "NaN results that e8m0fnu operands produce"),
    (dict(fmt="e4m3", acc="fp32", scale="e8m0", unit="mul"),
     "scale applies to unit 'convert', not 'mul'"),
])
def test_convert_errors(kw, msg):
    kw = dict(kw)
    unit = kw.pop("unit", "convert")
    with pytest.raises(FormatError, match="^" + re.escape(msg)):
        hw.make_unit(unit, **kw)


# ---------------------------------------------------------------------------------------------
# the generated Verilog in the fast harness, exhaustively (make test-full)
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("fmt,acc,rounding,saturate,scale", [
    ("bf16", "e4m3", "sr", False, None),        # 2^16 inputs x 2^8 rnd values
    ("fp16", "e5m2", "sr", True, None),
    ("bf16", "e4m3fnuz", "rne", True, None),
    ("fp16", "int8", "rne", True, None),
    ("e4m3", "bf16", "rne", False, "e8m0"),     # 2^8 codes x 2^8 scales
])
def test_convert_exhaustive_cosim(tmp_path, fmt, acc, rounding, saturate, scale):
    from macforge.sim.runner import SimSpec, run
    res = run(SimSpec(format=fmt, unit="convert", acc=acc, rounding=rounding, saturate=saturate,
                      scale=scale, mode="fast", build_root=str(tmp_path), quiet=True))
    assert res.ok and res.vectors >= 1 << 16, res.summary


@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("fmt,acc,rounding,saturate,vectors", [
    ("bf16", "posit8", "rne", False, 1 << 16),   # every bf16 code
    ("bf16", "posit8", "sr", False, 1 << 24),    # x every rnd value
    ("posit8", "e4m3", "rne", False, 1 << 8),    # every posit8 code
    ("posit8", "e4m3", "sr", False, 1 << 16),
    ("posit8", "fp16", "rne", False, 1 << 8),
    ("posit8", "int8", "rne", True, 1 << 8),
    ("posit16es1", "fp32", "rne", False, 1 << 16),
])
def test_convert_posit_exhaustive_cosim(tmp_path, fmt, acc, rounding, saturate, vectors):
    from macforge.sim.runner import SimSpec, run
    res = run(SimSpec(format=fmt, unit="convert", acc=acc, rounding=rounding, saturate=saturate,
                      mode="fast", build_root=str(tmp_path), quiet=True))
    assert res.ok and res.vectors == vectors, res.summary
