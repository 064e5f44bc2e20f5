"""LNS ``lns<N>f<F>`` against independent references.

- ``decimal`` at 60 digits (its ``ln``/``exp`` are correctly rounded) for decode, the MAC
  table, the Gaussian-logarithm tables and ``lns_add`` (nearest log code of the exact sum);
- exact integer tests for encode: L is the nearest log code of x iff
  2^(2L-1) < |x|^(2^(F+1)) < 2^(2L+1), decided with Python integers;
- scalar integer re-statements of docs/formats.md for mul and the LNS-Madam MAC.
"""
import bisect
from decimal import Decimal, getcontext
from fractions import Fraction

import numpy as np
import pytest

from macforge import golden
from macforge.golden import FormatError

getcontext().prec = 60
LN2 = Decimal(2).ln()


def d_exp2(t: Fraction) -> Decimal:
    return (Decimal(t.numerator) / Decimal(t.denominator) * LN2).exp()


def d_log2(x) -> Decimal:
    return Decimal(x).ln() / LN2


def d_round(v: Decimal) -> int:
    r = int(v.to_integral_value(rounding="ROUND_HALF_EVEN"))
    assert abs(v - r) != Decimal("0.5")          # no ties (they are impossible)
    return r


def fields(f, code):
    code = int(code)
    s = code >> (f.n - 1)
    raw = code & ((1 << (f.n - 1)) - 1)
    L = raw - (1 << (f.n - 1)) if raw >> (f.n - 2) else raw
    return s, L


def pack(f, s, L):
    if L < f.L_min + 1:
        L = f.L_min
    L = min(L, f.L_max)
    return (s << (f.n - 1)) | (L & ((1 << (f.n - 1)) - 1))


FORMATS = ["lns8", "lns6f2", "lns12f6", "lns3f0", "lns10f8", "lns16f10"]


def test_names_and_limits():
    f = golden.parse("lns8")
    assert (f.n, f.frac, f.name) == (8, 3, "lns8f3") and golden.parse(f.name) == f
    assert (f.L_min, f.L_max, f.zero_code) == (-64, 63, 0x40)
    for bad, why in [("lns8f7", r"LNS fraction bits must be 0\.\.min\(16, N-2\), not 7"),
                     ("lns16f2", r"lns16f2 spans 2\^\+-4096, beyond float64 \(N-2-F must be at most 9\)"),
                     ("lns25f16", r"LNS width must be 3\.\.24, not 25")]:
        with pytest.raises(FormatError, match=rf"^unknown format '{bad}' \({why}\); accepted: .*lns<N>f<F>"):
            golden.parse(bad)


@pytest.mark.parametrize("name", FORMATS)
def test_decode_is_correctly_rounded(name):
    f = golden.parse(name)
    codes = np.arange(1 << f.n, dtype=np.uint64) if f.n <= 12 else \
        np.random.default_rng(1).integers(0, 1 << f.n, 4096, dtype=np.uint64)
    got = f.decode(codes)
    assert codes.size > 0
    for c, g in zip(codes, got):
        s, L = fields(f, c)
        if L == f.L_min:
            assert g == 0 and np.signbit(g) == bool(s)
            continue
        want = float(d_exp2(Fraction(L, 1 << f.frac)))
        assert g == (-want if s else want), f"{name} code {int(c):#x}"


def _exact_nearest_L(x: float, F: int) -> int:
    """round(2^F log2|x|) decided with integers: 2^(2L-1) < |x|^(2^(F+1)) < 2^(2L+1)."""
    fx = abs(Fraction(x))
    k = 1 << (F + 1)
    num, den = fx.numerator ** k, fx.denominator ** k
    L = int(np.floor(np.log2(abs(x)) * (1 << F) + 0.5))        # a guess, then corrected exactly

    def above(j):                                              # |x|^k >= 2^j
        return num >= den << j if j >= 0 else num << -j >= den
    while not above(2 * L - 1):
        L -= 1
    while above(2 * L + 1):
        L += 1
    return L


@pytest.mark.parametrize("name", ["lns8", "lns6f2", "lns3f0", "lns12f6"])
def test_encode_nearest_log_code_exact(name):
    f = golden.parse(name)
    F = f.frac
    rng = np.random.default_rng(3)
    span = 2 ** (f.n - 2 - F) + 2
    x = np.ldexp(rng.uniform(1, 2, 3000), rng.integers(-span, span, 3000)) * rng.choice([-1, 1], 3000)
    # the decision boundaries 2^((2L+1)/2^(F+1)) as float64, and their neighbours
    Ls = np.arange(f.L_min - 2, f.L_max + 2)
    b = np.array([float(d_exp2(Fraction(2 * int(L) + 1, 1 << (F + 1)))) for L in Ls])
    x = np.concatenate([x, b, np.nextafter(b, 0), np.nextafter(b, np.inf), -b, f.decode(f.codes())])
    got = f.encode(x)
    for v, g in zip(x, got):
        if v == 0:
            assert int(g) == (f.sign_bit if np.signbit(v) else 0) | f.zero_code
            continue
        want = pack(f, int(v < 0), _exact_nearest_L(v, F))
        assert int(g) == want, f"{name}: x={v!r} got {int(g):#x} want {want:#x}"


