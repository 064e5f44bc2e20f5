"""Linear takums (``golden._takum``) against the exact reference of ``_takum_reference``.

The reference reads codes bit by bit from the definition (negative codes too, without two's
complement) and rounds by searching codes by value with ``Fraction`` arithmetic; nothing of
``golden/_takum.py`` is reused. Checked: decode of every takum8/11/12/16 code and sampled
takum32/24/20/9 codes; the two's-complement negation property; monotonicity; libtakum's
``TAKUM_LINEAR*`` constants; encode at every midpoint (on the encoding) between consecutive
takum8/takum12 codes and just either side of it, in every mode, SR with every rnd for R = 1..4;
the clamps (never 0 or NaR), NaN/inf -> NaR; all 65,536 takum8 products (every deterministic
mode), SR products, and fma/add/dot/mac_step into takum and fp32 samples; corner codes.
"""
from fractions import Fraction

import numpy as np
import pytest

import _reference as R
from macforge import golden
from macforge.golden import FormatError
from macforge.golden._exact import FINITE, INF, NAN, round_to
from macforge.golden._formats import Rounding
from macforge.golden._takum import Takum
from _takum_reference import (MODES, check, nar, ref_decode, ref_mul, ref_round, ref_round_val,
                              ref_val, sorted_positive)

SEED = 20260523
DET_MODES = [m for m in MODES if m != "sr"]
FP32 = golden.parse("fp32")


def _frac(x: float) -> Fraction:
    return Fraction(float(x))


def _triple(x: Fraction):
    """Exact (sign, m, e) of a dyadic Fraction (m < 2^62)."""
    neg = x < 0
    x = abs(x)
    den = x.denominator
    k = den.bit_length() - 1
    assert den == 1 << k, "dyadic values only"
    m, e = x.numerator, -k
    while m and m % 2 == 0:
        m //= 2
        e += 1
    assert m < (1 << 62)
    return neg, m, e


def _round_exact(fmt, xs, mode, rnd=None, Rbits=0):
    """golden's exact rounder on dyadic Fractions (no float64 in between)."""
    trip = [_triple(x) for x in xs]
    sign = np.array([t[0] for t in trip], bool)
    m = np.array([t[1] for t in trip], np.uint64)
    e = np.array([t[2] for t in trip], np.int64)
    zero = np.zeros(len(xs), bool)
    kind = np.zeros(len(xs), np.int8)
    return round_to(fmt, sign, m, e, zero, kind, Rounding.parse(mode), False,
                    None if rnd is None else np.asarray(rnd, np.uint64), Rbits)


# ---------------------------------------------------------------------------------------------
# the format object
# ---------------------------------------------------------------------------------------------
def test_properties():
    t = Takum(16)
    assert (t.name, t.bits, t.family, t.default_accumulator) == ("takum16", 16, "takum", "fp32")
    assert (t.nar_code, t.nan_code, t.minpos_code, t.maxpos_code, t.sign_bit) == \
        (0x8000, 0x8000, 0x0001, 0x7FFF, 0x8000)
    assert (t.has_inf, t.has_nan, t.has_zero, t.has_negative_zero, t.signed) == \
        (False, True, True, False, True)
    assert t.additive_identity == 0 and t.exact_sig_bits == 12 and t.dtype == np.uint16
    assert Takum(8).dtype == np.uint8 and Takum(32).dtype == np.uint32
    assert Takum(24).dtype == np.uint32 and Takum(24).exact_sig_bits == 20
    assert t == Takum(16) and hash(t) == hash(Takum(16))
    assert "NaR" in t.describe() and "-255..254" in t.describe()


@pytest.mark.parametrize("n", [7, 33, 0, -8, 8.0, True])
def test_bad_widths(n):
    with pytest.raises(FormatError, match=r"^takum width must be 8\.\.32, not .*$"):
        Takum(n)


def test_parse_name():
    # the lead re-does registration; this pins the names the registry must accept
    assert golden.parse("takum8") == Takum(8)
    assert golden.parse("TAKUM32").name == "takum32"


