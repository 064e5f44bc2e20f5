"""HiF8 (``hif8``) against a reference written here from docs/formats.md's "HiF8" paragraph.

The reference is independent of golden/_hif8.py: the value table is read off the docs/formats.md
text (dot prefixes 11/10/01/001/0001/0000, field widths, sign-magnitude exponent with an
implicit leading one, denormals 2^(M-23)), and rounding searches that table by value with
``Fraction`` arithmetic: the two representable neighbours of x, the nearest wins, a tie goes to
the neighbour whose code has LSB 0 (rne) or away from zero (rna); 0x6F stands where
1.5 * 2^15 would be, so reaching it is an overflow. Directed modes, saturation and SR follow
docs/formats.md "Value semantics". Checked: decode of all 256 codes; encode at every midpoint and
its float64 neighbours, every value, overflow, underflow, NaN/inf, random values in every mode;
mul of all 65,536 pairs (rne, rna) and random pairs in the other modes; fma/dot/mac_step with
hif8 in and out.
"""
from bisect import bisect_right
from fractions import Fraction
from functools import lru_cache

import numpy as np
import pytest

import _reference as R
from macforge import golden
from macforge.golden import FormatError

H = golden.parse("hif8")
INF_CODE, NAN_CODE = 0x6F, 0x80


# ---------------------------------------------------------------------------------------------
# the reference, from the docs/formats.md text
# ---------------------------------------------------------------------------------------------
# "dot code 11 -> 4-bit exponent field, 1 mantissa bit; 10 -> 3 bits, 2 mantissa bits; 01 -> 2
# bits, 3 mantissa bits; 001 -> 1 bit, 3 mantissa bits; 0001 -> E = 0, 3 mantissa bits; 0000 ->
# denormal, value 2^(M-23) for M = 1..7."
SPEC_DOTS = [("11", 4, 1), ("10", 3, 2), ("01", 2, 3), ("001", 1, 3), ("0001", 0, 3)]


def spec_value(code: int):
    """('num', Fraction) / ('inf', sign) / ('nan', None) for a code, from the text alone."""
    neg = code >> 7
    bits = format(code & 0x7F, "07b")
    if code == 0x80:
        return ("nan", None)
    if code & 0x7F == 0x6F:
        return ("inf", neg)
    if bits.startswith("0000"):
        M = int(bits[4:], 2)
        v = Fraction(0) if M == 0 else Fraction(2) ** (M - 23)
    else:
        for prefix, D, mb in SPEC_DOTS:
            if bits.startswith(prefix):
                break
        rest = bits[len(prefix):]
        assert len(rest) == D + mb
        if D == 0:
            E = 0
        else:        # sign-magnitude, implicit leading magnitude 1
            mag = int("1" + rest[1:D], 2)
            E = -mag if rest[0] == "1" else mag
        man = Fraction(int(rest[D:], 2), 1 << mb)
        v = (1 + man) * Fraction(2) ** E
    return ("num", -v if neg else v)


TABLE = [spec_value(c) for c in range(256)]
POS = sorted((v, c) for c, (k, v) in enumerate(TABLE) if k == "num" and v > 0)
POS_VALUES = [v for v, _ in POS]
MAX = POS_VALUES[-1]
# 0x6F sits where the next value of the top binade (1 mantissa bit, ulp 2^14) would be
VIRTUAL_NEXT = MAX + Fraction(2) ** 14
GRID = [(Fraction(0), 0x00)] + POS + [(VIRTUAL_NEXT, INF_CODE)]
GRID_VALUES = [v for v, _ in GRID]


def ref_round(x, mode="rne", saturate=False, rnd=None, R=None):
    """hif8 code of x: a Fraction, ('inf', neg) or None (NaN)."""
    if x is None:
        return NAN_CODE
    if isinstance(x, tuple):
        neg = x[1]
        return (0x80 if neg else 0) | (0x6E if saturate else INF_CODE)
    neg = x < 0
    ax = abs(x)
    i = bisect_right(GRID_VALUES, ax) - 1
    lo, lo_code = GRID[i]
    if ax == lo or i == len(GRID) - 1:
        up = False
    else:
        hi, hi_code = GRID[i + 1]
        d, half = ax - lo, (hi - lo) / 2
        if mode == "rne":
            up = d > half or (d == half and hi_code & 1 == 0)
        elif mode == "rna":
            up = d >= half
        elif mode == "rtz":
            up = False
        elif mode == "rup":
            up = not neg
        elif mode == "rdn":
            up = neg
        elif mode == "sr":
            t = int(d / (hi - lo) * (1 << R))       # floor (positive)
            up = t + rnd >= (1 << R)
        else:
            raise ValueError(mode)
        if up:
            i += 1
    val, code = GRID[i]
    if val > MAX:                                   # rounded beyond max: overflow
        if saturate or mode == "rtz" or (mode == "rup" and neg) or (mode == "rdn" and not neg):
            code = 0x6E
        else:
            code = INF_CODE
    if code == 0:
        return 0
    return code | (0x80 if neg else 0)