def test_encode_specials():
    f = golden.parse("lns8")
    got = f.encode(np.array([0.0, -0.0, np.inf, -np.inf, 1e-300, -1e300]))
    assert got.tolist() == [0x40, 0xC0, 0x3F, 0xBF, 0x40, 0xBF]
    with pytest.raises(FormatError, match=r"^lns8f3 has no NaN; cannot encode NaN$"):
        f.encode(np.nan)
    with pytest.raises(FormatError, match=r"^lns8f3 rounds to the nearest log code only "
                                          r"\(rne or rna\); rounding 'rtz' is not defined "
                                          r"for LNS$"):
        f.encode(1.0, rounding="rtz")


@pytest.mark.parametrize("name", ["lns8", "lns6f2", "lns3f0"])
def test_mul_exhaustive(name):
    f = golden.parse(name)
    N = 1 << f.n
    a = np.repeat(np.arange(N, dtype=np.uint64), N)
    b = np.tile(np.arange(N, dtype=np.uint64), N)
    got = golden.mul(a, b, f)
    assert got.size == N * N
    for x, y, g in zip(a, b, got):
        sx, Lx = fields(f, x)
        sy, Ly = fields(f, y)
        L = f.L_min if f.L_min in (Lx, Ly) else Lx + Ly
        assert int(g) == pack(f, sx ^ sy, L), f"{int(x):#x} * {int(y):#x}"


def test_lns_has_no_exact_triples():
    f = golden.parse("lns8")
    msg = r"^lns8f3 values 2\^\(L/2\^F\) are irrational, so exact-triple operations .*$"
    with pytest.raises(FormatError, match=msg):
        golden.fma(1, 2, 3, f, f)
    with pytest.raises(FormatError, match=msg):
        golden.dot(np.ones((2, 3), np.uint8), np.ones((2, 3), np.uint8), 0, f, f)
    with pytest.raises(FormatError, match=msg):
        golden.mul(1, 2, f, "fp32")
    with pytest.raises(FormatError, match=msg):
        golden.mul(1, 2, "e4m3", f)
    with pytest.raises(FormatError, match=r"^lns8f3 products are exact sums of log fields; only rounding 'rne'"):
        golden.mul(1, 2, f, rounding="rtz")


@pytest.mark.parametrize("F", [0, 1, 2, 3, 6, 8])
def test_gauss_tables_contents(F):
    SB, DB = golden.lns_gauss_tables(golden.Lns(F + 4, F))
    assert len(SB) == len(DB) and SB[-1] == 0 and DB[-1] == 0
    assert SB[-2] != 0 or DB[-2] != 0                       # the table stops at the first all-zero d
    scale = 1 << F
    for d in range(len(SB)):
        w = d_exp2(Fraction(-d, scale))
        assert SB[d] == d_round(d_log2(1 + w) * scale), f"SB[{d}]"
        if d:
            assert DB[d] == d_round(d_log2(1 - w) * scale), f"DB[{d}]"
    # beyond the table both functions round to 0
    w = d_exp2(Fraction(-len(SB), scale))
    assert d_round(d_log2(1 + w) * scale) == 0 and d_round(d_log2(1 - w) * scale) == 0


@pytest.mark.parametrize("name,exhaustive", [("lns8", True), ("lns6f2", True), ("lns12f6", False)])
def test_lns_add_is_nearest_code_of_exact_sum(name, exhaustive):
    f = golden.parse(name)
    if exhaustive:
        N = 1 << f.n
        a = np.repeat(np.arange(N, dtype=np.uint64), N)
        b = np.tile(np.arange(N, dtype=np.uint64), N)
    else:
        rng = np.random.default_rng(9)
        a = rng.integers(0, 1 << f.n, 20000, dtype=np.uint64)
        b = (a + rng.integers(-300, 300, a.size).astype(np.uint64)) & np.uint64(f.mask)   # close: cancellation
        b[::2] ^= np.uint64(f.sign_bit)
    got = golden.lns_add(a, b, f)
    scale = 1 << f.frac
    # |s| rounds to L iff B[L-1] < |s| < B[L] with B[L] = 2^((2L+1) / 2^(F+1)) (no ties)
    Ls = list(range(f.L_min - 1, f.L_max + 2))
    bounds = [d_exp2(Fraction(2 * L + 1, 2 * scale)) for L in Ls]
    value = {}

    def val(code):
        if code not in value:
            s, L = fields(f, code)
            value[code] = (s, L, Decimal(0) if L == f.L_min else (-1) ** s * d_exp2(Fraction(L, scale)))
        return value[code]

    def nearest(mag):
        i = bisect.bisect_left(bounds, mag)
        assert i == len(bounds) or bounds[i] != mag
        return Ls[i] if i < len(Ls) else f.L_max + 1          # beyond the last bound: saturates

    for x, y, g in zip(a.tolist(), b.tolist(), got.tolist()):
        sx, Lx, vx = val(x)
        sy, Ly, vy = val(y)
        if Lx == f.L_min and Ly == f.L_min:
            want = pack(f, sx & sy, f.L_min)
        elif Lx == f.L_min:
            want = y
        elif Ly == f.L_min:
            want = x
        else:
            s = vx + vy
            want = pack(f, 0, f.L_min) if s == 0 else pack(f, int(s < 0), nearest(abs(s)))
        assert g == want, f"{name}: {x:#x} + {y:#x} -> {g:#x}, want {want:#x}"