def test_extremes_from_the_definition():
    """minpos / maxpos read off the field formulas (module docstring): takum8 0x01 = D 0, r 7,
    C 0010000b (4 bits cut off): c = -255 + 16; from n = 13 on c spans -255..254 with
    p = n - 12 mantissa bits at r = 7."""
    t8, t16, t32 = Takum(8), Takum(16), Takum(32)
    assert t8.min_positive == 2.0 ** -239 and t8.max == 2.0 ** 239
    assert (t8.scale_min, t8.scale_max) == (-239, 239)
    assert t16.min_positive == 17 * 2.0 ** -259 and t16.max == 31 * 2.0 ** 250
    assert t32.min_positive == (2 ** 20 + 1) * 2.0 ** -275
    assert t32.max == (2 ** 21 - 1) * 2.0 ** 234 and t32.min == -t32.max
    for n in range(8, 13):                  # C's cut-off bits: 2^(12-n) short of 255
        short = 255 - 2 ** (12 - n)
        assert (Takum(n).scale_min, Takum(n).scale_max) == (-short, short)
        assert Takum(n).min_positive == 2.0 ** Takum(n).scale_min
    for n in (13, 16, 20, 32):
        assert (Takum(n).scale_min, Takum(n).scale_max) == (-255, 254)
    assert Fraction(t32.min_positive) == ref_decode(1, 32)
    assert Fraction(t32.max) == ref_decode(0x7FFFFFFF, 32)


# ---------------------------------------------------------------------------------------------
# decode
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [8, 11, 12, 16])
def test_decode_every_code(n):
    t = Takum(n)
    codes = np.arange(1 << n, dtype=np.uint64)
    got = t.decode(codes)
    checked = 0
    for code, g in zip(codes.tolist(), got.tolist()):
        w = ref_decode(code, n)
        if w is None:
            assert np.isnan(g) and code == nar(n)
        else:
            assert Fraction(g) == w, f"takum{n} code {code:#x}: {g!r} != {w}"
        checked += 1
    assert checked == 1 << n
    # exact triples agree with the float64 values, NaR is the only NaN
    sign, m, e, kind = t.exact_unpack(codes)
    assert int((kind == NAN).sum()) == 1 and bool(t.is_nan(codes).sum() == 1)
    assert not t.is_inf(codes).any()
    val = np.where(sign, -1.0, 1.0) * np.ldexp(m.astype(float), np.where(m == 0, 0, e))
    fin = kind == FINITE
    assert (val[fin] == got[fin]).all()
    assert (m < (1 << t.exact_sig_bits)).all() and (m[fin & (m > 0)] >> (t.exact_sig_bits - 1)
                                                    >= 0).all()


@pytest.mark.parametrize("n", [9, 20, 24, 32])
def test_decode_sampled(n):
    t = Takum(n)
    rng = np.random.default_rng([SEED, n])
    codes = np.concatenate([rng.integers(0, 1 << n, 20_000, dtype=np.uint64),
                            t.corner_codes().astype(np.uint64)])
    got = t.decode(codes)
    for code, g in zip(codes.tolist(), got.tolist()):
        w = ref_decode(code, n)
        assert (np.isnan(g) and w is None) or Fraction(g) == w, f"takum{n} {code:#x}"
    assert codes.size > 20_000


@pytest.mark.parametrize("n", [8, 11, 16])
def test_negation_is_twos_complement(n):
    """The bit-level reading of a negative code (the reference) is the negative of its two's
    complement's value: the property the papers state and golden's decoder relies on."""
    full = (1 << n) - 1
    count = 0
    for code in range(1, 1 << (n - 1)):
        assert ref_decode((-code) & full, n) == -ref_decode(code, n), hex(code)
        count += 1
    assert count == (1 << (n - 1)) - 1


