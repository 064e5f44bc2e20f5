"""golden.fma / dot / mac_step / add vs the exact Fraction reference (tests/_reference.py).

Vectorised golden calls, scalar Fraction reference on every generated case (no sampling).
Operand generators hit subnormals, signed zeros, +-max, inf/NaN; the addend generator makes
exact ties (a*b + c exactly on a midpoint of the accumulator), cancellation (c = -round(a*b),
+-1 code), overflow (c near +-max with the product's sign), and ordinary interacting sums.
Every rounding mode (sr with R = 8, 16 from the rnd dtype, and R = 3 via rnd_bits) and
saturate on/off. Totals per accumulator format (fp32, fp16, bf16) are >= 100k compared
vectors in the default run (see test_zz_totals); the slow variants multiply them by 5.

Ambiguity handled, not pinned: with saturate=True, an infinite result caused by an *infinite
input* (not by overflow) may stay inf or clamp to +-max; both are accepted (docs/formats.md only
defines saturation of results that round beyond +-max).
"""
from __future__ import annotations

import zlib
from fractions import Fraction

import numpy as np
import pytest

from macforge import golden
import _reference as ref

COUNTS: dict[str, int] = {}


def count(acc_name: str, n: int) -> None:
    COUNTS[acc_name] = COUNTS.get(acc_name, 0) + n


def seed_of(*parts) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


def F(name):
    return golden.parse(name)


SR_CONFIGS = [  # (rnd dtype, rnd_bits passed, R used by the reference)
    (np.uint8, None, 8),
    (np.uint16, None, 16),
    (np.uint8, 3, 3),
    (np.uint32, None, 32),
    (np.uint8, 1, 1),
]


# ------------------------------------------------------------------------------------------
# generators (codes built from fields; special codes found with the reference's decode)
# ------------------------------------------------------------------------------------------
def special_codes(f):
    """Interesting codes of ``f``: zeros, subnormal/normal edges, +-max, +-inf, NaNs."""
    s = ref.spec_of(f)
    sb = s.sign_bit
    mags = [0, 1, (1 << s.M) - 1, 1 << s.M, s.max_mag_code, s.max_mag_code - 1,
            s.bias << s.M]                                       # 1.0
    codes = set()
    for m in mags:
        if 0 <= m < (1 << s.mag_bits):
            codes.add(m)
            if s.signed:
                codes.add(sb | m)
    top = (1 << s.mag_bits) - 1
    for m in (top, top - 1, ((1 << s.E) - 1) << s.M, (((1 << s.E) - 1) << s.M) | 1):
        for sg in ((0, sb) if s.signed else (0,)):
            c = sg | m
            if 0 <= m <= top and ref.decode(f, c).kind != "num":
                codes.add(c)
    return np.array(sorted(codes), np.uint64)


def gen_operand(f, n, rng, p_special=0.08):
    """Codes of ``f``: mostly moderate exponents (so terms interact), some wide-range,
    subnormal, near-max and special codes."""
    s = ref.spec_of(f)
    if s.kind == "int":
        return rng.integers(0, 1 << s.bits, n).astype(np.uint64)
    emax_field = s.max_mag_code >> s.M
    cat = rng.choice(4, n, p=[0.55, 0.25, 0.12, 0.08])      # moderate, wide, subnormal, top
    e = np.where(cat == 0, np.clip(s.bias + rng.integers(-6, 7, n), 1, emax_field),
                 rng.integers(0, emax_field + 1, n))
    e = np.where(cat == 2, 0, e)
    e = np.where(cat == 3, emax_field - rng.integers(0, 2, n), e)
    m = rng.integers(0, 1 << s.M, n) if s.M else np.zeros(n, np.int64)
    mag = np.minimum((e.astype(np.uint64) << np.uint64(s.M)) | m.astype(np.uint64),
                     np.uint64(s.max_mag_code))
    sign = rng.integers(0, 2, n).astype(np.uint64) * np.uint64(s.sign_bit)
    codes = sign | mag
    sp = special_codes(f)
    pick = rng.random(n) < p_special
    codes[pick] = rng.choice(sp, int(pick.sum()))
    return codes


