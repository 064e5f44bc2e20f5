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
    ("bf16", "e2m1", False, None), ("fp32", "e3m2", False, "e8m0"),
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
    Fraction reference; integers: NaN -> max_int, +-inf -> the extreme of its sign; the
    minifloats without NaN (FP6/FP4): NaN -> +max (a NaN source or scale)."""
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
            elif v.kind == "nan" and not fo.has_nan:
                want.append(int(fo.max_code))
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


def test_golden_convert_nan_into_fp4_fp6():
    """A format without NaN (OCP FP4/FP6) takes a NaN source or NaN scale as +max, like an
    integer or LNS cast; +-inf clamps to +-max of its sign. (ml_dtypes gives -0 for NaN.)"""
    bf16 = golden.parse("bf16")
    x = bf16.encode(np.array([np.nan, -np.nan, np.inf, -np.inf, 1.0]))
    for out, top in (("e2m1", 6.0), ("e2m3", 7.5), ("e3m2", 28.0)):
        fo = golden.parse(out)
        assert list(fo.decode(golden.convert(x, bf16, fo))) == [top, top, top, -top, 1.0]
        for mode in MODES:
            y = golden.convert(x[:1], bf16, fo, rounding=mode, saturate=mode == "rtz",
                               rnd=np.array([255]), rnd_bits=8)
            assert int(y[0]) == fo.max_code
    y = golden.convert(bf16.encode(np.array([1.0])), bf16, "e2m1", scale=np.array([0xFF]))
    assert int(y[0]) == golden.parse("e2m1").max_code             # NaN scale


def test_golden_convert_errors():
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
    (dict(fmt="bf16", acc="e4m3", scale="e4m3"), "a conversion scale is an integer exponent "
                                                 "(int<N>) or a power of two (e8m0), not "
                                                 "e4m3fn"),
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


# ---------------------------------------------------------------------------------------------
# casts into LNS: the nearest log code of the exact value (golden.Lns.round_triple, hw LnsRound)
# ---------------------------------------------------------------------------------------------
_LNS = ["lns8", "lns6f2", "lns12f6"]          # every LNS name of the registry


@pytest.mark.parametrize("src", ["bf16", "fp16"])
@pytest.mark.parametrize("dst", _LNS)
def test_golden_convert_lns_vs_encode(src, dst):
    """Every bf16 / fp16 code (float64-exact): the cast is Lns.encode of the decoded value;
    NaN codes give +max (LNS has no NaN)."""
    fi, fo = golden.parse(src), golden.parse(dst)
    codes = fi.codes()
    v = fi.decode(codes)
    nan = np.isnan(v)
    got = golden.convert(codes, fi, fo)
    np.testing.assert_array_equal(got[~nan], fo.encode(v[~nan]))
    assert nan.any() and (got[nan] == fo.max_code).all()
    np.testing.assert_array_equal(golden.convert(codes, fi, fo, rounding="rna"), got)


def _root_floor(x: int, k: int) -> int:
    """floor(x^(1/k)) by bisection on integers (independent of golden's square roots)."""
    lo, hi = 0, 1 << (x.bit_length() // k + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if mid ** k <= x else (lo, mid)
    return lo


def _lns_reference(fo, sign: int, Y: int, p: int, q: int) -> int:
    """Code of (-1)^sign * (Y / 2^(p-1)) * 2^q, Y of p bits, decided with integer powers:
    y >= 2^((2j+1)/2^(F+1)) iff Y^k >= 2^((2j+1) + (p-1)k), k = 2^(F+1)."""
    F, k = fo.frac, 1 << (fo.frac + 1)
    c = sum(Y ** k >= 1 << (2 * j + 1 + (p - 1) * k) for j in range(1 << F))
    L = (q << F) + c
    if L > fo.L_max:
        L = fo.L_max
    if L < fo.L_min + 1:
        L = fo.L_min
    return (sign << (fo.n - 1)) | (L & ((1 << (fo.n - 1)) - 1))


def _boundary_neighbours(fi, fo, rng, per_j=2):
    """Source codes just below and just above B_j * 2^q (both signs, seeded exponents q from
    the zero threshold to beyond L_max), with the reference codes."""
    p = fi.precision
    k = 1 << (fo.frac + 1)
    q_lo, q_hi = (fo.L_min >> fo.frac) - 1, (fo.L_max >> fo.frac) + 1
    codes, want = [], []
    for j in range(1 << fo.frac):
        below = _root_floor(1 << (2 * j + 1 + (p - 1) * k), k)       # the largest Y < B_j
        for Y in (below, below + 1):
            if Y >= 1 << p:                                          # B_j rounds to 2 at p bits
                continue
            qs = {q_lo, q_hi, 0, *rng.integers(q_lo, q_hi + 1, per_j).tolist()}
            for q in qs:
                for sign in (0, 1):
                    x = Fraction((-1) ** sign * Y, 1 << (p - 1)) * Fraction(2) ** q
                    code = int(fi.encode(float(x)))
                    assert Fraction(*float(fi.decode(code)).as_integer_ratio()) == x
                    codes.append(code)
                    want.append(_lns_reference(fo, sign, Y, p, q))
    return np.array(codes, np.uint64).astype(fi.dtype), np.array(want, np.uint64)


@pytest.mark.parametrize("src,dst", [("fp32", "lns8"), ("fp32", "lns12f6"), ("bf16", "lns12f6"),
                                     ("fp16", "lns6f2"), ("e11m52", "lns12f6")])
def test_golden_convert_lns_boundaries(src, dst):
    """Values just below / above each boundary B_j * 2^q representable in the source, against
    integer powers (no logarithms, no golden bound machinery)."""
    fi, fo = golden.parse(src), golden.parse(dst)
    codes, want = _boundary_neighbours(fi, fo, np.random.default_rng(SEED))
    check(f"convert {src}->{dst} boundaries", golden.convert(codes, fi, fo).astype(np.uint64),
          want, {"a": codes})


def test_golden_convert_lns_integers_scale_and_specials():
    """Integer and posit sources, a scale (exact exponent add), +-inf and NaN scales."""
    fo = golden.parse("lns8")
    i16 = golden.parse("int16")
    x = i16.codes()
    v = i16.to_int(x).astype(np.float64)
    np.testing.assert_array_equal(golden.convert(x, i16, fo), fo.encode(v))
    s = np.array([127 - 40, 127, 127 + 9, 0xFF] * 4, np.uint8)
    a = golden.parse("bf16").encode(np.array([3.0, -3.0, np.inf, -np.inf] * 4))
    got = golden.convert(a, "bf16", fo, scale=s)
    vals = np.array([3.0, -3.0, np.inf, -np.inf] * 4) * np.ldexp(1.0, s.astype(int) - 127)
    ok = s != 0xFF
    np.testing.assert_array_equal(got[ok], fo.encode(vals[ok]))
    assert (got[~ok] == fo.max_code).all()                     # a NaN scale: +max
    p16 = golden.parse("posit16")
    pc = p16.codes()
    pv = p16.decode(pc)
    fin = np.isfinite(pv)
    np.testing.assert_array_equal(golden.convert(pc, p16, "lns12f6")[fin],
                                  golden.parse("lns12f6").encode(pv[fin]))


def test_golden_convert_lns_errors():
    with pytest.raises(FormatError, match=r"^lns8f3 rounds to the nearest log code only \(rne or "
                                          r"rna\); rounding 'rtz' is not defined for LNS$"):
        golden.convert(np.array([0]), "bf16", "lns8", rounding="rtz")
    with pytest.raises(FormatError, match=r"^lns8f3 values 2\^\(L/2\^F\) are irrational"):
        golden.convert(np.array([0]), "lns8", "bf16")


_LNS_HW_CASES = [
    # (source, result, rounding, scale, stages, random vectors beyond the corners)
    ("e4m3", "lns8", "rne", None, 0, 0),             # every e4m3 code
    ("e5m2", "lns6f2", "rna", "e8m0", 1, 0),         # every e5m2 code, random scales
    ("bf16", "lns8", "rne", None, 0, 1200),
    ("fp16", "lns12f6", "rne", "int8", 2, 1000),
    ("fp32", "lns12f6", "rne", None, 0, 1200),
    ("int16", "lns8", "rne", None, 0, 800),
    ("posit16", "lns12f6", "rna", None, 0, 800),
    ("takum16", "lns8", "rne", "e8m0", 0, 800),
    ("hif8", "lns8", "rne", None, 0, 0),             # every hif8 code
    ("int32", "lns6f2", "rne", None, 0, 600),
    ("e11m52", "lns12f6", "rne", "int8", 1, 600),    # 53-bit significands reach LnsRound exactly
    ("fp32", "lns16f8", "rne", None, 0, 1200),       # an 8-step boundary search
    ("e5m2", "lns4f1", "rna", None, 0, 0),
]


@pytest.mark.parametrize("src,dst,rounding,scale,stages,n", _LNS_HW_CASES)
def test_convert_unit_lns(src, dst, rounding, scale, stages, n):
    """hw.Convert into LNS code for code against golden.convert (as test_convert_unit)."""
    test_convert_unit(src, dst, rounding, False, scale, stages, n)


@pytest.mark.parametrize("src,dst", [("fp32", "lns12f6"), ("bf16", "lns8"), ("int16", "lns6f2")])
def test_convert_unit_lns_boundaries(src, dst):
    """The hardware at the boundary neighbours, against the integer-power reference."""
    fi = golden.parse(src)
    codes, want = _boundary_neighbours(fi, golden.parse(dst), np.random.default_rng(SEED), 1) \
        if fi.family != "integer" else (fi.codes(), golden.convert(fi.codes(), fi, dst))
    unit = hw.make_unit("convert", src, acc=dst)
    check(unit.module_name, simulate_stream(unit, {"a": codes}), want, {"a": codes})


def test_convert_lns_verilog_lint(tmp_path):
    text = assert_lint_clean(lambda: hw.make_unit("convert", "fp32", acc="lns12f6",
                                                  scale="e8m0", stages=1), tmp_path)
    assert text.startswith("// cvt_fp32_lns12f6_rne_ke8m0fnu_s1:")
    assert_lint_clean(lambda: hw.make_unit("convert", "bf16", acc="lns8"), tmp_path)


@pytest.mark.parametrize("kw,msg", [
    (dict(fmt="bf16", acc="lns8", rounding="rtz"),
     "lns8f3 rounds to the nearest log code only (rne or rna); rounding 'rtz' is not defined"),
    (dict(fmt="bf16", acc="lns8", rounding="sr"),
     "lns8f3 rounds to the nearest log code only (rne or rna); rounding 'sr' is not defined"),
    (dict(fmt="lns8", acc="bf16"), "unit 'convert' does not take lns8f3 sources; accepted for "
                                   "lns8f3 (lns format): mul"),
])
def test_convert_lns_errors(kw, msg):
    test_convert_errors(kw, msg)


def test_convert_lns_source_names_the_result_use():
    with pytest.raises(FormatError, match=r"; lns8f3 is a cast result \(--unit convert --acc "
                                          r"lns8f3\)$"):
        hw.make_unit("convert", "lns8", acc="bf16")


@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("fmt,acc,scale,vectors", [
    ("bf16", "lns8", None, 1 << 16),             # every bf16 code
    ("fp16", "lns8", None, 1 << 16),
    ("fp16", "lns12f6", None, 1 << 16),
    ("e4m3", "lns8", "e8m0", 1 << 16),           # every e4m3 code x every scale
])
def test_convert_lns_exhaustive_cosim(tmp_path, fmt, acc, scale, vectors):
    from macforge.sim.runner import SimSpec, run
    res = run(SimSpec(format=fmt, unit="convert", acc=acc, scale=scale, mode="fast",
                      build_root=str(tmp_path), quiet=True))
    assert res.ok and res.vectors == vectors, res.summary


@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("rounding", ["rne", "rtz", "rna", "rup", "rdn", "sr"])
@pytest.mark.parametrize("acc", ["e4m3", "e5m2", "e2m1", "int8", "posit8"])
@pytest.mark.parametrize("fmt", ["bf16", "fp16"])
def test_convert_16bit_sources_every_mode_exhaustive(tmp_path, fmt, acc, rounding):
    """Issue 19's matrix: every bf16/fp16 code into e4m3, e5m2, e2m1 (NaN -> +max), int8
    (saturating) and posit8 in every mode; SR over every 8-bit rnd value for every code (2^24
    vectors)."""
    from macforge.sim.runner import SimSpec, run
    res = run(SimSpec(format=fmt, unit="convert", acc=acc, rounding=rounding,
                      saturate=acc == "int8", mode="fast", build_root=str(tmp_path), quiet=True))
    assert res.ok and res.vectors == (1 << 24 if rounding == "sr" else 1 << 16), res.summary


@pytest.mark.rtl
@pytest.mark.parametrize("fmt,acc,rounding,scale", [
    ("bf16", "e2m1", "rne", None),               # every bf16 code: NaN -> +max, +-inf -> +-max
    ("fp16", "e3m2", "rdn", "e8m0"),             # sampled, with NaN scales among the corners
])
def test_convert_into_fp4_fp6_cosim(tmp_path, fmt, acc, rounding, scale):
    """Casts of NaN-capable sources into the OCP FP4/FP6 formats (no NaN, no inf) build and
    match golden in the generated Verilog (CI; the whole mode matrix is under make test-full)."""
    from macforge.sim.runner import SimSpec, run
    res = run(SimSpec(format=fmt, unit="convert", acc=acc, rounding=rounding, scale=scale,
                      mode="fast", build_root=str(tmp_path), quiet=True, n=20000))
    assert res.ok and res.vectors >= 1 << 16, res.summary
