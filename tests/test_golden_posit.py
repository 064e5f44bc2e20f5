"""Posits and their quire against independent references.

- SoftPosit (PyPI ``softposit``; its ``posit8`` is posit(8,0), ``posit16`` is (16,1),
  ``posit32`` is (32,2), ``posit_2`` is (N,2)): exhaustive mul and add for posit8es0 and posit8
  (and every posit(N,2) with N = 3..7), random mul/add/fused multiply-add for posit16es1,
  posit16 and posit32, and the quire: bit-exact quire8 state, quire16/quire_2 read-outs,
  overflow wrap.
- A scalar Fraction reference written from the standard's definition of the encoding: decode
  of every code, rounding (nearest on the encoding: the midpoint between codes c and c+1 is the
  (n+1)-bit posit 2c+1; never 0 or NaR), directed modes, mul/fma/dot.
"""
from fractions import Fraction

import numpy as np
import pytest

from macforge import golden
from macforge.golden import FormatError

from _posit_reference import ref_decode

sp = pytest.importorskip("softposit")
import _softposit as C  # noqa: E402  (the SWIG module behind softposit)


# ---------------------------------------------------------------------------------------------
# the Fraction reference (scalar, independent of golden/_posit.py)
# ---------------------------------------------------------------------------------------------
def ref_round(x, n: int, es: int, mode: str = "rne") -> int:
    """posit(n, es) code of the real x (a Fraction) by the standard's rule, searched by value."""
    mask = (1 << n) - 1
    if x is None:
        return 1 << (n - 1)
    if x == 0:
        return 0
    neg = x < 0
    ax = abs(x)
    maxc = (1 << (n - 1)) - 1
    if ax >= ref_decode(maxc, n, es):
        mag = maxc
    elif ax <= ref_decode(1, n, es):
        mag = 1
    else:
        lo, hi = 1, maxc                       # v(lo) <= ax < v(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if ref_decode(mid, n, es) <= ax:
                lo = mid
            else:
                hi = mid
        c = lo
        if ref_decode(c, n, es) == ax:
            mag = c
        elif mode == "rne":
            midpoint = ref_decode(2 * c + 1, n + 1, es)      # c's bit string followed by a 1
            mag = c if ax < midpoint else c + 1 if ax > midpoint else (c if c % 2 == 0 else c + 1)
        elif mode == "rtz":
            mag = c
        elif mode == "rup":
            mag = c if neg else c + 1
        elif mode == "rdn":
            mag = c + 1 if neg else c
        else:
            raise ValueError(mode)
    return (-mag) & mask if neg else mag


def hexes(*arrs):
    return " ".join(f"{int(v):#x}" for v in arrs)


# ---------------------------------------------------------------------------------------------
# SoftPosit, scalar (about 0.1M operations per second)
# ---------------------------------------------------------------------------------------------
class SoftPosit:
    """Calls SoftPosit on code arrays for posit(8,0), (16,1), (32,2) and (N,2)."""

    def __init__(self, fmt):
        self.n, es = fmt.n, fmt.es
        native = {(8, 0): ("p8", sp.posit8_t), (16, 1): ("p16", sp.posit16_t),
                  (32, 2): ("p32", sp.posit32_t)}.get((self.n, es))
        if native:
            self.prefix, cls = native
            self.shift, self.x = 0, None
        elif es == 2:
            self.prefix, cls = "pX2", sp.posit_2_t
            self.shift, self.x = 32 - self.n, self.n          # posit_2 codes are left-aligned
        else:
            raise ValueError(f"SoftPosit has no posit({self.n},{es})")
        self.regs = [cls() for _ in range(3)]

    def _call(self, op, *codes):
        fn = getattr(C, f"{self.prefix}_{op}")
        regs = self.regs[:len(codes)]
        extra = (self.x,) if self.x else ()
        out = np.empty(len(codes[0]), np.uint64)
        cols = [np.asarray(c).astype(np.uint64).tolist() for c in codes]
        for i, vals in enumerate(zip(*cols)):
            for r, v in zip(regs, vals):
                r.v = v << self.shift
            out[i] = fn(*regs, *extra).v >> self.shift
        return out

    def mul(self, a, b):
        return self._call("mul", a, b)

    def add(self, a, b):
        return self._call("add", a, b)

    def mul_add(self, a, b, c):
        return self._call("mulAdd", a, b, c)