def _lowest_bit(x: Fraction) -> Fraction:
    """Weight of the lowest set bit of a dyadic x != 0."""
    num, den = abs(x.numerator), x.denominator
    return Fraction(num & -num, den)


def tie_addend(acc, p: Fraction, rng):
    """An accumulator code c with p + c exactly halfway between two neighbours of ``acc``
    (None if impossible: p has bits below half of acc's smallest ulp, or out of range)."""
    s = ref.spec_of(acc)
    if p == 0:
        return None
    L = _lowest_bit(p)
    u = 2 * L                                       # the ulp the sum's binade must have
    eu = u.numerator.bit_length() - 1 if u >= 1 else -(u.denominator.bit_length() - 1)
    e_S = eu + s.M
    min_sub = ref._pow2(s.emin - s.M)
    if e_S >= s.emin:
        K = int(rng.integers(1 << s.M, 1 << (s.M + 1)))
    elif u == min_sub:
        K = int(rng.integers(0, 1 << s.M))
    else:
        return None
    S = K * u + L
    if S >= s.max:
        return None
    S = S if rng.random() < 0.5 else -S
    c = S - p
    code = ref.round_val(acc, ref.Val.num(c), "rtz", True)
    if ref.decode(acc, code).kind != "num" or ref.decode(acc, code).signed_value != c:
        return None
    return code


def gen_addend(acc, p_vals, rng):
    """Accumulator codes interacting with the exact values ``p_vals`` (list of ref.Val)."""
    s = ref.spec_of(acc)
    n = len(p_vals)
    emax_field = s.max_mag_code >> s.M
    sp = special_codes(acc)
    out = np.empty(n, np.uint64)
    cats = rng.choice(6, n, p=[0.12, 0.33, 0.15, 0.25, 0.06, 0.09])
    anything = gen_operand(acc, n, rng)
    for i, (p, cat) in enumerate(zip(p_vals, cats)):
        finite_p = p.kind == "num" and p.mag != 0
        code = None
        if cat == 2 and p.kind == "num":                                   # cancellation
            mode = ("rne", "rtz", "rup", "rdn")[int(rng.integers(4))]
            code = ref.round_val(acc, ref.Val("num", not p.neg, p.mag), mode, True)
            if rng.random() < 0.3 and 0 < (code & (s.sign_bit - 1)) < s.max_mag_code:
                code += int(rng.choice([-1, 1]))
        elif cat == 3 and finite_p:                                        # exact tie
            code = tie_addend(acc, p.signed_value, rng)
        elif cat == 4:                                                     # overflow
            mag = s.max_mag_code - int(rng.integers(0, 3))
            neg = p.neg if rng.random() < 0.8 else bool(rng.integers(2))
            code = (s.sign_bit if neg else 0) | mag
        elif cat == 5:
            code = int(rng.choice(sp))
        if code is None and cat != 0 and finite_p:                         # near the product
            ep = ref._floor_log2(p.mag)
            ef = ep + s.bias + int(rng.integers(-(s.M + 3), s.M + 4))
            ef = min(max(ef, 0), emax_field)
            mag = min((ef << s.M) | int(rng.integers(0, 1 << s.M)), s.max_mag_code)
            code = (s.sign_bit if rng.random() < 0.5 else 0) | mag
        if code is None:                                                   # anything
            code = int(anything[i])
        out[i] = code
    return out


def rnd_for(mode, n, rng, k):
    """(rnd array or None, rnd_bits argument, R) for the k-th sr configuration."""
    if mode != "sr":
        return None, None, None
    dt, rb, R = SR_CONFIGS[k % len(SR_CONFIGS)]
    return rng.integers(0, 1 << R, n, dtype=np.uint64).astype(dt), rb, R


def inf_involved(vals):
    return np.array([any(v.kind == "inf" for v in vs) for vs in vals], bool)


