"""L-Mul against a Fraction reference written from docs/formats.md (and the paper's formula).

The reference normalises each operand exactly (x = (1 + xm) * 2^xe, subnormals included),
forms ``(1 + xm + ym + 2^-l(M)) * 2^(xe+ye)`` (formula) or, for the integer-add variant,
``s = xm + ym + 2^-l`` carried into the exponent: ``s * 2^(xe+ye+1)`` when ``1 <= s < 2`` and
``(s - 1) * 2^(xe+ye+2)`` when ``s >= 2`` (only for M > 4, where the offset exceeds 2 ulp), and
rounds once with ``tests/_reference.round_val``. Zero, inf and NaN follow ``mul_val``.
"""
from fractions import Fraction
from functools import lru_cache

import numpy as np
import pytest

from macforge import golden
from macforge.golden import FormatError
from _reference import Val, decode, mul_val, round_val, sum_vals


def l_of(M):
    return M if M <= 3 else (3 if M == 4 else 4)


@lru_cache(maxsize=None)
def _normalised(fmt, code: int):
    """(kind-carrying Val, xe, xm) with |x| = (1 + xm) * 2^xe exactly (subnormals too)."""
    v = decode(fmt, code)
    if v.kind != "num" or v.is_zero:
        return v, None, None
    xe = v.mag.numerator.bit_length() - v.mag.denominator.bit_length()
    if Fraction(2) ** xe > v.mag:
        xe -= 1
    xm = v.mag / Fraction(2) ** xe - 1
    assert 0 <= xm < 1
    return v, xe, xm


def ref_lmul(fmt, a: int, b: int, variant: str) -> Val:
    va, xe, xm = _normalised(fmt, a)
    vb, ye, ym = _normalised(fmt, b)
    if xe is None or ye is None:
        return mul_val(va, vb)                 # zero, inf, NaN: as mul
    off = Fraction(1, 2 ** l_of(fmt.man_bits))
    E = Fraction(2) ** (xe + ye)
    s = xm + ym + off
    if variant == "formula" or s < 1:
        v = (1 + s) * E
    elif s < 2:
        v = s * 2 * E                          # the mantissa carry went into the exponent
    else:                                      # M > 4 only (offset > 2 ulp): a carry of 2
        v = (s - 1) * 4 * E
    return Val("num", va.neg != vb.neg, v)


@lru_cache(maxsize=1 << 20)
def round_cached(fmt, v: Val, mode="rne") -> int:
    return round_val(fmt, v, mode)


def _pairs(fmt, count=None, seed=0):
    if count is None:
        N = 1 << fmt.bits
        return np.repeat(np.arange(N, dtype=np.uint64), N), np.tile(np.arange(N, dtype=np.uint64), N)
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 1 << fmt.bits, count, dtype=np.uint64),
            rng.integers(0, 1 << fmt.bits, count, dtype=np.uint64))


def _check(fmt, out, got, a, b, want_fn):
    assert got.size > 0
    bad = []
    for x, y, g in zip(a.tolist(), b.tolist(), got.tolist()):
        w = want_fn(x, y)
        if g != w:
            bad.append(f"{x:#x}*{y:#x}->{g:#x} want {w:#x}")
    assert not bad, f"{fmt.name}->{out.name}: {len(bad)} of {got.size} differ: {bad[:5]}"


@pytest.mark.parametrize("name", ["e4m3", "e5m2"])
@pytest.mark.parametrize("variant", ["formula", "intadd"])
def test_exhaustive_vs_fraction(name, variant):
    f = golden.parse(name)
    a, b = _pairs(f)
    got = golden.lmul(a, b, f, variant=variant)
    _check(f, f, got, a, b, lambda x, y: round_cached(f, ref_lmul(f, x, y, variant)))


@pytest.mark.parametrize("name,out,variant,mode", [
    ("e4m3", "fp32", "formula", "rne"), ("e5m2", "bf16", "intadd", "rne"),
    ("e4m3", "e5m2", "formula", "rtz"), ("e3m4", "e3m4", "formula", "rne"),
    ("e4m4", "e4m4", "intadd", "rup"), ("e2m1", "e2m1", "formula", "rne"),
    ("fp16", "fp16", "formula", "rne"), ("bf16", "fp32", "intadd", "rdn"),
    ("e5m3", "e5m3", "formula", "rna"), ("e3m2", "fp16", "intadd", "rne"),
])
def test_random_formats_outputs_modes(name, out, variant, mode):
    f, fo = golden.parse(name), golden.parse(out)
    a, b = _pairs(f, 4000, seed=len(name) + len(out))
    got = golden.lmul(a, b, f, fo, variant=variant, rounding=mode)
    _check(f, fo, got, a, b, lambda x, y: round_cached(fo, ref_lmul(f, x, y, variant), mode))