def ref_decode(code):
    k, v = TABLE[int(code)]
    return v if k == "num" else (None if k == "nan" else ("inf", v))


def ref_mul(a, b):
    x, y = ref_decode(a), ref_decode(b)
    if x is None or y is None:
        return None
    if isinstance(x, tuple) or isinstance(y, tuple):
        if (not isinstance(x, tuple) and x == 0) or (not isinstance(y, tuple) and y == 0):
            return None
        sx = x[1] if isinstance(x, tuple) else x < 0
        sy = y[1] if isinstance(y, tuple) else y < 0
        return ("inf", bool(sx) != bool(sy))
    return x * y


def check(got, want, inputs, what):
    got = np.asarray(got).astype(np.int64).ravel()
    want = np.asarray(want, np.int64).ravel()
    assert want.size > 0
    bad = np.flatnonzero(got != want)
    if bad.size:
        rows = [" ".join(f"{k}={v[i]!r}" for k, v in inputs.items())
                + f" want={want[i]:#04x} got={got[i]:#04x}" for i in bad[:15]]
        raise AssertionError(f"{what}: {bad.size}/{want.size} mismatches\n" + "\n".join(rows))
    return want.size


# ---------------------------------------------------------------------------------------------
# decode
# ---------------------------------------------------------------------------------------------
def test_table_facts_from_the_text():
    kinds = [k for k, _ in TABLE]
    assert kinds.count("num") == 253 and kinds.count("nan") == 1 and kinds.count("inf") == 2
    assert MAX == 32768 and TABLE[0x6E] == ("num", Fraction(32768))
    assert [c for c, (k, v) in enumerate(TABLE) if k == "num" and v == 0] == [0x00]
    assert TABLE[0x80][0] == "nan" and TABLE[0x6F] == ("inf", 0) and TABLE[0xEF] == ("inf", 1)
    assert len(set(POS_VALUES)) == 126                 # every nonzero finite value once per sign


def test_decode_all_codes():
    got = H.decode(np.arange(256, dtype=np.uint8))
    n = 0
    for c in range(256):
        k, v = TABLE[c]
        if k == "nan":
            assert np.isnan(got[c]), hex(c)
        elif k == "inf":
            assert got[c] == (-np.inf if v else np.inf), hex(c)
        else:
            assert Fraction(float(got[c])) == v, (hex(c), got[c], v)
            assert not (v == 0 and np.signbit(got[c]))
        n += 1
    assert n == 256
    assert H.max == 32768.0 and H.min_positive == 2.0 ** -22 and H.bits == 8
    assert H.is_nan(np.arange(256)).sum() == 1 and H.is_inf(np.arange(256)).sum() == 2


def test_unpacker_attributes():
    """What a hardware unpacker needs: exponent range and mantissa bits per dot class."""
    assert (H.emax, H.emin, H.min_subnormal_exp) == (15, -15, -22)
    assert [(d.prefix, d.exp_bits, d.man_bits) for d in H.dot_classes[:-1]] == SPEC_DOTS
    assert H.dot_classes[-1].prefix == "0000"
    for c in range(256):
        k, v = TABLE[c]
        if k != "num" or v == 0:
            continue
        sign, E, m, kind = (np.asarray(a).item() for a in H.fields(np.uint8(c)))
        assert Fraction(m) * Fraction(2) ** (E - int(m).bit_length() + 1) == abs(v), hex(c)
        assert int(m).bit_length() - 1 == int(H.man_bits_at(E)), hex(c)