# ------------------------------------------------------------------------------------------
# fma
# ------------------------------------------------------------------------------------------
FMA_PAIRS = {
    "fp32": [("e4m3", "e4m3"), ("e5m2", "e5m2"), ("e4m3", "e5m2"), ("fp16", "fp16"),
             ("bf16", "bf16"), ("e2m1", "e2m1"), ("fp32", "fp32")],
    "fp16": [("e4m3", "e4m3"), ("e5m2", "e5m2"), ("e4m3", "e5m2"), ("fp16", "fp16"),
             ("e2m1", "e2m1")],
    "bf16": [("e4m3", "e4m3"), ("e5m2", "e5m2"), ("e4m3", "e5m2"), ("bf16", "bf16"),
             ("fp16", "fp16")],
}
FMA_N = {"fp32": 600, "fp16": 800, "bf16": 800}     # per (pair, mode, saturate)


def run_fma(acc_name, fa_name, fb_name, mode, saturate, n, seed):
    fa, fb, acc = F(fa_name), F(fb_name), F(acc_name)
    rng = np.random.default_rng(seed)
    total = 0
    chunks = len(SR_CONFIGS) if mode == "sr" else 1
    for k in range(chunks):
        m = n // chunks
        a = gen_operand(fa, m, rng)
        b = gen_operand(fb, m, rng)
        prods = [ref.mul_val(ref.decode(fa, int(x)), ref.decode(fb, int(y))) for x, y in zip(a, b)]
        c = gen_addend(acc, prods, rng)
        rnd, rb, R = rnd_for(mode, m, rng, k)
        got = golden.fma(a.astype(fa.dtype), b.astype(fb.dtype), c.astype(acc.dtype), fa, acc,
                         rounding=mode, rnd=rnd, rnd_bits=rb, saturate=saturate,
                         fmt_b=None if fb_name == fa_name else fb)
        want = np.empty(m, np.int64)
        extra = None
        for i in range(m):
            want[i] = ref.fma_ref(fa, int(a[i]), fb, int(b[i]), acc, int(c[i]), mode, saturate,
                                  None if rnd is None else int(rnd[i]), R)
        if saturate:
            infs = inf_involved([(p, ref.decode(acc, int(x))) for p, x in zip(prods, c)])
            alt = want.copy()
            for i in np.flatnonzero(infs):
                alt[i] = ref.fma_ref(fa, int(a[i]), fb, int(b[i]), acc, int(c[i]), mode, True,
                                     None if rnd is None else int(rnd[i]), R, inf_saturates=True)
            extra = infs & (ref.canon_codes(acc, got) == ref.canon_codes(acc, alt))
        cols = {"a": a, "b": b, "c": c}
        if rnd is not None:
            cols["rnd"] = rnd
        what = (f"fma({fa_name} x {fb_name} + {acc_name}, {mode}"
                f"{', R=%d' % R if R else ''}, saturate={saturate})")
        count(acc_name, m)
        total += ref.check_codes(acc, got, want, cols, what, extra_ok=extra)
        ref.check_nan_sign(acc, got, what)
    return total


@pytest.mark.parametrize("mode", ref.MODES)
@pytest.mark.parametrize("acc_name,pair", [(acc, p) for acc in FMA_PAIRS for p in FMA_PAIRS[acc]],
                         ids=lambda v: v if isinstance(v, str) else "x".join(v))
def test_fma_vs_reference(acc_name, pair, mode):
    n = 0
    errors = []
    for saturate in (False, True):
        try:
            n += run_fma(acc_name, *pair, mode, saturate, FMA_N[acc_name],
                         seed_of("fma", acc_name, pair, mode, saturate))
        except AssertionError as exc:
            errors.append(str(exc))
    assert not errors, "\n".join(errors)
    assert n > 0


@pytest.mark.slow
@pytest.mark.parametrize("mode", ref.MODES)
@pytest.mark.parametrize("acc_name,pair", [(acc, p) for acc in FMA_PAIRS for p in FMA_PAIRS[acc]],
                         ids=lambda v: v if isinstance(v, str) else "x".join(v))
def test_fma_vs_reference_slow(acc_name, pair, mode):
    n = 0
    for saturate in (False, True):
        n += run_fma(acc_name, *pair, mode, saturate, 5 * FMA_N[acc_name],
                     seed_of("fma-slow", acc_name, pair, mode, saturate))
    assert n > 0


# ------------------------------------------------------------------------------------------
# dot (exact and align=W)
# ------------------------------------------------------------------------------------------
DOT_PAIRS = {"fp32": [("e4m3", "e4m3"), ("e4m3", "e5m2"), ("bf16", "bf16")],
             "fp16": [("e4m3", "e4m3"), ("e5m2", "e5m2")],
             "bf16": [("e4m3", "e4m3"), ("bf16", "bf16")]}
