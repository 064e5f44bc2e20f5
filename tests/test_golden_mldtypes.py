"""Golden model vs ml_dtypes (and vs the exact Fraction reference in tests/_reference.py).

Exhaustive for the <= 8-bit ml_dtypes float types: decode of every code, mul of every code
pair; encode on a directed + random value set that contains every value, every midpoint
between neighbours (and its float32 neighbours), overflow ties, subnormals, +-0, +-inf, NaN.

Known ml_dtypes behaviours (docs/formats.md "Known ml_dtypes behaviours") and our exclusions:

* ml_dtypes casts float64 -> float8/6/4 and -> bfloat16 *through float32* (a double rounding:
  1 + 2^-4 + 2^-40 casts to 1.0 in float8_e4m3fn). So ml_dtypes is only the reference for
  float64 inputs that are exactly float32; all other inputs are checked against the Fraction
  reference instead. numpy's float64 -> float16 cast rounds directly and is used as is.
* FP6/FP4 casts send NaN to -0; ours raises (no NaN in the format): NaN is removed from the
  ml_dtypes comparison and checked to raise separately.
* float8_e8m0fnu: ml_dtypes rounds ties between powers of two upward (3 -> 4, 0.75 -> 1), but
  the contract's rne is ties to the even code; ties are compared with the Fraction reference
  only (test_e8m0_rne_ties). ml_dtypes also mis-rounds float32-subnormal inputs
  (1.4 * 2^-127 -> 2^-126), so inputs below 2^-126 are excluded; 0 and negatives are outside
  an unsigned no-zero format (ml_dtypes gives NaN; the contract leaves them undefined).
* fn/fnuz overflow and inf -> NaN, fnuz -0 -> +0, FP6/FP4 saturation: our contract agrees with
  ml_dtypes there, so those cases are compared, not excluded.
"""
from __future__ import annotations

import bisect
import functools
import math
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from macforge import golden
import _reference as ref

ML_TYPES = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e3m4",
            "float8_e4m3", "float8_e4m3b11fnuz", "float6_e2m3fn", "float6_e3m2fn",
            "float4_e2m1fn", "float8_e8m0fnu"]


def ml_bits(name: str) -> int:
    return int(name[5])            # float8_ / float6_ / float4_


def all_codes(name):
    return np.arange(1 << ml_bits(name), dtype=np.uint8)


def ml_decode(name, codes):
    mask = np.uint8((1 << ml_bits(name)) - 1)
    return (np.asarray(codes, np.uint8) & mask).view(getattr(ml_dtypes, name)).astype(np.float64)


def ml_encode(name, x):
    mask = np.uint8((1 << ml_bits(name)) - 1)
    return np.asarray(x, np.float64).astype(getattr(ml_dtypes, name)).view(np.uint8) & mask