@pytest.mark.parametrize("F,P", [(0, 4), (2, 6), (3, 8), (3, 20), (6, 12), (10, 30)])
def test_mac_table(F, P):
    T = golden.lns_mac_table(golden.Lns(F + 4, F), P)
    assert len(T) == 1 << F
    for r, t in enumerate(T.tolist()):
        assert t == d_round(d_exp2(Fraction(r, 1 << F)) * (1 << P)), r


def _ref_mac(f, codes_a, codes_b, first, clear, P, A, saturate):
    """docs/formats.md's LNS-Madam MAC, step by step with Python integers."""
    F = f.frac
    acc, out = 0, []
    for x, y, fi, cl in zip(codes_a, codes_b, first, clear):
        sx, Lx = fields(f, x)
        sy, Ly = fields(f, y)
        if fi:
            acc = 0
        if Lx != f.L_min and Ly != f.L_min:
            L = Lx + Ly
            q, r = L >> F, L & ((1 << F) - 1)
            T = d_round(d_exp2(Fraction(r, 1 << F)) * (1 << P))
            mag = T << q if q >= 0 else T >> -q
            acc += -mag if sx ^ sy else mag
        if saturate:
            acc = max(-(1 << (A - 1)), min((1 << (A - 1)) - 1, acc))
        else:
            acc = ((acc + (1 << (A - 1))) % (1 << A)) - (1 << (A - 1))
        if cl:
            acc = 0
        out.append(acc % (1 << A))
    return out


@pytest.mark.parametrize("name,P,A,saturate", [("lns8", 8, 24, False), ("lns8", 8, 12, False),
                                               ("lns8", 8, 12, True), ("lns12f6", 16, 40, True),
                                               ("lns6f2", 2, 8, False), ("lns10f8", 3, 62, False)])
def test_lns_mac_step_sequence(name, P, A, saturate):
    f = golden.parse(name)
    rng = np.random.default_rng(P * A)
    K = 3000
    a = rng.integers(0, 1 << f.n, K, dtype=np.uint64)
    b = rng.integers(0, 1 << f.n, K, dtype=np.uint64)
    first = rng.random(K) < 0.05
    clear = rng.random(K) < 0.01
    want = _ref_mac(f, a.tolist(), b.tolist(), first.tolist(), clear.tolist(), P, A, saturate)
    acc = np.zeros((), np.uint64)
    got = []
    for k in range(400):                                  # the state machine, one step at a time
        acc = golden.lns_mac_step(acc, a[k], b[k], f, P=P, A=A, first=first[k], clear=clear[k],
                                  saturate=saturate)
        got.append(int(acc))
    assert got == want[:400]
    # and vectorised over independent steps from the previous (reference) states
    prev = np.array([0] + want[:-1], np.uint64)
    vec = golden.lns_mac_step(prev, a, b, f, P=P, A=A, first=first, clear=clear, saturate=saturate)
    assert vec.tolist() == want


def test_lns_mac_helpers():
    f = golden.parse("lns8")
    one, three = f.encode(1.0), f.encode(3.0)
    acc = golden.lns_mac_step(0, one, three, f, P=8, A=24, first=True)
    assert golden.lns_acc_value(acc, P=8, A=24) == 395 / 128
    neg = golden.lns_mac_step(acc, f.encode(-3.0), one, f, P=8, A=24)
    assert golden.lns_acc_value(neg, P=8, A=24) == 0.0
    assert golden.lns_mac_terms(three, three, f, 8).tolist() == (golden.lns_mac_table(f, 8)[2] << 3).tolist()
    with pytest.raises(FormatError, match=r"^A \(accumulator bits\) must be an integer 2\.\.62, not 63$"):
        golden.lns_mac_step(0, one, one, f, P=8, A=63)
    with pytest.raises(FormatError, match=r"^acc must be A=8-bit codes"):
        golden.lns_mac_step(300, one, one, f, P=2, A=8)