@pytest.mark.parametrize("n", [8, 12, 16, 32])
def test_codes_are_monotone(n):
    """Codes read as signed integers are ordered like their values (NaR = the most negative)."""
    t = Takum(n)
    if n <= 16:
        signed = np.arange(-(1 << (n - 1)) + 1, 1 << (n - 1), dtype=np.int64)
    else:
        rng = np.random.default_rng([SEED, 1, n])
        signed = np.unique(rng.integers(-(1 << (n - 1)) + 1, 1 << (n - 1), 200_000))
    v = t.decode((signed & ((1 << n) - 1)).astype(np.uint64))
    assert np.all(np.diff(v) > 0) and v.size >= min(255, 1000)


# libtakum's takum.h: TAKUM_LINEAR{8,16,32}_<name> (github.com/takum-arithmetic/libtakum), the
# nearest linear takums to constants; ONE is 0 1 000 0...: D = 1, r = 0, c = 0, m = 0.
LIBTAKUM = {
    "ONE": (1.0, 64, 16384, 1073741824),
    "PI": (np.pi, 74, 19016, 1246265045),
    "2_PI": (2 * np.pi, 78, 20040, 1313373909),
    "PI_OVER_2": (np.pi / 2, 69, 17553, 1150352810),
    "PI_OVER_4": (np.pi / 4, 61, 15505, 1016135082),
    "PI_OVER_6": (np.pi / 6, 56, 14433, 945858844),
    "PHI": ((1 + 5 ** 0.5) / 2, 69, 17650, 1156692942),
    "SQUARE_ROOT_2": (2 ** 0.5, 67, 17232, 1129336627),
    "SQUARE_ROOT_3": (3 ** 0.5, 70, 17883, 1171996020),
    "SQUARE_ROOT_5": (5 ** 0.5, 72, 18553, 1215880679),
    "LN_2": (np.log(2), 59, 15127, 991371647),
    "LN_10": (np.log(10), 73, 18587, 1218112623),
    "LG_2": (np.log10(2), 53, 13521, 886113492),
    "LB_10": (np.log2(10), 75, 19109, 1252316098),
    "LB_E": (np.log2(np.e), 68, 17291, 1133159347),
    "GAMMA": (0.5772156649015329, 57, 14652, 960251518),
}


@pytest.mark.parametrize("name", sorted(LIBTAKUM))
def test_libtakum_constants(name):
    x, *codes = LIBTAKUM[name]
    for n, code in zip((8, 16, 32), codes):
        t = Takum(n)
        assert int(t.encode(x)) == code, f"takum{n} {name}: {int(t.encode(x))} != {code}"
        assert int(t.encode(-x)) == (-code) & t.mask               # negation: two's complement
        assert ref_round(_frac(x), n) == code
        # and the decoded value is the constant to the code's precision
        assert abs(float(t.decode(code)) - x) <= x * 2.0 ** -(t.mantissa_bits(code) + 0)


# ---------------------------------------------------------------------------------------------
# encode: every midpoint on the encoding, every mode
# ---------------------------------------------------------------------------------------------
def _tie_points(n):
    """Every positive value, every midpoint (on the encoding) between consecutive codes, and
    points just above and below each midpoint (relative 2^-40), both signs; as Fractions."""
    vals, codes = sorted_positive(n)
    pts = []
    for c in range(1, nar(n) - 1):
        mid = ref_decode(2 * c + 1, n + 1)
        eps = mid / (1 << 40)
        pts += [mid, mid - eps, mid + eps]
    pts += vals
    below = [vals[0] / 2, vals[0] * Fraction(3, 4), vals[0] - vals[0] / (1 << 30)]
    above = [vals[-1] * 2, vals[-1] + vals[-1] / (1 << 30), Fraction(2) ** 300]
    pts += below + above
    return pts + [-p for p in pts]


@pytest.mark.parametrize("mode", DET_MODES)
@pytest.mark.parametrize("n", [8, 12])
def test_encode_every_midpoint(n, mode):
    t = Takum(n)
    pts = _tie_points(n)
    want = [ref_round(x, n, mode) for x in pts]
    got = _round_exact(t, pts, mode)
    count = check(f"takum{n} exact {mode}", got, want,
                  idx=np.arange(len(pts)))
    # the same points through float64 (all are float64-exact: at most 43 significant bits)
    f = np.array([float(x) for x in pts])
    assert all(Fraction(v) == x for v, x in zip(f, pts))
    check(f"takum{n} encode {mode}", t.encode(f, mode), want, x=f.view(np.uint64))
    assert count > 3 * (1 << (n - 1))