def same_float(a, b):
    """Bitwise-equal float64 arrays, any NaN equal to any NaN (so -0 != +0)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    return both_nan | (a.view(np.int64) == b.view(np.int64))


@functools.lru_cache(maxsize=None)
def fmt_of(name):
    return golden.parse(name)


# ------------------------------------------------------------------------------------------
# decode
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ML_TYPES)
def test_parse_ml_name_semantics(name):
    """The ml_dtypes name parses to a format of the same width and the same max (finfo)."""
    f = fmt_of(name)
    fi = ml_dtypes.finfo(getattr(ml_dtypes, name))
    assert f.bits == ml_bits(name), (name, f.name, f.bits)
    assert float(f.max) == float(fi.max), (name, f.name, f.max, float(fi.max))


@pytest.mark.parametrize("name", ML_TYPES)
def test_decode_exhaustive(name):
    f = fmt_of(name)
    codes = all_codes(name)
    got = f.decode(codes)
    want = ml_decode(name, codes)
    ok = same_float(got, want)
    assert codes.size > 0
    assert ok.all(), f"{name} ({f.name}) decode vs ml_dtypes: " + ref.hexrows(
        {"code": codes, "ml_dtypes": want, "got": got}, np.flatnonzero(~ok))


@pytest.mark.parametrize("name", ML_TYPES)
def test_reference_decode_matches_ml_dtypes(name):
    """Validates tests/_reference.py itself (independent of golden's decode)."""
    f = fmt_of(name)
    codes = all_codes(name)
    r = np.array([ref.to_float(ref.decode(f, int(c))) for c in codes])
    ok = same_float(r, ml_decode(name, codes))
    assert codes.size > 0 and ok.all(), ref.hexrows({"code": codes, "ref": r}, np.flatnonzero(~ok))


# ------------------------------------------------------------------------------------------
# encode
# ------------------------------------------------------------------------------------------
def value_set(name, seed=0, n_rand=4000):
    """(float32-exact float64 values, other float64 values) for encode tests of ``name``."""
    rng = np.random.default_rng(seed)
    f = fmt_of(name)
    s = ref.spec_of(f)
    vals = ml_decode(name, all_codes(name))
    mags = np.unique(np.abs(vals[np.isfinite(vals)]))
    top = float(mags[-1])
    nxt = top + 2.0 ** (math.floor(math.log2(top)) - s.M)       # next grid point (unbounded)
    mags = np.append(mags, nxt)
    if s.subnormals:
        mags = np.union1d(mags, [0.0])
    mids = (mags[:-1] + mags[1:]) / 2                             # exact in float64
    m32 = mids.astype(np.float32)
    assert (m32.astype(np.float64) == mids).all()
    near = np.concatenate([np.nextafter(m32, np.float32(np.inf)), np.nextafter(m32, np.float32(0)),
                           np.nextafter(mags.astype(np.float32), np.float32(np.inf))])
    lo = math.log2(float(mags[mags > 0][0])) - 3
    hi = math.log2(nxt) + 3
    with np.errstate(over="ignore"):
        rand = (2.0 ** rng.uniform(lo, hi, n_rand)).astype(np.float32)
    special = np.array([0.0, np.inf, 3.0e38, 1.0e-45, 2.0 ** -149], np.float32)
    pos32 = np.concatenate([mags, mids, near, rand, special]).astype(np.float32)
    x32 = np.concatenate([pos32, -pos32, [np.nan]]).astype(np.float64)
    # Not float32-exact: a hair either side of every midpoint (relative 2^-40).
    other = np.concatenate([mids[mids > 0] * (1 + 2.0 ** -40), mids[mids > 0] * (1 - 2.0 ** -40)])
    other = np.concatenate([other, -other])
    assert (other.astype(np.float32).astype(np.float64) != other).all()
    return x32, other


def ml_comparable(name, x):
    """Mask of inputs where ml_dtypes' cast is the reference (see the module docstring)."""
    f = fmt_of(name)
    s = ref.spec_of(f)
    keep = np.ones(x.shape, bool)
    if not s.has_nan:
        keep &= ~np.isnan(x)              # FP6/FP4: ml_dtypes gives -0, ours raises
    if name == "float8_e8m0fnu":
        fin = np.isfinite(x)
        keep &= ~fin | (x >= 2.0 ** -126)  # no zero/negatives; ml_dtypes subnormal-input bug
        with np.errstate(divide="ignore", invalid="ignore"):
            m, _ = np.frexp(np.where(fin & (x > 0), x, 1.0))
        keep &= ~(fin & (m == 0.75))       # ties between powers of two: see test_e8m0_rne_ties
        keep &= ~(np.isinf(x) & (x < 0))   # -inf into an unsigned format: undefined
    return keep


@pytest.mark.parametrize("name", ML_TYPES)
def test_encode_vs_ml_dtypes(name):
    f = fmt_of(name)
    x32, _ = value_set(name)
    x = x32[ml_comparable(name, x32)]
    got = f.encode(x)
    want = ml_encode(name, x)
    n = ref.check_codes(f, got, want, {"x": x}, f"{name} encode(rne) vs ml_dtypes")
    ref.check_nan_sign(f, got, f"{name} encode")
    assert n > 500


def _ref_encode_array(f, xs, mode="rne", saturate=False, rnd=None, R=None):
    out = np.empty(len(xs), np.int64)
    for i, x in enumerate(xs):
        out[i] = ref.encode(f, float(x), mode, saturate, None if rnd is None else int(rnd[i]), R)
    return out


def ref_comparable(name, x):
    """Inputs the contract defines for encode into ``name``."""
    s = ref.spec_of(fmt_of(name))
    keep = np.ones(x.shape, bool)
    if not s.has_nan:
        keep &= ~np.isnan(x)
    if not s.has_zero:                     # e8m0: unsigned, no zero, nothing below 2^-127
        with np.errstate(invalid="ignore"):
            keep &= np.isnan(x) | (x >= 2.0 ** -127)
    return keep


@pytest.mark.parametrize("saturate", [False, True], ids=["nosat", "sat"])
@pytest.mark.parametrize("mode", ref.MODES)
@pytest.mark.parametrize("name", ML_TYPES)
def test_encode_vs_reference(name, mode, saturate):
    """Every rounding mode (sr with uniform uint8 rnd) and saturate, vs the Fraction reference,
    including the inputs that are not float32-exact. Under saturate=True an infinite *input* may
    clamp to +-max or stay as the non-saturating result: the contract only defines saturation of
    finite results; either is accepted here (reported)."""
    f = fmt_of(name)
    x32, other = value_set(name, seed=1, n_rand=400)
    x = np.concatenate([x32, other])
    x = x[ref_comparable(name, x)]
    if name == "float8_e8m0fnu" and mode == "rne":
        # Ties are pinned in test_e8m0_rne_ties (separately, as the contract is terse there).
        m, _ = np.frexp(np.where(np.isfinite(x), x, 1.0))
        x = x[~(np.isfinite(x) & (m == 0.75))]
    rng = np.random.default_rng(2)
    rnd = rng.integers(0, 256, x.size).astype(np.uint8) if mode == "sr" else None
    got = f.encode(x, rounding=mode, saturate=saturate, rnd=rnd)
    want = _ref_encode_array(f, x, mode, saturate, rnd, 8 if rnd is not None else None)
    R = 8 if rnd is not None else None
    extra = None
    if saturate:
        alt = np.array([ref.encode(f, float(v), mode, True, None if rnd is None else int(rnd[i]),
                                   R, inf_saturates=True) if np.isinf(v) else want[i]
                        for i, v in enumerate(x)])
        extra = np.isinf(x) & (ref.canon_codes(f, got) == ref.canon_codes(f, alt))
    cols = {"x": x}
    if rnd is not None:
        cols["rnd"] = rnd
    n = ref.check_codes(f, got, want, cols, f"{name} encode({mode}, saturate={saturate}) vs "
                        "Fraction reference", extra_ok=extra)
    ref.check_nan_sign(f, got, f"{name} encode")
    assert n > 500


def test_e8m0_rne_ties():
    """e8m0 (M = 0): a value 1.5 * 2^k is a tie between 2^k and 2^(k+1); rne picks the even
    *code* (exponent field) -- the only meaning "even" has when every significand is 1.
    ml_dtypes rounds these ties up instead (known difference, not compared)."""
    f = fmt_of("float8_e8m0fnu")
    k = np.arange(-127, 127)
    x = 1.5 * 2.0 ** k
    got = f.encode(x)
    want = np.array([ref.encode(f, float(v)) for v in x])
    ref.check_codes(f, got, want, {"x": x}, "e8m0 rne ties (even code) vs Fraction reference")


@pytest.mark.parametrize("name", [n for n in ML_TYPES if not ref.spec_of(golden.parse(n)).has_nan])
def test_encode_nan_into_format_without_nan_raises(name):
    f = fmt_of(name)
    with pytest.raises(ValueError):
        f.encode(np.array([1.0, np.nan]))


@pytest.mark.parametrize("name", ML_TYPES)
def test_reference_encode_matches_ml_dtypes(name):
    """Validates tests/_reference.py's rne rounding against ml_dtypes (float32-exact inputs)."""
    f = fmt_of(name)
    x32, _ = value_set(name, seed=6, n_rand=400)
    x = x32[ml_comparable(name, x32)]
    r = _ref_encode_array(f, x)
    ref.check_codes(f, r, ml_encode(name, x), {"x": x}, f"reference encode vs ml_dtypes {name}")


# ------------------------------------------------------------------------------------------
# mul, all code pairs
# ------------------------------------------------------------------------------------------
def all_pairs(name):
    c = all_codes(name)
    a, b = np.meshgrid(c, c, indexing="ij")
    return a.ravel(), b.ravel()


@pytest.mark.parametrize("name", ML_TYPES)
def test_mul_all_pairs_vs_ml_dtypes(name):
    """rne, non-saturating: golden.mul == ml_dtypes cast of the float64 product (exact for
    <= 8-bit operands, and exactly float32 too, so ml_dtypes' float32 detour is harmless)."""
    f = fmt_of(name)
    a, b = all_pairs(name)
    p = ml_decode(name, a) * ml_decode(name, b)
    with np.errstate(over="ignore"):
        p32 = p.astype(np.float32).astype(np.float64)
    fin = np.isfinite(p)
    in32 = fin & (np.abs(p) < 3e38) & ((np.abs(p) >= 2.0 ** -126) | (p == 0))
    assert (p32[in32] == p[in32]).all()      # no float32 double rounding for these products
    keep = np.ones(p.shape, bool)
    if name == "float8_e8m0fnu":
        keep &= ~(fin & (p < 2.0 ** -127))     # below the smallest e8m0: undefined (no zero)
    a, b, p = a[keep], b[keep], p[keep]
    with np.errstate(over="ignore"):
        want = ml_encode(name, p)
    got = golden.mul(a, b, f, f)
    n = ref.check_codes(f, got, want, {"a": a, "b": b}, f"{name} mul(rne) vs ml_dtypes")
    ref.check_nan_sign(f, got, f"{name} mul")
    assert n >= (1 << (2 * ml_bits(name))) * 0.4


def _ref_mul_array(name, a, b, mode, saturate, rnd=None, R=None, inf_saturates=False):
    """Reference codes of round(a*b). For <= 8-bit operands the float64 product is the exact
    product (<= 10 significant bits, exponents far inside float64), so it is used as a key to
    round each distinct exact value once, with the Fraction reference."""
    f = fmt_of(name)
    p = ml_decode(name, a) * ml_decode(name, b)
    key = np.where(np.isnan(p), np.nan, p).view(np.int64)
    if rnd is not None:
        key = np.stack([key, np.asarray(rnd, np.int64)], axis=1)
        uniq, inv = np.unique(key, axis=0, return_inverse=True)
        vals = [ref.round_val(f, ref.from_float(float(np.int64(k).view(np.float64))), mode,
                              saturate, int(r), R, inf_saturates=inf_saturates) for k, r in uniq]
    else:
        uniq, inv = np.unique(key, return_inverse=True)
        vals = [ref.round_val(f, ref.from_float(float(np.int64(k).view(np.float64))), mode,
                              saturate, None, None, inf_saturates=inf_saturates) for k in uniq]
    return np.asarray(vals, np.int64)[inv.ravel()]


def test_float64_product_is_the_exact_product():
    """Justifies the float64 key in _ref_mul_array (checked with Fraction arithmetic)."""
    n = 0
    for name in ML_TYPES:
        f = fmt_of(name)
        a, b = all_pairs(name)
        idx = np.random.default_rng(5).choice(a.size, min(a.size, 2000), replace=False)
        p = ml_decode(name, a[idx]) * ml_decode(name, b[idx])
        for i, j in enumerate(idx):
            v = ref.mul_val(ref.decode(f, int(a[j])), ref.decode(f, int(b[j])))
            w = ref.from_float(float(p[i]))
            assert v == w, (name, hex(a[j]), hex(b[j]), v, w)
            n += 1
    assert n > 0


def _mul_ref_defined(name, a, b):
    f = fmt_of(name)
    s = ref.spec_of(f)
    if s.has_zero:
        return np.ones(a.shape, bool)
    p = ml_decode(name, a) * ml_decode(name, b)
    return ~(np.isfinite(p) & (p < 2.0 ** -127))


@pytest.mark.parametrize("mode", ["rne", "rtz", "rna", "rup", "rdn"])
@pytest.mark.parametrize("name", ML_TYPES)
def test_mul_all_pairs_saturating_vs_reference(name, mode):
    """saturate=True, all pairs, vs the Fraction reference. A product that is infinite because an
    *operand* is inf may either stay inf (not an overflow) or clamp: both accepted (reported)."""
    f = fmt_of(name)
    a, b = all_pairs(name)
    keep = _mul_ref_defined(name, a, b)
    a, b = a[keep], b[keep]
    got = golden.mul(a, b, f, f, rounding=mode, saturate=True)
    want = _ref_mul_array(name, a, b, mode, True)
    alt = _ref_mul_array(name, a, b, mode, True, inf_saturates=True)
    inf_in = np.isinf(ml_decode(name, a)) | np.isinf(ml_decode(name, b))
    extra = inf_in & (ref.canon_codes(f, got) == ref.canon_codes(f, alt))
    ref.check_codes(f, got, want, {"a": a, "b": b}, f"{name} mul({mode}, saturate) vs reference",
                    extra_ok=extra)
    ref.check_nan_sign(f, got, f"{name} mul")


def _mul_modes(name, mode, sample):
    f = fmt_of(name)
    a, b = all_pairs(name)
    keep = _mul_ref_defined(name, a, b)
    a, b = a[keep], b[keep]
    rng = np.random.default_rng(3)
    if sample and a.size > sample:
        idx = rng.choice(a.size, sample, replace=False)
        a, b = a[idx], b[idx]
    rnd = rng.integers(0, 256, a.size).astype(np.uint8) if mode == "sr" else None
    got = golden.mul(a, b, f, f, rounding=mode, rnd=rnd)
    want = _ref_mul_array(name, a, b, mode, False, rnd, 8 if rnd is not None else None)
    cols = {"a": a, "b": b}
    if rnd is not None:
        cols["rnd"] = rnd
    n = ref.check_codes(f, got, want, cols, f"{name} mul({mode}) vs reference")
    ref.check_nan_sign(f, got, f"{name} mul")
    return n


@pytest.mark.parametrize("mode", ["rtz", "rna", "rup", "rdn", "sr"])
@pytest.mark.parametrize("name", ML_TYPES)
def test_mul_all_pairs_modes_vs_reference(name, mode):
    """Non-saturating, every rounding mode, all pairs (sr: random uint8 rnd, R = 8, on a random
    sample of 8192 pairs; all pairs in the slow variant)."""
    assert _mul_modes(name, mode, 8192 if mode == "sr" else None) > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ML_TYPES)