# ---------------------------------------------------------------------------------------------
# encode
# ---------------------------------------------------------------------------------------------
def _probe_values():
    """Every value, every midpoint and their float64 neighbours, below min, overflow edges."""
    pts = set()
    vals = GRID_VALUES
    for a, b in zip(vals, vals[1:]):
        mid = float((a + b) / 2)
        pts.update([float(a), mid, np.nextafter(mid, 0), np.nextafter(mid, np.inf)])
    big = float(VIRTUAL_NEXT)
    pts.update([big, np.nextafter(big, 0), 65536.0, 1e30, 2.0 ** -23, 2.0 ** -24, 1e-30,
                np.nextafter(2.0 ** -23, 0), np.nextafter(2.0 ** -23, 1)])
    x = np.array(sorted(pts))
    return np.concatenate([x, -x])


@pytest.mark.parametrize("mode", ["rne", "rna", "rtz", "rup", "rdn"])
@pytest.mark.parametrize("saturate", [False, True])
def test_encode_midpoints_and_edges(mode, saturate):
    x = _probe_values()
    want = [ref_round(Fraction(float(v)), mode, saturate) for v in x]
    got = H.encode(x, mode, saturate=saturate)
    assert check(got, want, {"x": x}, f"encode {mode} sat={saturate}") > 1000


def test_encode_random_and_specials():
    rng = np.random.default_rng(8)
    x = np.ldexp(rng.uniform(1, 2, 4000), rng.integers(-26, 17, 4000))
    x *= rng.choice([-1, 1], x.size)
    for mode in ("rne", "rna", "rtz", "rup", "rdn"):
        want = [ref_round(Fraction(float(v)), mode) for v in x]
        check(H.encode(x, mode), want, {"x": x}, f"encode random {mode}")
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0])
    assert H.encode(special).tolist() == [0x80, 0x6F, 0xEF, 0x00, 0x00]
    assert H.encode(special, saturate=True).tolist() == [0x80, 0x6E, 0xEE, 0x00, 0x00]
    # the documented edges: 40960 = 1.25 * 2^15 is a tie (rne keeps max, rna overflows)
    assert H.encode([40960.0, 40961.0, 40959.0]).tolist() == [0x6E, 0x6F, 0x6E]
    assert H.encode([40960.0, 40959.0], "rna").tolist() == [0x6F, 0x6E]
    assert H.encode([1e6, -1e6], "rtz").tolist() == [0x6E, 0xEE]


def test_encode_sr():
    rng = np.random.default_rng(9)
    x = np.ldexp(rng.uniform(1, 2, 4000), rng.integers(-24, 16, 4000)) * rng.choice([-1, 1], 4000)
    rnd = rng.integers(0, 256, x.size).astype(np.uint8)
    want = [ref_round(Fraction(float(v)), "sr", rnd=int(r), R=8) for v, r in zip(x, rnd)]
    check(H.encode(x, "sr", rnd=rnd), want, {"x": x, "rnd": rnd}, "encode sr")


def test_even_means_even_code_in_the_denormal_binades():
    """Ties between two denormals (powers of two) go to the even code (even M field)."""
    for k in range(-22, -16):
        tie = 1.5 * 2.0 ** k
        code = int(H.encode(tie))
        lo, hi = k + 23, k + 24
        assert code == (lo if lo % 2 == 0 else hi), (k, hex(code))
    assert int(H.encode(1.5 * 2.0 ** -16)) == 0x7E          # 2^-16 (0x07) vs 2^-15 (0x7E)
    assert int(H.encode(2.0 ** -23)) == 0x00 and int(H.encode(2.0 ** -23, "rna")) == 0x01


# ---------------------------------------------------------------------------------------------
# arithmetic through the shared rounder
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _all_pairs():
    a = np.repeat(np.arange(256, dtype=np.uint8), 256)
    b = np.tile(np.arange(256, dtype=np.uint8), 256)
    prods = [ref_mul(int(x), int(y)) for x, y in zip(a, b)]
    return a, b, prods


@pytest.mark.parametrize("mode", ["rne", pytest.param("rna", marks=pytest.mark.slow)])
def test_mul_exhaustive(mode):
    a, b, prods = _all_pairs()
    want = [ref_round(p, mode) for p in prods]
    n = check(golden.mul(a, b, "hif8", "hif8", rounding=mode), want, {"a": a, "b": b},
              f"mul {mode}")
    assert n == 65536


@pytest.mark.parametrize("mode,saturate", [("rna", False), ("rtz", False), ("rup", False),
                                           ("rdn", False), ("rne", True)])