@pytest.mark.parametrize("n", [8, 12])
def test_encode_sr_every_rnd(n):
    """SR at sampled points (midpoints, their neighbours, random fractions of the gap) with
    every rnd value for R = 1..4: the cut-off bits read as a binary fraction plus rnd / 2^R."""
    t = Takum(n)
    rng = np.random.default_rng([SEED, 2, n])
    vals, _ = sorted_positive(n)
    pts = rng.choice(np.array(_tie_points(n), dtype=object), 300, replace=False).tolist()
    for _ in range(300):
        i = int(rng.integers(0, len(vals) - 1))
        pts.append(vals[i] + (vals[i + 1] - vals[i]) * Fraction(int(rng.integers(1, 1 << 12)),
                                                                  1 << 12))
    count = 0
    for Rbits in range(1, 5):
        for r in range(1 << Rbits):
            want = [ref_round(x, n, "sr", r, Rbits) for x in pts]
            got = _round_exact(t, pts, "sr", np.full(len(pts), r), Rbits)
            count += check(f"takum{n} sr R={Rbits} rnd={r}", got, want, idx=np.arange(len(pts)))
    assert count == 30 * len(pts)


def test_encode_clamps_and_specials():
    """Never 0 or NaR for a nonzero finite value (minpos / maxpos in every mode); 0 is 0;
    NaN and +-inf are NaR; saturate changes nothing."""
    for n in (8, 11, 16, 32):
        t = Takum(n)
        tiny = [5e-324, 1e-300, t.min_positive / 2, t.min_positive * 0.999]
        huge = [1.7e308, 1e100, t.max * 1.0001, t.max * 2]
        for mode in MODES:
            kw = {"rnd": np.full(4, 255, np.uint8)} if mode == "sr" else {}
            for sat in (False, True):
                assert (t.encode(np.array(tiny), mode, sat, **kw) == 1).all()
                assert (t.encode(-np.array(tiny), mode, sat, **kw) == t.mask).all()
                assert (t.encode(np.array(huge), mode, sat, **kw) == t.maxpos_code).all()
                assert (t.encode(-np.array(huge), mode, sat, **kw) == t.nar_code + 1).all()
            kw = {"rnd": np.zeros(5, np.uint8)} if mode == "sr" else {}
            sp = t.encode(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0]), mode, **kw)
            assert sp.tolist() == [t.nar_code] * 3 + [0, 0]
    # random float64 over the whole range: never 0 / NaR, and exactly the reference
    rng = np.random.default_rng([SEED, 3])
    x = np.ldexp(rng.random(4000) + 0.5, rng.integers(-1074, 1024, 4000)) \
        * rng.choice([-1.0, 1.0], 4000)
    x = x[np.isfinite(x) & (x != 0)]
    for n in (8, 13, 16):
        t = Takum(n)
        for mode in DET_MODES:
            got = t.encode(x, mode)
            assert not np.isin(got, [0, t.nar_code]).any()
            check(f"takum{n} {mode} random", got, [ref_round(_frac(v), n, mode) for v in x],
                  x=x.view(np.uint64))


def test_infinite_and_nan_kinds_give_nar():
    t = Takum(16)
    kind = np.array([FINITE, INF, INF, NAN], np.int8)
    got = round_to(t, np.array([False, False, True, True]), np.array([3, 0, 0, 0], np.uint64),
                   np.zeros(4, np.int64), np.zeros(4, bool), kind, Rounding.RNE, True)
    assert got.tolist() == [int(t.encode(3.0)), 0x8000, 0x8000, 0x8000]


# ---------------------------------------------------------------------------------------------
# operations through the exact-triple interface
# ---------------------------------------------------------------------------------------------
def _all_pairs(n):
    c = np.arange(1 << n, dtype=np.uint64)
    return np.repeat(c, 1 << n), np.tile(c, 1 << n)