def _check(fmt, got, want, *operands):
    got = np.asarray(got).astype(np.uint64)
    want = np.asarray(want).astype(np.uint64)
    assert got.size > 0
    bad = np.nonzero(got != want)[0]
    assert bad.size == 0, (f"{fmt.name}: {bad.size} of {got.size} differ, e.g. "
                           + "; ".join(hexes(*(o[i] for o in operands), got[i], want[i]) for i in bad[:5]))


def _all_pairs(n):
    codes = np.arange(1 << n, dtype=np.uint64)
    return np.repeat(codes, 1 << n), np.tile(codes, 1 << n)


# ---------------------------------------------------------------------------------------------
# names and format properties
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,n,es,canonical", [
    ("posit8", 8, 2, "posit8"), ("posit16es1", 16, 1, "posit16es1"), ("posit8es2", 8, 2, "posit8"),
    ("POSIT32", 32, 2, "posit32"), ("posit3es0", 3, 0, "posit3es0"), ("posit32es4", 32, 4, "posit32es4"),
])
def test_names_round_trip(name, n, es, canonical):
    f = golden.parse(name)
    assert (f.n, f.es, f.name) == (n, es, canonical)
    assert golden.parse(f.name) == f
    assert f.quire_bits == n << (es + 2)


@pytest.mark.parametrize("name,why", [
    ("posit2", "posit width must be 3..32, not 2"),
    ("posit33", "posit width must be 3..32, not 33"),
    ("posit8es5", "posit exponent size es must be 0..4, not 5"),
])
def test_bad_names(name, why):
    with pytest.raises(FormatError, match=rf"^unknown format '{name}' \({why}\); accepted: int<N>.*posit<N>\[es<K>\].*$"):
        golden.parse(name)


def test_unknown_name_lists_the_new_families():
    with pytest.raises(FormatError, match=r"^unknown format 'posit9x'; accepted: .*posit<N>\[es<K>\].*lns<N>f<F>.*$"):
        golden.parse("posit9x")


def test_quire_layout_is_the_standards():
    p = golden.parse("posit32")
    assert (p.quire_bits, p.quire_frac_bits, p.quire_carry_bits) == (512, 240, 31)   # 16n, 8n-16
    assert golden.parse("posit8es0").quire_bits == 32          # SoftPosit quire8
    assert golden.parse("posit16es1").quire_bits == 128        # SoftPosit quire16


# ---------------------------------------------------------------------------------------------
# decode / encode against the Fraction reference
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n,es", [(3, 0), (4, 1), (5, 3), (6, 2), (8, 0), (8, 2), (8, 4), (10, 1), (12, 2)])
def test_decode_every_code(n, es):
    f = golden.parse(f"posit{n}es{es}")
    codes = np.arange(1 << n, dtype=np.uint64)
    got = f.decode(codes)
    want = [ref_decode(int(c), n, es) for c in codes]
    assert np.isnan(got[1 << (n - 1)]) and want[1 << (n - 1)] is None
    for c, g, w in zip(codes, got, want):
        if w is not None:
            assert Fraction(g) == w, hexes(c)


@pytest.mark.parametrize("name", ["posit16", "posit32", "posit32es0", "posit24es4"])
def test_decode_random_wide_codes(name):
    f = golden.parse(name)
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 1 << f.n, 3000, dtype=np.uint64)
    codes[:4] = [1, f.maxpos_code, (1 << f.n) - 1, f.nar_code]
    got = f.decode(codes)
    for c, g in zip(codes, got):
        w = ref_decode(int(c), f.n, f.es)
        assert (np.isnan(g) and w is None) or Fraction(g) == w, hexes(c)


def _encode_cases(f, rng, count):
    """Random doubles over the whole range, every code's value, midpoints and their neighbours."""
    top = f.max_scale + 4
    x = np.ldexp(rng.uniform(1, 2, count), rng.integers(-top, top, count)) * rng.choice([-1, 1], count)
    if f.n <= 12:
        codes = np.arange(1 << f.n, dtype=np.uint64)
        codes = codes[codes != f.nar_code]
        vals = f.decode(codes)
        wide = golden.Posit(f.n + 1, f.es)                    # encoding midpoints: code 2c + 1
        mids = wide.decode(2 * codes[(codes > 0) & (codes < f.maxpos_code)] + 1)
        x = np.concatenate([x, vals, mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf)])
    return x