def test_mul_all_pairs_sr_full(name):
    assert _mul_modes(name, "sr", None) > 0


# ------------------------------------------------------------------------------------------
# fp16 / bf16 (and fp32) vs numpy / ml_dtypes
# ------------------------------------------------------------------------------------------
WIDE = {"fp16": np.float16, "bf16": ml_dtypes.bfloat16}


@pytest.mark.parametrize("name", ["fp16", "bf16"])
def test_wide_decode_exhaustive(name):
    f = golden.parse(name)
    codes = np.arange(1 << 16, dtype=np.uint16)
    got = f.decode(codes)
    want = codes.view(WIDE[name]).astype(np.float64)
    ok = same_float(got, want)
    assert codes.size == 65536
    assert ok.all(), f"{name} decode: " + ref.hexrows({"code": codes, "want": want, "got": got},
                                                      np.flatnonzero(~ok))


def wide_values(name, seed):
    """Random float64 values with full 52-bit mantissas over the whole range (plus beyond), all
    midpoints between neighbours, their +-2^-40 neighbours, overflow and underflow corners."""
    rng = np.random.default_rng(seed)
    dt = WIDE[name]
    codes = np.arange(1 << 16, dtype=np.uint16)
    v = codes.view(dt).astype(np.float64)
    mags = np.unique(np.abs(v[np.isfinite(v)]))
    top = float(mags[-1])
    M = 10 if name == "fp16" else 7
    mags = np.append(mags, top + 2.0 ** (math.floor(math.log2(top)) - M))
    mids = (mags[:-1] + mags[1:]) / 2
    emin, emax = (-26, 17) if name == "fp16" else (-135, 129)
    e = rng.integers(emin, emax, 60000)
    m = 1 + rng.integers(0, 1 << 52, 60000) / 2.0 ** 52
    rand = np.ldexp(m, e)
    x = np.concatenate([mags, mids, mids * (1 + 2.0 ** -40), mids * (1 - 2.0 ** -40), rand,
                        [0.0, np.inf, 1e300, 1e-300]])
    x = np.concatenate([x, -x, [np.nan]])
    return x