def _ref_products(n, mode):
    a, b = _all_pairs(n)
    cache = {}
    out = np.empty(a.size, np.uint64)
    for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
        va, vb = ref_decode(x, n), ref_decode(y, n)
        key = None if va is None or vb is None else va * vb
        if key not in cache:
            cache[key] = ref_round(key, n, mode)
        out[i] = cache[key]
    return a, b, out


@pytest.mark.parametrize("mode", DET_MODES)
def test_mul_all_pairs_takum8(mode):
    t = Takum(8)
    a, b, want = _ref_products(8, mode)
    got = golden.mul(a.astype(np.uint8), b.astype(np.uint8), t, rounding=mode)
    assert check(f"takum8 mul {mode}", got, want, a=a, b=b) == 65536
    # the general path (no product table) agrees with the table
    got2 = golden.mul(a, b, t, rounding=mode, rnd=None, fmt_b=t)
    assert (got2 == got).all()


def test_mul_sr_all_pairs_takum8():
    t = Takum(8)
    a, b = _all_pairs(8)
    rnd = np.random.default_rng([SEED, 10]).integers(0, 256, a.size, dtype=np.uint64)
    got = golden.mul(a, b, t, rounding="sr", rnd=rnd, rnd_bits=8)
    want = [ref_mul(x, y, 8, "sr", r, 8) for x, y, r in zip(a.tolist(), b.tolist(), rnd.tolist())]
    assert check("takum8 mul sr", got, want, a=a, b=b, rnd=rnd) == 65536


@pytest.mark.parametrize("mode", ["rne", "rdn"])
def test_add_all_pairs_takum8(mode):
    t = Takum(8)
    a, b = _all_pairs(8)
    got = golden.add(a, b, t, rounding=mode)
    want = [ref_round_val(R.sum_vals([ref_val(x, 8), ref_val(y, 8)], mode), 8, mode)
            for x, y in zip(a.tolist(), b.tolist())]
    assert check(f"takum8 add {mode}", got, want, a=a, b=b) == 65536


@pytest.mark.parametrize("n", [8, 16])
def test_mul_sr_sampled(n):
    t = Takum(n)
    rng = np.random.default_rng([SEED, 4, n])
    k = 6000
    a = rng.integers(0, 1 << n, k, dtype=np.uint64)
    b = rng.integers(0, 1 << n, k, dtype=np.uint64)
    rnd = rng.integers(0, 256, k, dtype=np.uint64)
    got = golden.mul(a, b, t, rounding="sr", rnd=rnd, rnd_bits=8)
    want = [ref_mul(x, y, n, "sr", r, 8) for x, y, r in zip(a.tolist(), b.tolist(), rnd.tolist())]
    assert check(f"takum{n} mul sr", got, want, a=a, b=b, rnd=rnd) == k


@pytest.mark.parametrize("n", [16, 32])
def test_mul_sampled(n):
    t = Takum(n)
    rng = np.random.default_rng([SEED, 5, n])
    corners = t.corner_codes().astype(np.uint64)
    ga, gb = np.meshgrid(corners, corners, indexing="ij")
    a = np.concatenate([ga.ravel(), rng.integers(0, 1 << n, 4000, dtype=np.uint64)])
    b = np.concatenate([gb.ravel(), rng.integers(0, 1 << n, 4000, dtype=np.uint64)])
    count = 0
    for mode in DET_MODES:
        got = golden.mul(a, b, t, rounding=mode)
        want = [ref_mul(x, y, n, mode) for x, y in zip(a.tolist(), b.tolist())]
        count += check(f"takum{n} mul {mode}", got, want, a=a, b=b)
    assert count == 5 * a.size