@pytest.mark.parametrize("name", ["posit8", "posit8es0", "posit6es1", "posit10es3", "posit16es1", "posit32"])
@pytest.mark.parametrize("mode", ["rne", "rtz", "rup", "rdn"])
def test_encode_matches_fraction_rounding(name, mode):
    f = golden.parse(name)
    rng = np.random.default_rng(7)
    x = _encode_cases(f, rng, 600 if f.n > 16 else 1500)
    got = f.encode(x, rounding=mode)
    want = [ref_round(Fraction(v), f.n, f.es, mode) for v in x]
    bad = [(v, int(g), w) for v, g, w in zip(x, got, want) if int(g) != w]
    assert x.size > 1000 or f.n > 16
    assert not bad, f"{name} {mode}: {len(bad)} of {x.size} differ, e.g. {bad[:4]}"


def test_encode_specials_and_no_underflow_or_overflow():
    f = golden.parse("posit8")
    got = f.encode(np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-300, -1e-300, 1e300, -1e300]))
    assert got.tolist() == [0, 0, 0x80, 0x80, 0x80, 0x01, 0xFF, 0x7F, 0x81]


def test_sr_is_defined_on_the_encoding():
    f = golden.parse("posit16es1")
    x = np.random.default_rng(3).standard_normal(2000) * 100
    assert np.array_equal(f.encode(x, "sr", rnd=np.zeros(x.size, np.uint8)), f.encode(x, "rtz"))
    up = f.encode(x, "sr", rnd=np.full(x.size, 255, np.uint8))     # rounds up unless t == 0
    away = np.where(np.signbit(x), f.encode(x, "rdn"), f.encode(x, "rup"))
    exactish = f.encode(x, "rtz") == f.encode(x, "rne")
    assert np.all((up == away) | exactish)


# ---------------------------------------------------------------------------------------------
# SoftPosit: exhaustive 8-bit, random 16/32-bit
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["posit8es0", "posit8", "posit3", "posit4", "posit5", "posit6", "posit7"])
@pytest.mark.parametrize("op", ["mul", "add"])
def test_exhaustive_vs_softposit(name, op):
    f = golden.parse(name)
    a, b = _all_pairs(f.n)
    got = golden.mul(a, b, f) if op == "mul" else golden._ops.add(a, b, f)
    _check(f, got, getattr(SoftPosit(f), op)(a, b), a, b)


def _random_operands(f, count, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << f.n, count, dtype=np.uint64)
    b = rng.integers(0, 1 << f.n, count, dtype=np.uint64)
    # a quarter near one another in magnitude (cancellation in add, mid-range products)
    q = count // 4
    b[:q] = (a[:q] + rng.integers(-64, 64, q).astype(np.uint64)) & np.uint64((1 << f.n) - 1)
    b[q:2 * q] = (-a[q:2 * q].astype(np.int64) + rng.integers(-64, 64, q)).astype(np.uint64) & np.uint64((1 << f.n) - 1)
    corners = np.array([0, 1, f.maxpos_code, f.nar_code, (1 << f.n) - 1, f.nar_code + 1,
                        1 << (f.n - 2)], np.uint64)
    a[-len(corners):] = corners
    b[-2 * len(corners):-len(corners)] = corners
    return a, b


@pytest.mark.parametrize("name,count", [
    ("posit16es1", 100_000), ("posit16", 100_000), ("posit32", 20_000), ("posit24", 20_000),
    pytest.param("posit16es1", 1_000_000, marks=pytest.mark.slow),
    pytest.param("posit16", 1_000_000, marks=pytest.mark.slow),
    pytest.param("posit32", 1_000_000, marks=pytest.mark.slow),
])
@pytest.mark.parametrize("op", ["mul", "add"])
def test_random_vs_softposit(name, count, op):
    f = golden.parse(name)
    a, b = _random_operands(f, count, seed=count + f.n)
    got = golden.mul(a, b, f) if op == "mul" else golden._ops.add(a, b, f)
    _check(f, got, getattr(SoftPosit(f), op)(a, b), a, b)