def test_offsets_and_paper_examples():
    assert [golden._lmul.lmul_offset_bits(M) for M in range(8)] == [0, 1, 2, 3, 3, 4, 4, 4]
    f = golden.parse("e4m3")
    z = f.encode(1.75)
    assert float(f.decode(golden.lmul(z, z, f))) == 2.5          # 1 + 0.75 + 0.75 + 1/8 = 2.625, tie to even
    fp32 = golden.parse("fp32")
    assert float(fp32.decode(golden.lmul(z, z, f, fp32))) == 2.625
    assert float(fp32.decode(golden.lmul(z, z, f, fp32, variant="intadd"))) == 3.25
    # zero, inf and NaN follow mul
    e5 = golden.parse("e5m2")
    inf, one = e5.encode(np.inf), e5.encode(1.0)
    assert int(golden.lmul(inf, 0, e5)) == int(golden.mul(inf, 0, e5)) == e5.nan_code
    assert int(golden.lmul(inf, one, e5)) == int(e5.encode(np.inf))
    assert int(golden.lmul(0x80, one, e5)) == 0x80                # -0 * 1 = -0
    assert golden.lmul(np.zeros((2, 3), np.uint8), 1, "e4m3").shape == (2, 3)


def test_bad_arguments():
    with pytest.raises(FormatError, match=r"^unknown L-Mul variant 'mitchell'; accepted: formula, intadd$"):
        golden.lmul(1, 2, "e4m3", variant="mitchell")
    with pytest.raises(FormatError, match=r"^L-Mul is defined on minifloats \(e<E>m<M>, fp16, bf16, \.\.\.\), not posit8$"):
        golden.lmul(1, 2, "posit8")
    with pytest.raises(FormatError, match=r"^L-Mul is defined on minifloats .*not int8$"):
        golden.lmul(1, 2, "int8")


@pytest.mark.parametrize("name,acc,variant", [("e4m3", "fp32", "formula"), ("e5m2", "bf16", "intadd"),
                                              ("e4m3", "bf16", "formula"), ("e5m2", "fp32", "formula")])
def test_lmul_mac_sequence(name, acc, variant):
    f, fc = golden.parse(name), golden.parse(acc)
    rng = np.random.default_rng(4)
    K = 1500
    a = rng.integers(0, 256, K, dtype=np.uint64)
    b = rng.integers(0, 256, K, dtype=np.uint64)
    a[rng.random(K) < 0.3] = f.encode(1.0)                       # keep sums mostly finite
    first = rng.random(K) < 0.05
    clear = rng.random(K) < 0.01
    want, state = [], fc.additive_identity
    for x, y, fi, cl in zip(a.tolist(), b.tolist(), first.tolist(), clear.tolist()):
        addend = decode(fc, fc.additive_identity if fi else state)
        state = round_val(fc, sum_vals([ref_lmul(f, x, y, variant), addend]))
        if cl:
            state = 0
        want.append(state)
    prev = np.array([fc.additive_identity] + want[:-1], np.uint64)
    got = golden.lmul_mac_step(prev, a, b, f, fc, first=first, clear=clear, variant=variant)
    mism = np.nonzero(got.astype(np.uint64) != np.array(want, np.uint64))[0]
    assert got.size == K and mism.size == 0, [(int(a[i]), int(b[i]), int(got[i]), want[i]) for i in mism[:5]]


def test_lmul_dot_is_the_mac_chain():
    f = golden.parse("e4m3")
    rng = np.random.default_rng(8)
    A = f.encode(rng.standard_normal((200, 16)))
    B = f.encode(rng.standard_normal((200, 16)))
    got = golden.lmul_dot(A, B, f, "fp32")
    fc = golden.parse("fp32")
    for i in range(200):
        state = fc.additive_identity
        for x, y in zip(A[i].tolist(), B[i].tolist()):
            state = round_val(fc, sum_vals([ref_lmul(f, x, y, "formula"), decode(fc, state)]))
        assert int(got[i]) == state, i
    c = fc.encode(np.full(200, 10.0))
    assert np.array_equal(golden.lmul_dot(A[:, :1], B[:, :1], f, fc, c=c),
                          golden.lmul_mac_step(c, A[:, 0], B[:, 0], f, fc))