def _codes(rng, t, k):
    """Random codes, a quarter of them corner codes."""
    c = rng.integers(0, 1 << t.n, k, dtype=np.uint64)
    pick = rng.random(k) < 0.25
    c[pick] = rng.choice(t.corner_codes().astype(np.uint64), int(pick.sum()))
    return c


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n", [8, 16])
def test_fma_add_into_takum(n, mode):
    t = Takum(n)
    rng = np.random.default_rng([SEED, 6, n, MODES.index(mode)])
    k = 3000
    a, b, c = (_codes(rng, t, k) for _ in range(3))
    c[: k // 4] = golden.mul(a[: k // 4], b[: k // 4], t) ^ np.uint64(t.sign_bit)  # cancel
    kw, rnd = {}, [None] * k
    if mode == "sr":
        rnd = rng.integers(0, 256, k, dtype=np.uint64)
        kw = {"rnd": rnd, "rnd_bits": 8}
        rnd = rnd.tolist()
    got = golden.fma(a, b, c, t, t, rounding=mode, **kw)
    want = []
    for x, y, z, r in zip(a.tolist(), b.tolist(), c.tolist(), rnd):
        p = R.mul_val(ref_val(x, n), ref_val(y, n))
        want.append(ref_round_val(R.sum_vals([p, ref_val(z, n)], mode), n, mode, r, 8))
    count = check(f"takum{n} fma {mode}", got, want, a=a, b=b, c=c)
    got = golden.add(a, c, t, rounding=mode, **kw)
    want = [ref_round_val(R.sum_vals([ref_val(x, n), ref_val(z, n)], mode), n, mode, r, 8)
            for x, z, r in zip(a.tolist(), c.tolist(), rnd)]
    count += check(f"takum{n} add {mode}", got, want, a=a, c=c)
    assert count == 2 * k


@pytest.mark.parametrize("mode", ["rne", "rdn", "sr"])
def test_into_fp32_and_from_other_formats(mode):
    """takum x takum -> fp32 (mul, fma, the default MAC accumulator) and e4m3 x e4m3 ->
    takum16: the exact-triple interface in both directions."""
    rng = np.random.default_rng([SEED, 7, MODES.index(mode)])
    t = Takum(16)
    k = 3000
    a, b = _codes(rng, t, k), _codes(rng, t, k)
    c = rng.integers(0, 1 << 32, k, dtype=np.uint64)
    c[: k // 2] = FP32.encode(rng.standard_normal(k // 2) * 2.0 ** rng.integers(-140, 127,
                                                                                  k // 2))
    kw, rnd = {}, [None] * k
    if mode == "sr":
        rnd = rng.integers(0, 1 << 12, k, dtype=np.uint64)
        kw = {"rnd": rnd, "rnd_bits": 12}
        rnd = rnd.tolist()
    got = golden.mul(a, b, t, FP32, rounding=mode, **kw)
    want = [R.round_val(FP32, R.mul_val(ref_val(x, 16), ref_val(y, 16)), mode, False, r, 12)
            for x, y, r in zip(a.tolist(), b.tolist(), rnd)]
    count = R.check_codes(FP32, got, want, {"a": a, "b": b}, f"takum16 -> fp32 mul {mode}")
    got = golden.fma(a, b, c, t, FP32, rounding=mode, **kw)
    want = [R.round_val(FP32, R.sum_vals([R.mul_val(ref_val(x, 16), ref_val(y, 16)),
                                          R.decode(FP32, z)], mode), mode, False, r, 12)
            for x, y, z, r in zip(a.tolist(), b.tolist(), c.tolist(), rnd)]
    count += R.check_codes(FP32, got, want, {"a": a, "b": b, "c": c}, f"fma -> fp32 {mode}")
    e4m3 = golden.parse("e4m3")
    x, y = rng.integers(0, 256, k, dtype=np.uint64), rng.integers(0, 256, k, dtype=np.uint64)
    got = golden.mul(x, y, e4m3, t, rounding=mode, **kw)
    want = [ref_round_val(R.mul_val(R.decode(e4m3, u), R.decode(e4m3, v)), 16, mode, r, 12)
            for u, v, r in zip(x.tolist(), y.tolist(), rnd)]
    count += check(f"e4m3 -> takum16 {mode}", got, want, a=x, b=y)
    assert count == 3 * k


@pytest.mark.parametrize("acc", ["takum", "fp32"])
def test_dot(acc):
    rng = np.random.default_rng([SEED, 8, acc == "fp32"])
    t = Takum(12)
    fc = t if acc == "takum" else FP32
    rows, N = 600, 8
    A = _codes(rng, t, rows * N).reshape(rows, N)
    B = _codes(rng, t, rows * N).reshape(rows, N)
    c = _codes(rng, t, rows) if acc == "takum" else FP32.encode(rng.standard_normal(rows))
    B[:50, 1] = A[:50, 0] ^ np.uint64(t.sign_bit)     # products that cancel
    B[:50, 0] = A[:50, 1]
    count = 0
    for mode in ("rne", "rtz", "rup"):
        got = golden.dot(A, B, c, t, fc, rounding=mode)
        want = []
        for ra, rb, rc in zip(A.tolist(), B.tolist(), c.tolist()):
            terms = [R.mul_val(ref_val(x, 12), ref_val(y, 12)) for x, y in zip(ra, rb)]
            terms.append(ref_val(rc, 12) if acc == "takum" else R.decode(FP32, rc))
            s = R.sum_vals(terms, mode)
            want.append(ref_round_val(s, 12, mode) if acc == "takum"
                        else R.round_val(FP32, s, mode))
        count += check(f"dot takum12 -> {fc.name} {mode}", got, want, c=c)
    assert count == 3 * rows


@pytest.mark.parametrize("fused", [True, False])
def test_mac_step(fused):
    """A chain of MAC steps into takum16 and into the default fp32 accumulator."""
    rng = np.random.default_rng([SEED, 9, fused])
    t = Takum(16)
    assert golden.parse(t.default_accumulator) == FP32
    k, steps = 400, 12
    count = 0
    for fc in (t, FP32):
        acc = np.zeros(k, fc.dtype)
        ref = [0] * k
        for s in range(steps):
            a, b = _codes(rng, t, k), _codes(rng, t, k)
            first = np.full(k, s == 0)
            acc = golden.mac_step(acc, a, b, t, fc, first=first, fused=fused)

            def rnd_into(v):
                return ref_round_val(v, 16) if fc is t else R.round_val(FP32, v)

            def val_of(code):
                return ref_val(code, 16) if fc is t else R.decode(FP32, code)
            for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
                p = R.mul_val(ref_val(x, 16), ref_val(y, 16))
                if s == 0:
                    ref[i] = rnd_into(p)
                elif fused:
                    ref[i] = rnd_into(R.sum_vals([p, val_of(ref[i])]))
                else:
                    ref[i] = rnd_into(R.sum_vals([val_of(rnd_into(p)), val_of(ref[i])]))
            count += check(f"mac_step {fc.name} fused={fused} step {s}", acc, ref)
    assert count == 2 * k * steps


# ---------------------------------------------------------------------------------------------
# corner codes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [8, 11, 12, 16, 32])
def test_corner_codes(n):
    t = Takum(n)
    cc = t.corner_codes()
    assert cc.dtype == t.dtype and np.all(np.diff(cc.astype(np.int64)) > 0)
    full = t.mask
    one = int(t.encode(1.0))
    must = {0, t.nar_code, 1, 2, full, full - 1, t.maxpos_code, t.maxpos_code - 1,
            t.nar_code + 1, t.nar_code + 2, one, one - 1, one + 1, (-one) & full}
    assert must <= set(cc.tolist())
    # both sides of every change of the mantissa width and of the magnitude's D / R (the 16
    # regime groups); a negative code's magnitude is its two's complement
    if n <= 16:
        codes = np.arange(1 << n, dtype=np.uint64)
        p = t.mantissa_bits(codes)
        mag = np.where(codes >> np.uint64(n - 1) == 1, (-codes.astype(np.int64)) & full, codes)
        group = mag.astype(np.uint64) >> np.uint64(n - 5)
        edge = np.flatnonzero((p[1:] != p[:-1]) | (group[1:] != group[:-1]))
        sides = set(edge.tolist()) | set((edge + 1).tolist())
        assert len(sides) > 20 and sides <= set(cc.tolist())