@pytest.mark.parametrize("name", ["posit8es0", "posit8", "posit16es1", "posit16"])
def test_fma_vs_softposit_mul_add(name):
    """SoftPosit's pN_mulAdd is the fused a*b + c (one rounding), as golden.fma."""
    f = golden.parse(name)
    a, b = _random_operands(f, 20_000, seed=99)
    c = np.random.default_rng(1).integers(0, 1 << f.n, a.size, dtype=np.uint64)
    with np.errstate(all="ignore"):
        c[: a.size // 4] = f.encode(-(f.decode(a) * f.decode(b)))[: a.size // 4]   # cancellation
    got = golden.fma(a, b, c, f, f)
    _check(f, got, SoftPosit(f).mul_add(a, b, c), a, b, c)


# ---------------------------------------------------------------------------------------------
# operations against the Fraction reference (any n, es; NaR propagation)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["posit12es3", "posit9es1", "posit20es0", "posit32es4"])
def test_mul_fma_dot_vs_fraction(name):
    f = golden.parse(name)
    n, es = f.n, f.es
    rng = np.random.default_rng(n * 10 + es)
    N, K = 400, 5
    A = rng.integers(0, 1 << n, (N, K), dtype=np.uint64)
    B = rng.integers(0, 1 << n, (N, K), dtype=np.uint64)
    c = rng.integers(0, 1 << n, N, dtype=np.uint64)
    A[:20, 0] = f.nar_code
    mul = golden.mul(A[:, 0], B[:, 0], f)
    fma = golden.fma(A[:, 0], B[:, 0], c, f, f)
    dot = golden.dot(A, B, c, f, f)
    for i in range(N):
        va = [ref_decode(int(v), n, es) for v in A[i]]
        vb = [ref_decode(int(v), n, es) for v in B[i]]
        vc = ref_decode(int(c[i]), n, es)
        nar = any(v is None for v in va + vb + [vc])
        p0 = None if va[0] is None or vb[0] is None else va[0] * vb[0]
        assert int(mul[i]) == ref_round(p0, n, es), hexes(A[i, 0], B[i, 0])
        s = None if p0 is None or vc is None else p0 + vc
        assert int(fma[i]) == ref_round(s, n, es), hexes(A[i, 0], B[i, 0], c[i])
        d = None if nar else sum((x * y for x, y in zip(va, vb)), vc)
        assert int(dot[i]) == ref_round(d, n, es), hexes(*A[i], *B[i], c[i])


def test_nar_and_mixed_specials():
    p = golden.parse("posit8")
    e5 = golden.parse("e5m2")
    one = p.encode(1.0)
    assert int(golden.mul(p.nar_code, one, p)) == p.nar_code
    assert int(golden.fma(one, one, p.nar_code, p, p)) == p.nar_code
    assert int(golden.mac_step(p.nar_code, one, one, p, p)) == p.nar_code
    # a float inf or NaN meeting a posit result: NaR (posits have no inf)
    assert int(golden.mul(e5.encode(np.inf), e5.encode(2.0), e5, p)) == p.nar_code
    assert int(golden.mul(e5.encode(np.inf), e5.encode(0.0), e5, p)) == p.nar_code
    assert int(golden.mul(one, e5.nan_code, p, p, fmt_b=e5)) == p.nar_code
    # nonzero never rounds to 0 / NaR: minpos * minpos = minpos, maxpos * maxpos = maxpos
    assert int(golden.mul(1, 1, p)) == 1 and int(golden.mul(0xFF, 1, p)) == 0xFF
    assert int(golden.mul(0x7F, 0x7F, p)) == 0x7F and int(golden.mul(0x81, 0x7F, p)) == 0x81
    # a posit product into a float format rounds like any exact value
    assert float(golden.parse("fp32").decode(golden.mul(p.encode(3.0), p.encode(0.5), p, "fp32"))) == 1.5


# ---------------------------------------------------------------------------------------------
# the quire
# ---------------------------------------------------------------------------------------------
def _softposit_quire(f, A, B):
    """SoftPosit quire after every step (states for quire8, read-outs always)."""
    R, K = A.shape
    sp_f = SoftPosit(f)
    clr, fdp, to_p = {"p8": (C.q8Clr, C.q8_fdp_add, C.q8_to_p8),
                      "p16": (C.q16Clr, C.q16_fdp_add, C.q16_to_p16),
                      "pX2": (C.qX2Clr, C.qX2_fdp_add, None)}[sp_f.prefix]
    x, y = sp_f.regs[0], sp_f.regs[1]
    reads = np.empty((R, K), np.uint64)
    states = np.empty((R, K), np.uint64)
    for r in range(R):
        q = clr()
        for k in range(K):
            x.v = int(A[r, k]) << sp_f.shift
            y.v = int(B[r, k]) << sp_f.shift
            q = fdp(q, x, y)
            reads[r, k] = (to_p(q).v if to_p else C.qX2_to_pX2(q, sp_f.x).v) >> sp_f.shift
            states[r, k] = q.v if sp_f.prefix == "p8" else 0
    return states, reads


@pytest.mark.parametrize("name", ["posit8es0", "posit16es1", "posit8", "posit16"])
def test_quire_mac_vs_softposit(name):
    f = golden.parse(name)
    rng = np.random.default_rng(17)
    R, K = 300, 24
    A = rng.integers(0, 1 << f.n, (R, K), dtype=np.uint64)
    B = rng.integers(0, 1 << f.n, (R, K), dtype=np.uint64)
    A[A == f.nar_code] = 1
    B[B == f.nar_code] = f.maxpos_code
    A[:30] = np.where(rng.random((30, K)) < 0.5, f.maxpos_code, (1 << f.n) - 1)   # big, cancelling
    states, reads = _softposit_quire(f, A, B)
    q = golden.quire_zero(f, R)
    for k in range(K):
        q = golden.quire_step(q, A[:, k], B[:, k], f)
        _check(f, golden.quire_read(q, f), reads[:, k], A[:, k], B[:, k])
        if f.quire_bits == 32:                                     # quire8: compare the state bits
            _check(f, q[:, 0], states[:, k], A[:, k], B[:, k])
    # the read-out is the exact sum rounded once: golden.dot
    _check(f, golden.dot(A, B, 0, f, f), reads[:, -1], A[:, 0], B[:, 0])


def test_quire_overflow_wraps_like_softposit():
    f = golden.parse("posit8es0")                  # 7 carry bits: 2^7 products of maxpos^2 overflow
    K = 300
    A = np.full((1, K), f.maxpos_code, np.uint64)
    states, reads = _softposit_quire(f, A, A)
    q = golden.quire_zero(f)
    for k in range(K):
        q = golden.quire_step(q, f.maxpos_code, f.maxpos_code, f)
        if states[0, k] == 0 and k == 127:         # SoftPosit maps the NaR pattern 0x80000000 to 0
            assert q[0] == 0x8000_0000 and int(golden.quire_read(q, f)) == f.nar_code
            break
        assert q[0] == states[0, k] and golden.quire_read(q, f) == reads[0, k]
    else:
        pytest.fail("the quire never reached the NaR pattern")


def test_quire_nar_clear_first_sub():
    f = golden.parse("posit16")
    one, two = f.encode(1.0), f.encode(2.0)
    q = golden.quire_step(golden.quire_zero(f), one, two, f)
    q = golden.quire_step(q, one, one, f, sub=True)
    assert float(f.decode(golden.quire_read(q, f))) == 1.0
    q_nar = golden.quire_step(q, f.nar_code, one, f)
    assert golden.quire_to_int(q_nar, f) is None and int(golden.quire_read(q_nar, f)) == f.nar_code
    q2 = golden.quire_step(q_nar, two, two, f)                         # NaR is sticky
    assert int(golden.quire_read(q2, f)) == f.nar_code
    q3 = golden.quire_step(q_nar, two, two, f, first=True)             # first restarts
    assert float(f.decode(golden.quire_read(q3, f))) == 4.0
    assert not golden.quire_step(q_nar, two, two, f, clear=True).any()
    with pytest.raises(FormatError, match=r"^a posit16 quire is an unsigned integer array of 8 32-bit limbs"):
        golden.quire_step(np.zeros(3, np.uint32), one, one, f)
    with pytest.raises(FormatError, match=r"^the quire belongs to posit formats, not e4m3fn$"):
        golden.quire_zero("e4m3")


def test_quire_exact_value_is_sum_of_products():
    f = golden.parse("posit32es3")
    rng = np.random.default_rng(2)
    A = rng.integers(0, 1 << 32, (50, 8), dtype=np.uint64)
    B = rng.integers(0, 1 << 32, (50, 8), dtype=np.uint64)
    A[A == f.nar_code] = 0
    B[B == f.nar_code] = 0
    q = golden.quire_zero(f, 50)
    for k in range(8):
        q = golden.quire_step(q, A[:, k], B[:, k], f)
    ints = golden.quire_to_int(q, f)
    for i in range(50):
        exact = sum(ref_decode(int(a), 32, 3) * ref_decode(int(b), 32, 3) for a, b in zip(A[i], B[i]))
        assert Fraction(ints[i], 1 << f.quire_frac_bits) == exact
    assert np.array_equal(golden.quire_read(q, f), golden.dot(A, B, 0, f, f))