@pytest.mark.parametrize("name", ["fp16", "bf16"])
def test_wide_encode_vs_cast(name):
    """fp16: numpy's direct float64 -> float16 cast. bf16: ml_dtypes' cast goes through float32
    (double rounding), so only float32-exact inputs are compared with it; the rest are compared
    with the Fraction reference (sampled, 20000)."""
    f = golden.parse(name)
    x = wide_values(name, 4)
    if name == "bf16":
        exact32 = np.isnan(x) | (x.astype(np.float32).astype(np.float64) == x)
        with np.errstate(over="ignore"):
            exact32 &= ~(np.isfinite(x) & np.isinf(x.astype(np.float32)))
    else:
        exact32 = np.ones(x.shape, bool)
    xc = x[exact32]
    with np.errstate(over="ignore"):
        want = xc.astype(WIDE[name]).view(np.uint16)
    got = f.encode(xc)
    n = ref.check_codes(f, got, want, {"x": xc}, f"{name} encode vs cast")
    ref.check_nan_sign(f, got, f"{name} encode")
    rest = x[~exact32]
    sample = np.concatenate([rest, x])[:: max(1, (rest.size + x.size) // 20000)]
    got = f.encode(sample)
    want = _ref_encode_array(f, sample)
    n += ref.check_codes(f, got, want, {"x": sample}, f"{name} encode vs Fraction reference")
    assert n > 100000


def test_fp32_encode_vs_numpy():
    f = golden.parse("fp32")
    x = wide_values("bf16", 5)                   # float32's exponent range
    with np.errstate(over="ignore"):
        want = x.astype(np.float32).view(np.uint32)
    got = f.encode(x)
    ref.check_codes(f, got, want, {"x": x}, "fp32 encode vs numpy float32 cast")


# ------------------------------------------------------------------------------------------
# A second, brute-force reference: neighbours found by search in the sorted list of all
# values (no exponent/ulp arithmetic), for every rounding mode. Checks golden and validates
# tests/_reference.py's directed/sr rounding, which ml_dtypes cannot (it only does rne).
# ------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _brute_table(name):
    """(sorted finite magnitudes > 0, their positive codes, virtual next code) for ``name``;
    the virtual next point above max has code max_code + 1 (its parity decides the tie at
    max + ulp/2, as with an unbounded exponent)."""
    f = fmt_of(name) if name in ML_TYPES else golden.parse(name)
    s = ref.spec_of(f)
    mags, codes = [], []
    for code in range(1 << s.mag_bits):              # positive codes (sign bit clear)
        v = ref.decode(f, code)
        if v.kind == "num" and v.mag > 0:
            mags.append(v.mag)
            codes.append(code)
    order = sorted(range(len(mags)), key=lambda i: mags[i])
    mags = [mags[i] for i in order]
    codes = [codes[i] for i in order]
    assert codes == sorted(codes)                   # codes ordered like magnitudes
    top = mags[-1]
    nxt = top + (top - mags[-2]) if s.M > 0 else 2 * top   # the grid continues upward
    return f, s, mags, codes, nxt


def brute_encode(tab, x: float, mode: str, rnd=None, R=None) -> int:
    f, s, mags, codes, nxt = tab
    v = ref.from_float(x)
    if v.kind == "nan":
        return ref._nan_code(s)
    neg = v.neg
    sign = s.sign_bit if neg else 0

    def overflow(to_inf):
        if to_inf and s.has_inf:
            return sign | (((1 << s.E) - 1) << s.M)
        if to_inf and s.has_nan:
            return ref._nan_code(s)
        return sign | codes[-1]

    if v.kind == "inf":
        return overflow(True)
    m = v.mag
    if m == 0:
        return sign if s.has_neg_zero else 0
    if m > nxt:
        lo_m, lo_c, hi_m, hi_c = nxt, None, None, None        # beyond the next point: overflow
    else:
        i = bisect.bisect_left(mags, m)
        if i < len(mags) and mags[i] == m:
            return sign | codes[i]
        lo_m, lo_c = (mags[i - 1], codes[i - 1]) if i > 0 else (Fraction(0), 0)
        hi_m, hi_c = (mags[i], codes[i]) if i < len(mags) else (nxt, codes[-1] + 1)
    if hi_m is None:
        up = None
    else:
        frac = (m - lo_m) / (hi_m - lo_m)
        half = frac * 2
        up = {"rtz": False, "rup": not neg, "rdn": neg,
              "rna": half >= 1,
              "rne": half > 1 or (half == 1 and lo_c % 2 == 1),
              "sr": None}[mode]
        if mode == "sr":
            up = int(frac * (1 << R)) + rnd >= (1 << R)
    if up is None or (up and hi_c == codes[-1] + 1) or (not up and lo_c is None):
        # rounded beyond max
        return overflow({"rne": True, "rna": True, "sr": True, "rtz": False,
                         "rup": not neg, "rdn": neg}[mode])
    c = hi_c if up else lo_c
    if c == 0 and not s.has_neg_zero:
        return 0
    return sign | c


@pytest.mark.parametrize("mode", ref.MODES)
@pytest.mark.parametrize("name", [n for n in ML_TYPES if n != "float8_e8m0fnu"] + ["fp16"])
def test_encode_vs_bruteforce(name, mode):
    """golden.encode and the Fraction reference vs the brute-force neighbour search."""
    tab = _brute_table(name)
    f, s = tab[0], tab[1]
    if name == "fp16":
        x = wide_values("fp16", 7)
        x = x[np.random.default_rng(8).choice(x.size, 2500, replace=False)]
    else:
        x32, other = value_set(name, seed=9, n_rand=100)
        x = np.concatenate([x32, other])
    if not s.has_nan:
        x = x[~np.isnan(x)]
    R = 5
    rnd = (np.random.default_rng(10).integers(0, 1 << R, x.size).astype(np.uint8)
           if mode == "sr" else None)
    want = np.array([brute_encode(tab, float(v), mode, None if rnd is None else int(rnd[i]), R)
                     for i, v in enumerate(x)], np.int64)
    r = np.array([ref.encode(f, float(v), mode, False, None if rnd is None else int(rnd[i]),
                             R if rnd is not None else None) for i, v in enumerate(x)], np.int64)
    cols = {"x": x} if rnd is None else {"x": x, "rnd": rnd}
    ref.check_codes(f, r, want, cols, f"Fraction reference vs brute force, {name} {mode}")
    got = f.encode(x, rounding=mode, rnd=rnd, rnd_bits=R if rnd is not None else None)
    assert ref.check_codes(f, got, want, cols, f"golden encode vs brute force, {name} {mode}") > 0


def test_mixed_mul_e4m3_e5m2_to_fp32_all_pairs():
    """e4m3 x e5m2 -> fp32 (fmt_b): every product is exact in fp32, so it equals numpy's
    float32 of the ml_dtypes-decoded float64 product (NaN for NaN operands and inf * 0)."""
    c = np.arange(256, dtype=np.uint8)
    a, b = (v.ravel() for v in np.meshgrid(c, c, indexing="ij"))
    p = ml_decode("float8_e4m3fn", a) * ml_decode("float8_e5m2", b)
    want = p.astype(np.float32).view(np.uint32)
    f32 = golden.parse("fp32")
    for out in ("fp32", f32):
        got = golden.mul(a, b, "e4m3", out, fmt_b="e5m2")
        n = ref.check_codes(f32, got, want, {"a": a, "b": b}, "e4m3 x e5m2 -> fp32 mul")
        ref.check_nan_sign(f32, got, "mixed mul")
    assert n == 65536