def test_mul_other_modes(mode, saturate):
    a, b, prods = _all_pairs()
    idx = np.random.default_rng(3).choice(a.size, 8000, replace=False)
    want = [ref_round(prods[i], mode, saturate) for i in idx]
    check(golden.mul(a[idx], b[idx], "hif8", "hif8", rounding=mode, saturate=saturate), want,
          {"a": a[idx], "b": b[idx]}, f"mul {mode} sat={saturate}")


def _finite_codes(rng, n):
    c = rng.integers(0, 256, n).astype(np.uint8)
    return np.where((c & 0x7F) == 0x6F, 0x08, np.where(c == 0x80, 0x00, c)).astype(np.uint8)


def test_fma_hif8_in_and_out():
    rng = np.random.default_rng(5)
    n = 6000
    a, b, c = _finite_codes(rng, n), _finite_codes(rng, n), _finite_codes(rng, n)
    c[:20] = [0x80, 0x6F, 0xEF] * 6 + [0x00, 0x80]
    for mode in ("rne", "rna", "rdn"):
        want = []
        for x, y, z in zip(a, b, c):
            p, cz = ref_mul(int(x), int(y)), ref_decode(int(z))
            if p is None or cz is None:
                s = None
            elif isinstance(p, tuple) or isinstance(cz, tuple):
                sg = {t[1] for t in (p, cz) if isinstance(t, tuple)}
                s = None if len(sg) == 2 else ("inf", sg.pop())
            else:
                s = p + cz
            want.append(ref_round(s, mode))
        check(golden.fma(a, b, c, "hif8", "hif8", rounding=mode), want,
              {"a": a, "b": b, "c": c}, f"fma hif8 {mode}")


def test_mixed_formats_and_dot():
    """e4m3 x hif8 -> hif8, hif8 x hif8 + fp32 -> fp32, dot of hif8 into hif8 and fp32."""
    rng = np.random.default_rng(6)
    e4m3, fp32 = golden.parse("e4m3"), golden.parse("fp32")
    n = 3000
    a = _finite_codes(rng, n)
    b = rng.integers(0, 256, n).astype(np.uint8)
    b = np.where((b & 0x7F) == 0x7F, 0x38, b).astype(np.uint8)       # no e4m3 NaN
    got = golden.mul(b, a, "e4m3", "hif8", fmt_b="hif8")
    want = [ref_round(Fraction(float(e4m3.decode(np.uint8(y)))) * ref_decode(int(x)))
            for x, y in zip(a, b)]
    check(got, want, {"e4m3": b, "hif8": a}, "mul e4m3 x hif8 -> hif8")
    # hif8 products are exact in fp32 (4 + 4 significand bits): fma into fp32 vs float64 sum
    A = _finite_codes(rng, (n, 8))
    B = _finite_codes(rng, (n, 8))
    c32 = fp32.encode(rng.normal(0, 100, n).astype(np.float32))
    got = golden.dot(A, B, c32, "hif8", "fp32")
    exact = [sum((ref_decode(int(x)) * ref_decode(int(y)) for x, y in zip(ra, rb)), Fraction(0))
             + Fraction(float(fp32.decode(cc))) for ra, rb, cc in zip(A, B, c32)]
    want = [R.round_val(fp32, R.Val.num(v)) for v in exact]
    check(got, want, {"row": np.arange(n)}, "dot hif8 -> fp32")
    got8 = golden.dot(A, B, np.zeros(n, np.uint8), "hif8", "hif8")
    want8 = [ref_round(v) for v in exact_without_c(A, B)]
    check(got8, want8, {"row": np.arange(n)}, "dot hif8 -> hif8")
    # MAC step with a hif8 accumulator: fused = fma
    acc = _finite_codes(rng, n)
    got = golden.mac_step(acc, a, a, "hif8", "hif8")
    assert np.array_equal(got, golden.fma(a, a, acc, "hif8", "hif8"))


def exact_without_c(A, B):
    return [sum((ref_decode(int(x)) * ref_decode(int(y)) for x, y in zip(ra, rb)), Fraction(0))
            for ra, rb in zip(A, B)]


def test_names_and_errors():
    assert golden.parse("HiF8") is H or golden.parse("HiF8") == H
    assert golden.parse(H.name) == H and H.family == "hif8"
    with pytest.raises(FormatError, match=r"^hif8: code 0x100 does not fit in 8 bits$"):
        H.decode(np.array([256]))