DOT_N = {1: 160, 4: 160, 32: 20}         # rows per (pair, N, align, mode, saturate)


def gen_dot(fa, fb, acc, n, N, rng):
    p_sp = min(0.08, 0.3 / N)                # keep most rows free of inf/NaN
    A = gen_operand(fa, n * N, rng, p_special=p_sp).reshape(n, N)
    B = gen_operand(fb, n * N, rng, p_special=p_sp).reshape(n, N)
    # Cancellation: in a third of the rows, lane pairs (i, N-1-i) get opposite products.
    if N > 1:
        rows = rng.random(n) < 0.33
        sb = np.uint64(ref.spec_of(fb).sign_bit)
        for i in range(N // 2):
            j = N - 1 - i
            A[rows, j] = A[rows, i]
            B[rows, j] = B[rows, i] ^ sb
    sums = []
    for r in range(n):
        terms = [ref.mul_val(ref.decode(fa, int(x)), ref.decode(fb, int(y)))
                 for x, y in zip(A[r], B[r])]
        sums.append(ref.sum_vals(terms))
    c = gen_addend(acc, sums, rng)
    return A, B, c


def run_dot(acc_name, fa_name, fb_name, N, align, mode, saturate, n, seed):
    fa, fb, acc = F(fa_name), F(fb_name), F(acc_name)
    rng = np.random.default_rng(seed)
    total = 0
    chunks = len(SR_CONFIGS) if mode == "sr" else 1
    for k in range(chunks):
        m = max(1, n // chunks)
        A, B, c = gen_dot(fa, fb, acc, m, N, rng)
        rnd, rb, R = rnd_for(mode, m, rng, k)
        got = golden.dot(A.astype(fa.dtype), B.astype(fb.dtype), c.astype(acc.dtype), fa, acc,
                         align=align, rounding=mode, rnd=rnd, rnd_bits=rb, saturate=saturate,
                         fmt_b=None if fb_name == fa_name else fb)
        want = np.empty(m, np.int64)
        extra = None
        for r in range(m):
            want[r] = ref.dot_ref(fa, [int(x) for x in A[r]], fb, [int(x) for x in B[r]], acc,
                                  int(c[r]), align, mode, saturate,
                                  None if rnd is None else int(rnd[r]), R)
        if saturate:
            infs = np.array([any(t.kind == "inf" for t in ref.dot_terms(
                fa, [int(x) for x in A[r]], fb, [int(x) for x in B[r]], acc, int(c[r])))
                for r in range(m)], bool)
            alt = want.copy()
            for r in np.flatnonzero(infs):
                alt[r] = ref.dot_ref(fa, [int(x) for x in A[r]], fb, [int(x) for x in B[r]], acc,
                                     int(c[r]), align, mode, True,
                                     None if rnd is None else int(rnd[r]), R, inf_saturates=True)
            extra = infs & (ref.canon_codes(acc, got) == ref.canon_codes(acc, alt))
        cols = {"A": A, "B": B, "c": c}
        if rnd is not None:
            cols["rnd"] = rnd
        what = (f"dot(N={N}, {fa_name} x {fb_name} + {acc_name}, align={align}, {mode}"
                f"{', R=%d' % R if R else ''}, saturate={saturate})")
        count(acc_name, m)
        total += ref.check_codes(acc, got, want, cols, what, extra_ok=extra)
        ref.check_nan_sign(acc, got, what)
    return total


DOT_CASES = [(acc, p, N, align) for acc in DOT_PAIRS for p in DOT_PAIRS[acc]
             for N in (1, 4, 32) for align in (None, 13, 24)]


def _dot_id(v):
    if isinstance(v, tuple):
        return "x".join(v)
    if v is None:
        return "exact"
    return str(v)


@pytest.mark.parametrize("mode", ref.MODES)
@pytest.mark.parametrize("acc_name,pair,N,align", DOT_CASES, ids=_dot_id)
def test_dot_vs_reference(acc_name, pair, N, align, mode):
    n = 0
    errors = []
    for saturate in (False, True):
        try:
            n += run_dot(acc_name, *pair, N, align, mode, saturate, DOT_N[N],
                         seed_of("dot", acc_name, pair, N, align, mode, saturate))
        except AssertionError as exc:
            errors.append(str(exc))
    assert not errors, "\n".join(errors)
    assert n > 0


@pytest.mark.slow
@pytest.mark.parametrize("mode", ref.MODES)
@pytest.mark.parametrize("acc_name,pair,N,align", DOT_CASES, ids=_dot_id)
def test_dot_vs_reference_slow(acc_name, pair, N, align, mode):
    n = 0
    for saturate in (False, True):
        n += run_dot(acc_name, *pair, N, align, mode, saturate, 5 * DOT_N[N],
                     seed_of("dot-slow", acc_name, pair, N, align, mode, saturate))
    assert n > 0


def test_dot_align_directed():
    """Hand-made align=W cases (fp32 acc, e4m3 lanes), values checked by hand:
    e4m3 0x38 = 1.0, 0x08 = 2^-6 (min normal), 0x01 = 2^-9, 0x7e = 448."""
    e4m3, fp32 = F("e4m3"), F("fp32")
    one, small, tiny = 0x38, 0x08, 0x01
    cases = [
        # products 1*1 and 2^-6*2^-9 = 2^-15: emax = 0; W=13 -> unit 2^-13 -> 2^-15 truncated away
        ([one, small], [one, tiny], 0, 13, 1.0),
        ([one, small], [one, tiny], 0, 24, 1.0 + 2.0 ** -15),
        # negative term truncated toward zero: 1 - 2^-15 -> 1 - 0 with W=13
        ([one, small], [one, tiny | 0x80], 0, 13, 1.0),
        ([one, small], [one, tiny | 0x80], 0, 24, 1.0 - 2.0 ** -15),
        # c is part of emax: c = 2^26 (0x4c800000) -> unit 2^13 with W=13; 448*448 = 200704
        # = 24.5 * 2^13 truncates to 24 * 2^13 = 196608; with W=24 it is kept exactly.
        ([0x7e], [0x7e], 0x4C800000, 13, 2.0 ** 26 + 196608.0),
        ([0x7e], [0x7e], 0x4C800000, 24, 2.0 ** 26 + 200704.0),
        # all products zero and c = -0: no emax; exact (-0) + (+0) + (-0) = +0 (rne)
        ([0x00, 0x80], [0x38, 0x38], 0x80000000, 13, 0.0),
    ]
    got = []
    for A, B, c, W, want in cases:
        g = golden.dot(np.array(A, np.uint8), np.array(B, np.uint8), np.uint32(c), e4m3, fp32,
                       align=W)
        got.append((float(fp32.decode(g)), want))
        r = ref.dot_ref(e4m3, A, e4m3, B, fp32, c, W)
        assert ref.to_float(ref.decode(fp32, r)) == want, ("reference", A, B, hex(c), W)
    bad = [(i, g, w) for i, (g, w) in enumerate(got) if g != w]
    assert not bad, f"align=W directed cases (index, got, want): {bad}"
    count("fp32", len(cases))


# ------------------------------------------------------------------------------------------
# mac_step sequences
# ------------------------------------------------------------------------------------------
MAC_CASES = [("fp32", ("e4m3", "e4m3")), ("fp32", ("e4m3", "e5m2")), ("fp16", ("e4m3", "e4m3")),
             ("fp16", ("e5m2", "e5m2")), ("bf16", ("e4m3", "e4m3")), ("bf16", ("bf16", "bf16"))]
MAC_LANES, MAC_STEPS = 100, 10


def mac_ref_step(acc_fmt, acc, fa, a, fb, b, first, clear, fused, mode, saturate, rnd, R,
                 inf_saturates=False):
    """One MAC step (golden.mac_step's documented semantics): clear -> +0; first -> round(a*b)
    exactly as mul (zero signs included); fused -> round(a*b + acc); unfused -> round(round(a*b)
    + acc) with the same rnd for both roundings."""
    kw = dict(inf_saturates=inf_saturates)
    if clear:
        return 0                                           # +0
    p = ref.mul_val(ref.decode(fa, a), ref.decode(fb, b))
    if first:                                              # loads round(a*b) as mul would
        return ref.round_val(acc_fmt, p, mode, saturate, rnd, R, **kw)
    if fused:
        return ref.round_val(acc_fmt, ref.sum_vals([p, ref.decode(acc_fmt, acc)], mode), mode,
                             saturate, rnd, R, **kw)
    pr = ref.round_val(acc_fmt, p, mode, saturate, rnd, R, **kw)   # same rnd for both
    return ref.round_val(acc_fmt, ref.sum_vals([ref.decode(acc_fmt, pr),
                                                ref.decode(acc_fmt, acc)], mode),
                         mode, saturate, rnd, R, **kw)


def run_mac(acc_name, fa_name, fb_name, fused, mode, saturate, lanes, steps, seed):
    fa, fb, accf = F(fa_name), F(fb_name), F(acc_name)
    rng = np.random.default_rng(seed)
    acc = gen_operand(accf, lanes, rng, p_special=0.02)
    want_acc = [int(x) for x in acc]
    total = 0
    for t in range(steps):
        a = gen_operand(fa, lanes, rng, p_special=0.01)
        b = gen_operand(fb, lanes, rng, p_special=0.01)
        first = t == 0 or rng.random() < 0.1
        clear = (not first) and rng.random() < 0.08
        rnd, rb, R = rnd_for(mode, lanes, rng, t)
        got = golden.mac_step(acc.astype(accf.dtype), a.astype(fa.dtype), b.astype(fb.dtype),
                              fa, accf, first=first, clear=clear, fused=fused, rounding=mode,
                              rnd=rnd, rnd_bits=rb, saturate=saturate,
                              fmt_b=None if fb_name == fa_name else fb)
        want = np.array([mac_ref_step(accf, want_acc[i], fa, int(a[i]), fb, int(b[i]), first,
                                      clear, fused, mode, saturate,
                                      None if rnd is None else int(rnd[i]), R)
                         for i in range(lanes)], np.int64)
        # An infinite input under saturate=True may stay inf or clamp (see module docstring);
        # the clamping reading is applied to every rounding of the step.
        extra = None
        if saturate:
            extra = np.zeros(lanes, bool)
            for i in range(lanes):
                pv = ref.mul_val(ref.decode(fa, int(a[i])), ref.decode(fb, int(b[i])))
                av = ref.decode(accf, int(acc[i]))
                if not clear and (pv.kind == "inf" or (not first and av.kind == "inf")):
                    alt_i = mac_ref_step(accf, int(acc[i]), fa, int(a[i]), fb, int(b[i]), first,
                                         clear, fused, mode, saturate,
                                         None if rnd is None else int(rnd[i]), R,
                                         inf_saturates=True)
                    extra[i] = (ref.canon_codes(accf, [int(got[i])])[0]
                                == ref.canon_codes(accf, [alt_i])[0])
        cols = {"acc": acc, "a": a, "b": b}
        if rnd is not None:
            cols["rnd"] = rnd
        what = (f"mac_step(step {t}, {fa_name} x {fb_name} -> {acc_name}, fused={fused}, "
                f"first={first}, clear={clear}, {mode}{', R=%d' % R if R else ''}, "
                f"saturate={saturate})")
        count(acc_name, lanes)
        total += ref.check_codes(accf, got, want, cols, what, extra_ok=extra)
        # Continue from the golden state so one mismatch does not cascade.
        acc = np.asarray(got).astype(np.uint64)
        want_acc = [int(x) for x in acc]
    return total


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("mode", ref.MODES)
@pytest.mark.parametrize("acc_name,pair", MAC_CASES, ids=lambda v: v if isinstance(v, str)
                         else "x".join(v))
def test_mac_step_sequences(acc_name, pair, mode, fused):
    n = 0
    errors = []
    for saturate in (False, True):
        try:
            n += run_mac(acc_name, *pair, fused, mode, saturate, MAC_LANES, MAC_STEPS,
                         seed_of("mac", acc_name, pair, mode, fused, saturate))
        except AssertionError as exc:
            errors.append(str(exc))
    assert not errors, "\n".join(errors)
    assert n > 0


# ------------------------------------------------------------------------------------------
# add
# ------------------------------------------------------------------------------------------
def _add_pairs(mode, sample):
    """golden.add(x, y, e4m3 -> e4m3 / fp16) for all 65536 pairs (or a random sample for sr)."""
    assert hasattr(golden, "add"), "golden.add is missing (documented API: add(x, y, fmt, out=None, ...))"
    f = F("e4m3")
    c = np.arange(256, dtype=np.uint8)
    x, y = (v.ravel() for v in np.meshgrid(c, c, indexing="ij"))
    rng = np.random.default_rng(seed_of("add", mode))
    if sample:
        idx = rng.choice(x.size, sample, replace=False)
        x, y = x[idx], y[idx]
    rnd = rng.integers(0, 256, x.size).astype(np.uint8) if mode == "sr" else None
    # The float64 sum of two e4m3 values is exact (<= 19 significant bits), so it keys the
    # reference: each distinct exact sum (and rnd) is rounded once. Exact zero sums carry the
    # zero-sign rules, so those pairs go through ref.sum_vals individually.
    table = np.array([ref.to_float(ref.decode(f, int(v))) for v in c])   # reference decode
    fx, fy = table[x], table[y]
    with np.errstate(invalid="ignore"):
        ssum = fx + fy
    key = np.where(np.isnan(ssum), np.nan, ssum).view(np.int64)
    key2 = np.stack([key, rnd.astype(np.int64) if rnd is not None else np.zeros_like(key)], 1)
    n = 0
    for out in ("e4m3", "fp16"):
        o = F(out)
        got = golden.add(x, y, f, o, rounding=mode, rnd=rnd)
        uniq, inv = np.unique(key2, axis=0, return_inverse=True)
        R = 8 if rnd is not None else None
        vals = [ref.round_val(o, ref.from_float(float(np.int64(k).view(np.float64))), mode,
                              False, int(r) if rnd is not None else None, R) for k, r in uniq]
        want = np.asarray(vals, np.int64)[inv.ravel()]
        for i in np.flatnonzero(ssum == 0):
            v = ref.sum_vals([ref.decode(f, int(x[i])), ref.decode(f, int(y[i]))], mode)
            want[i] = ref.round_val(o, v, mode, False, None if rnd is None else int(rnd[i]), R)
        cols = {"x": x, "y": y}
        if rnd is not None:
            cols["rnd"] = rnd
        n += ref.check_codes(o, got, want, cols, f"add(e4m3 + e4m3 -> {out}, {mode})")
        ref.check_nan_sign(o, got, "add")
    return n


@pytest.mark.parametrize("mode", ref.MODES)
def test_add_e4m3_all_pairs(mode):
    """All pairs (sr: a random 8192-pair sample; all pairs in the slow variant)."""
    assert _add_pairs(mode, 8192 if mode == "sr" else None) > 0


@pytest.mark.slow
def test_add_e4m3_all_pairs_sr_full():
    assert _add_pairs("sr", None) > 0


# ------------------------------------------------------------------------------------------
# integer: int8 -> int32 (and int16) wrap / saturate, vs Python ints
# ------------------------------------------------------------------------------------------
def _sval(bits, u):
    u = int(u)
    return u - (1 << bits) if u >> (bits - 1) else u


def _wrap(bits, v):
    return v & ((1 << bits) - 1)


def _sat(bits, v):
    return min(max(v, -(1 << (bits - 1))), (1 << (bits - 1)) - 1) & ((1 << bits) - 1)


def int_acc_codes(bits, n, rng):
    """Accumulator codes, half of them within 2^16 of the extremes (so sums wrap/saturate)."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    near = rng.random(n) < 0.5
    v = rng.integers(lo, hi + 1, n, dtype=np.int64)
    edge = np.where(rng.random(n) < 0.5, hi - rng.integers(0, 1 << min(16, bits - 2), n),
                    lo + rng.integers(0, 1 << min(16, bits - 2), n))
    v = np.where(near, edge, v)
    return (v & ((1 << bits) - 1)).astype(np.uint64)


@pytest.mark.parametrize("saturate", [False, True], ids=["wrap", "sat"])
@pytest.mark.parametrize("N", [1, 4, 32])
@pytest.mark.parametrize("acc_name", ["int32", "int16"])
def test_int_dot(acc_name, N, saturate):
    bits = int(acc_name[3:])
    fa, acc = F("int8"), F(acc_name)
    rng = np.random.default_rng(seed_of("idot", acc_name, N, saturate))
    n = 4000
    A = rng.integers(0, 256, (n, N)).astype(np.uint8)
    B = rng.integers(0, 256, (n, N)).astype(np.uint8)
    A[:, 0] = np.where(rng.random(n) < 0.1, 0x80, A[:, 0])           # -128 corners
    B[:, 0] = np.where(rng.random(n) < 0.1, 0x80, B[:, 0])
    c = int_acc_codes(bits, n, rng)
    got = golden.dot(A, B, c.astype(acc.dtype), fa, acc, saturate=saturate)
    want = np.empty(n, np.int64)
    for r in range(n):
        s = sum(_sval(8, x) * _sval(8, y) for x, y in zip(A[r], B[r])) + _sval(bits, c[r])
        want[r] = _sat(bits, s) if saturate else _wrap(bits, s)
    ref.check_codes(acc, got, want, {"A": A, "B": B, "c": c},
                    f"int dot(N={N}, int8 -> {acc_name}, saturate={saturate})")


@pytest.mark.parametrize("saturate", [False, True], ids=["wrap", "sat"])
def test_int_fma(saturate):
    fa, acc = F("int8"), F("int32")
    rng = np.random.default_rng(seed_of("ifma", saturate))
    c8 = np.arange(256, dtype=np.uint8)
    a, b = (v.ravel() for v in np.meshgrid(c8, c8, indexing="ij"))
    c = int_acc_codes(32, a.size, rng)
    got = golden.fma(a, b, c.astype(np.uint32), fa, acc, saturate=saturate)
    s = [_sval(8, x) * _sval(8, y) + _sval(32, z) for x, y, z in zip(a, b, c)]
    want = np.array([_sat(32, v) if saturate else _wrap(32, v) for v in s], np.int64)
    ref.check_codes(acc, got, want, {"a": a, "b": b, "c": c},
                    f"int fma(int8 -> int32, saturate={saturate})")


@pytest.mark.parametrize("saturate", [False, True], ids=["wrap", "sat"])
@pytest.mark.parametrize("acc_name", ["int32", "int16"])
def test_int_mac_sequences(acc_name, saturate):
    bits = int(acc_name[3:])
    fa, accf = F("int8"), F(acc_name)
    rng = np.random.default_rng(seed_of("imac", acc_name, saturate))
    lanes, steps = 2000, 12
    acc = int_acc_codes(bits, lanes, rng)
    n = 0
    for t in range(steps):
        a = rng.integers(0, 256, lanes).astype(np.uint8)
        b = rng.integers(0, 256, lanes).astype(np.uint8)
        first = t == 3
        clear = t == 7
        got = golden.mac_step(acc.astype(accf.dtype), a, b, fa, accf, first=first, clear=clear,
                              saturate=saturate)
        want = np.empty(lanes, np.int64)
        for i in range(lanes):
            p = _sval(8, a[i]) * _sval(8, b[i])
            v = 0 if clear else p if first else p + _sval(bits, acc[i])
            want[i] = _sat(bits, v) if saturate else _wrap(bits, v)
        n += ref.check_codes(accf, got, want, {"acc": acc, "a": a, "b": b},
                             f"int mac_step(step {t}, first={first}, clear={clear}, "
                             f"int8 -> {acc_name}, saturate={saturate})")
        acc = np.asarray(got).astype(np.uint64)
    assert n == lanes * steps


# ------------------------------------------------------------------------------------------
def test_zz_totals():
    """>= 100k compared vectors per accumulator format across this file (default run)."""
    expected = {"fp32", "fp16", "bf16"}
    if not expected <= COUNTS.keys() or len(COUNTS) < 3:
        pytest.skip(f"partial run; counts so far: {COUNTS}")
    print("compared vectors per accumulator format:", COUNTS)
    low = {k: v for k, v in COUNTS.items() if v < 100_000}
    assert not low, f"fewer than 100k vectors for {low}"
