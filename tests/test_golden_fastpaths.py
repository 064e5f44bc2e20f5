"""The golden model's accelerations are proven bit-identical to its general exact path.

- ``fma`` through float64 round-to-odd (``_fma_round_to_odd``) vs the exact-triple path;
- the native float16/float32 casts in ``encode`` vs the general rounder;
- small-format ``mul`` tables vs the general product path.
"""
import numpy as np
import pytest

from macforge import golden
from macforge.golden._exact import round_to, unpack, FINITE
from macforge.golden._formats import Rounding
from macforge.golden._ops import _fast_fma_ok, _fma_exact, _fma_round_to_odd, _mul_general

PAIRS = [("e4m3", "fp32"), ("e5m2", "fp16"), ("e4m3", "bf16"), ("fp16", "fp32"),
         ("bf16", "fp32"), ("e2m1", "fp16"), ("e4m3fnuz", "e5m2fnuz"), ("fp32", "fp32"),
         ("e3m4", "e4m3")]
MODES = [Rounding.RNE, Rounding.RTZ, Rounding.RNA, Rounding.RUP]


def _operands(rng, fa, fc, n):
    a = rng.integers(0, 1 << fa.bits, n, dtype=np.uint64)
    b = rng.integers(0, 1 << fa.bits, n, dtype=np.uint64)
    c = rng.integers(0, 1 << fc.bits, n, dtype=np.uint64)
    q = n // 4
    a[:q] = rng.choice(fa.corner_codes().astype(np.uint64), q)
    c[:q] = rng.choice(fc.corner_codes().astype(np.uint64), q)
    sel = slice(n // 2, n // 2 + n // 8)                     # massive cancellation
    with np.errstate(all="ignore"):
        p = fa.decode(a[sel]) * fa.decode(b[sel])
    c[sel] = fc.encode(np.where(np.isfinite(p), -p, 0.0))
    return a, b, c


@pytest.mark.parametrize("fa,fc", PAIRS)
def test_fma_round_to_odd_equals_exact_path(fa, fc):
    fa, fc = golden.parse(fa), golden.parse(fc)
    assert _fast_fma_ok(fa, fa, fc, Rounding.RNE)
    rng = np.random.default_rng(11)
    a, b, c = _operands(rng, fa, fc, 200_000)
    checked = 0
    for mode in MODES:
        for sat in (False, True):
            x = _fma_exact(fa, fa, fc, a, b, c, mode, sat, None, 0)
            y = _fma_round_to_odd(fa, fa, fc, a, b, c, mode, sat)
            bad = np.nonzero(x != y)[0]
            assert bad.size == 0, (f"{fa.name}x{fa.name}+{fc.name} {mode.value} sat={sat}: "
                                   f"a={a[bad[0]]:#x} b={b[bad[0]]:#x} c={c[bad[0]]:#x} "
                                   f"exact={x[bad[0]]:#x} fast={y[bad[0]]:#x}")
            checked += x.size
    assert checked > 0


@pytest.mark.parametrize("name", ["fp16", "fp32"])
def test_native_cast_equals_general_rounder(name):
    fmt = golden.parse(name)
    assert fmt.native_dtype is not None
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(200_000) * 10.0 ** rng.integers(-45, 39, 200_000),
                        [0.0, -0.0, np.inf, -np.inf, fmt.max * 1.0000001, -fmt.max * 2]])
    # midpoints between neighbouring codes: ties both ways
    codes = rng.integers(0, 1 << fmt.bits, 100_000, dtype=np.uint64)
    v = fmt.decode(codes)
    w = fmt.decode(codes + 1 & np.uint64(fmt.mask))
    mid = (v + w) / 2
    x = np.concatenate([x, mid[np.isfinite(mid)]])
    fast = fmt.encode(x)
    frac, ex = np.frexp(np.abs(x))
    m = np.ldexp(frac, 53).astype(np.uint64)
    finite = np.isfinite(x)
    e = np.where(m == 0, -(1 << 40), ex - 53)
    kind = np.where(np.isinf(x), 1, 0).astype(np.int8)
    slow = round_to(fmt, np.signbit(x), np.where(finite, m, 0), e, np.zeros(x.shape, bool), kind,
                    Rounding.RNE, False)
    bad = np.nonzero(fast != slow)[0]
    assert x.size > 0 and bad.size == 0, f"x={x[bad[0]]!r}: native {fast[bad[0]]:#x} general {slow[bad[0]]:#x}"


@pytest.mark.parametrize("fa,fb,fo", [("e4m3", "e4m3", "e4m3"), ("e5m2", "e4m3", "fp16"),
                                      ("e2m1", "e2m1", "e4m3"), ("int8", "int8", "int16")])
def test_mul_table_equals_general_path(fa, fb, fo):
    fa, fb, fo = golden.parse(fa), golden.parse(fb), golden.parse(fo)
    a = np.repeat(fa.codes(), 1 << fb.bits).astype(np.uint64)
    b = np.tile(fb.codes(), 1 << fa.bits).astype(np.uint64)
    for mode in MODES + [Rounding.RDN]:
        table = golden.mul(a, b, fa, fo, rounding=mode.value, fmt_b=fb)
        general = _mul_general(fa, fb, fo, a, b, mode, False, None, 0)
        assert a.size > 0 and np.array_equal(table, general)
