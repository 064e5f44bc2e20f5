"""In-process tests of the hw units: amaranth.sim against the golden model.

Each test drives a unit with corner and seeded random vectors, compares every output code with
``golden`` (bit for bit: NaN results must be the canonical NaN), asserts that it checked more
than zero vectors, and prints the input bit patterns of the first mismatches. Exhaustive sweeps
are marked ``slow`` (``make test-full``). Verilog determinism, Verilator lint, manifests and
parameter validation are checked at the end.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from amaranth.hdl import Elaboratable, Fragment, Module, Signal
from amaranth.sim import Simulator

from macforge import golden, provenance
from macforge.golden import FormatError, Rounding
from macforge.hw import FFma, FMac, FMul, IntMac, ArrayMultiplier, generate, make_unit, write


ROUNDINGS = [r.value for r in Rounding]
SEED = 20260523


# ---------------------------------------------------------------------------------------------
# simulation helpers
# ---------------------------------------------------------------------------------------------
class _Packed(Elaboratable):
    """Drives all of a unit's inputs from one wide signal: one ``ctx.set`` (and one settle of
    the combinational logic) per vector instead of one per port -- about 2x faster."""

    def __init__(self, dut, names):
        self.dut = dut
        self.names = names
        self.widths = [len(_value(getattr(dut, k))) for k in names]
        self.vec = Signal(sum(self.widths))

    def pack(self, cols):
        packed = np.zeros(len(cols[self.names[0]]), dtype=object)
        offset = 0
        for name, width in zip(self.names, self.widths):
            packed = packed + (np.asarray(cols[name]).astype(np.uint64).astype(object) << offset)
            offset += width
        return packed.tolist()

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = self.dut
        offset = 0
        for name, width in zip(self.names, self.widths):
            m.d.comb += _value(getattr(self.dut, name)).eq(self.vec[offset:offset + width])
            offset += width
        return m


def elaborated(unit):
    """``unit`` after elaboration: tests that only read a unit's name or manifest still build
    it once (the generators must accept every configuration they name)."""
    Fragment.get(unit, None)
    return unit


def _value(port):
    return port.as_value() if hasattr(port, "as_value") else port


def simulate_stream(dut, cols, *, out="y"):
    """Apply one vector per step; return the output seen ``dut.latency`` steps later.

    Combinational units are read after each ``set``; pipelined ones are clocked once per
    vector and read after the clock edge that completes the vector's latency.
    """
    names = list(cols)
    harness = _Packed(dut, names)
    vectors = harness.pack(cols)
    latency = dut.latency
    y = _value(getattr(dut, out))
    got = []
    sim = Simulator(harness)

    async def bench(ctx):
        if latency == 0:
            for v in vectors:
                ctx.set(harness.vec, v)
                got.append(ctx.get(y))
            return
        for k in range(len(vectors) + latency - 1):
            if k < len(vectors):
                ctx.set(harness.vec, vectors[k])
            await ctx.tick()
            if k >= latency - 1:
                got.append(ctx.get(y))

    if latency:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got, dtype=np.uint64)


def simulate_mac(dut, cols):
    """Clock a MAC with one command per cycle; ``acc`` sampled after each edge (see check_mac)."""
    names = list(cols)
    harness = _Packed(dut, names)
    vectors = harness.pack(cols)
    acc = _value(dut.acc)
    seen = []
    sim = Simulator(harness)

    async def bench(ctx):
        for v in vectors + [0] * dut.latency:          # idle cycles flush the pipeline
            ctx.set(harness.vec, v)
            await ctx.tick()
            seen.append(ctx.get(acc))

    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(seen, dtype=np.uint64)


def mac_reference(cols, fmt, acc_fmt, **kw):
    """Accumulator after each command, stepping golden.mac_step from the reset value 0."""
    fc = golden.parse(acc_fmt)
    state = fc.dtype.type(0)
    states = []
    for k in range(len(cols["a"])):
        if cols["clear"][k] or cols["en"][k]:
            step_kw = dict(kw)
            if "rnd" in cols:
                step_kw["rnd"] = np.uint64(cols["rnd"][k])
            state = golden.mac_step(state, cols["a"][k], cols["b"][k], fmt, acc_fmt,
                                    first=bool(cols["first"][k]), clear=bool(cols["clear"][k]),
                                    **step_kw)[()]
        states.append(int(state))
    return np.array(states, dtype=np.uint64)


def check(what, got, expected, cols):
    """Assert equality code for code; on failure list the inputs of the first mismatches."""
    expected = np.asarray(expected).astype(np.uint64)
    assert got.size > 0 and got.size == expected.size, f"{what}: checked {got.size} vectors"
    bad = np.flatnonzero(got != expected)
    if bad.size:
        rows = []
        for i in bad[:12]:
            inputs = " ".join(f"{k}=0x{int(v[i]):x}" for k, v in cols.items())
            rows.append(f"  #{i}: {inputs} -> got 0x{int(got[i]):x}, "
                        f"golden 0x{int(expected[i]):x}")
        pytest.fail(f"{what}: {bad.size} of {got.size} vectors mismatch\n" + "\n".join(rows))
    return got.size


def check_mac(what, dut, cols, fmt, acc_fmt, **kw):
    """Run a command stream; ``acc`` at cycle t + latency must equal the reference after t."""
    seen = simulate_mac(dut, cols)
    lat = dut.latency
    expected = mac_reference(cols, fmt, acc_fmt, **kw)
    # the first lat - 1 samples precede any command's effect: the reset value
    assert not seen[:lat - 1].any(), f"{what}: acc moved before the first command arrived"
    return check(what, seen[lat - 1:lat - 1 + len(expected)], expected, cols)


# ---------------------------------------------------------------------------------------------
# stimulus
# ---------------------------------------------------------------------------------------------
def corner_codes(fmt):
    """Codes at the edges of a format, from its properties (both signs where it has them)."""
    if isinstance(fmt, golden.Int):
        vals = {0, 1, 2, 3, fmt.max_int, fmt.max_int - 1, fmt.min_int, fmt.min_int + 1, -1, -2}
        return np.unique(fmt.from_int(np.array(sorted(v for v in vals
                                                      if fmt.min_int <= v <= fmt.max_int))))
    M = fmt.man_bits
    one = fmt.bias << M
    mags = {0, 1, 2, (1 << M) - 1, 1 << M, (1 << M) + 1, one, one + 1, one - 1,
            fmt.max_code, fmt.max_code - 1}
    codes = set()
    for mag in mags:
        codes.add(mag)
        codes.add(mag | fmt.sign_bit)
    if fmt.has_inf:
        codes |= {fmt.inf_code, fmt.inf_code | fmt.sign_bit}
    if fmt.has_nan:
        codes.add(fmt.nan_code)
    return np.array(sorted(c for c in codes if c <= fmt.mask), dtype=np.uint64)


def random_codes(rng, fmt, n):
    return rng.integers(0, 1 << fmt.bits, n, dtype=np.uint64)


def pairs(rng, fa, fb, n_random):
    """Corner cross-product plus random pairs (a quarter of them with a corner operand)."""
    ca, cb = corner_codes(fa), corner_codes(fb)
    ga, gb = np.meshgrid(ca, cb, indexing="ij")
    ra, rb = random_codes(rng, fa, n_random), random_codes(rng, fb, n_random)
    mix = rng.random(n_random) < 0.25
    ra[mix] = rng.choice(ca, mix.sum())
    return np.concatenate([ga.ravel(), ra]), np.concatenate([gb.ravel(), rb])


def rnd_for(rng, rounding, n, rnd_bits=8):
    return rng.integers(0, 1 << rnd_bits, n, dtype=np.uint64) if rounding == "sr" else None


def with_rnd(cols, rnd):
    if rnd is not None:
        cols["rnd"] = rnd
    return cols


def golden_kw(rounding, rnd, rnd_bits=8, saturate=False):
    """Keyword arguments of a golden call (``rnd`` may be given per call later)."""
    kw = dict(rounding=rounding, saturate=saturate)
    if rounding == "sr":
        kw["rnd_bits"] = rnd_bits
        if rnd is not None:
            kw["rnd"] = rnd
    return kw


# ---------------------------------------------------------------------------------------------
# FMul
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_fmul_e4m3(rounding):
    rng = np.random.default_rng([SEED, ROUNDINGS.index(rounding)])
    a, b = pairs(rng, golden.parse("e4m3"), golden.parse("e4m3"), 3000)
    rnd = rnd_for(rng, rounding, a.size)
    cols = with_rnd({"a": a, "b": b}, rnd)
    got = simulate_stream(FMul(fmt="e4m3", rounding=rounding), cols)
    check(f"e4m3 x e4m3 -> e4m3 {rounding}", got,
          golden.mul(a, b, "e4m3", "e4m3", **golden_kw(rounding, rnd)), cols)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["e4m3", "e5m2"])
def test_fmul_exhaustive(fmt):
    codes = np.arange(256, dtype=np.uint64)
    a, b = np.repeat(codes, 256), np.tile(codes, 256)
    cols = {"a": a, "b": b}
    got = simulate_stream(FMul(fmt=fmt), cols)
    assert check(f"{fmt} all pairs", got, golden.mul(a, b, fmt, fmt), cols) == 65536


@pytest.mark.parametrize("rounding,saturate", [("rne", False), ("rup", False), ("rne", True),
                                               ("rdn", True)])
def test_fmul_e5m2(rounding, saturate):
    rng = np.random.default_rng([SEED, 1])
    f = golden.parse("e5m2")
    a, b = pairs(rng, f, f, 2000)
    cols = {"a": a, "b": b}
    got = simulate_stream(FMul(fmt=f, rounding=rounding, saturate=saturate), cols)
    check(f"e5m2 {rounding} sat={saturate}", got,
          golden.mul(a, b, f, f, rounding=rounding, saturate=saturate), cols)


def test_fmul_e4m3_saturate_sr():
    rng = np.random.default_rng([SEED, 2])
    f = golden.parse("e4m3")
    a, b = pairs(rng, f, f, 2000)
    rnd = rnd_for(rng, "sr", a.size, 5)
    cols = {"a": a, "b": b, "rnd": rnd}
    got = simulate_stream(FMul(fmt=f, rounding="sr", rnd_bits=5, saturate=True), cols)
    check("e4m3 sr r5 saturate", got,
          golden.mul(a, b, f, f, **golden_kw("sr", rnd, 5, saturate=True)), cols)


@pytest.mark.parametrize("rounding", ["rne", "rtz", "sr"])
def test_fmul_mixed_e4m3_e5m2_fp16(rounding):
    rng = np.random.default_rng([SEED, 3])
    a, b = pairs(rng, golden.parse("e4m3"), golden.parse("e5m2"), 3000)
    rnd = rnd_for(rng, rounding, a.size)
    cols = with_rnd({"a": a, "b": b}, rnd)
    got = simulate_stream(FMul(fmt="e4m3", fmt_b="e5m2", out="fp16", rounding=rounding), cols)
    check(f"e4m3 x e5m2 -> fp16 {rounding}", got,
          golden.mul(a, b, "e4m3", "fp16", fmt_b="e5m2", **golden_kw(rounding, rnd)), cols)


@pytest.mark.parametrize("rounding", ["rne", "rdn", "sr"])
def test_fmul_fp16_fp32(rounding):
    rng = np.random.default_rng([SEED, 4])
    f = golden.parse("fp16")
    a, b = pairs(rng, f, f, 2000)
    rnd = rnd_for(rng, rounding, a.size, 12)
    cols = with_rnd({"a": a, "b": b}, rnd)
    got = simulate_stream(FMul(fmt=f, out="fp32", rounding=rounding, rnd_bits=12), cols)
    check(f"fp16 x fp16 -> fp32 {rounding}", got,
          golden.mul(a, b, f, "fp32", **golden_kw(rounding, rnd, 12)), cols)


def test_fmul_narrowing_fp16_to_e4m3fnuz():
    """Products far outside the output range: overflow to NaN (fnuz), underflow to +0 (no -0)."""
    rng = np.random.default_rng([SEED, 5])
    a, b = pairs(rng, golden.parse("bf16"), golden.parse("bf16"), 1500)
    for rounding in ("rne", "rup"):
        cols = {"a": a, "b": b}
        got = simulate_stream(FMul(fmt="bf16", out="e4m3fnuz", rounding=rounding), cols)
        check(f"bf16 x bf16 -> e4m3fnuz {rounding}", got,
              golden.mul(a, b, "bf16", "e4m3fnuz", rounding=rounding), cols)


def test_fmul_int_operands_and_array_multiplier():
    rng = np.random.default_rng([SEED, 6])
    a, b = pairs(rng, golden.parse("int8"), golden.parse("e4m3"), 1500)
    cols = {"a": a, "b": b}
    got = simulate_stream(FMul(fmt="int8", fmt_b="e4m3", out="bf16"), cols)
    check("int8 x e4m3 -> bf16", got, golden.mul(a, b, "int8", "bf16", fmt_b="e4m3"), cols)
    a, b = pairs(rng, golden.parse("e2m1"), golden.parse("e2m1"), 200)
    cols = {"a": a, "b": b}
    got = simulate_stream(FMul(fmt="e2m1", out="e2m3", multiplier=ArrayMultiplier), cols)
    check("e2m1 x e2m1 -> e2m3 (array multiplier)", got, golden.mul(a, b, "e2m1", "e2m3"), cols)


@pytest.mark.parametrize("fa,fb,out", [
    ("e4m3fnuz", "e5m2fnuz", "e4m3fnuz"), ("e4m3b11fnuz", "e4m3b11fnuz", "e5m2"),
    ("e3m4", "e3m4", "e4m3ieee"), ("e2m3", "e3m2", "e2m1"), ("e2m1", "e2m3", "e3m2"),
    ("e8m0", "e4m3", "bf16"), ("uint8", "int4", "e5m2"), ("e5m2", "e5m2", "e6m1fn"),
])
def test_fmul_format_zoo(fa, fb, out):
    """One generic datapath for every format family: fnuz, odd biases, MX FP6/FP4 (no NaN,
    clamping), e8m0 (no zero, unsigned), unsigned and tiny integers, a 1-bit-mantissa output."""
    rng = np.random.default_rng([SEED, 8])
    a, b = pairs(rng, golden.parse(fa), golden.parse(fb), 300)
    for rounding in ("rne", "rup", "sr"):
        rnd = rnd_for(rng, rounding, a.size, 4)
        cols = with_rnd({"a": a, "b": b}, rnd)
        got = simulate_stream(FMul(fmt=fa, fmt_b=fb, out=out, rounding=rounding, rnd_bits=4),
                              cols)
        check(f"{fa} x {fb} -> {out} {rounding}", got,
              golden.mul(a, b, fa, out, fmt_b=fb, **golden_kw(rounding, rnd, 4)), cols)


def test_fmul_pipelined():
    """stages=3: registers after the product and after normalise, one at the output."""
    rng = np.random.default_rng([SEED, 7])
    a, b = pairs(rng, golden.parse("e5m2"), golden.parse("e5m2"), 800)
    rnd = rnd_for(rng, "sr", a.size)
    cols = {"a": a, "b": b, "rnd": rnd}
    dut = FMul(fmt="e5m2", out="fp16", rounding="sr", stages=3)
    assert dut.latency == 3
    got = simulate_stream(dut, cols)
    check("e5m2 -> fp16 sr, 3 stages", got,
          golden.mul(a, b, "e5m2", "fp16", **golden_kw("sr", rnd)), cols)


# ---------------------------------------------------------------------------------------------
# FFma
# ---------------------------------------------------------------------------------------------
def fma_vectors(rng, fmt, acc, n_random, n_corner=600):
    """Corner triples (sampled from the corner cube), random triples, and directed addends:
    cancelling the product exactly or to within a few codes, and halfway cases (c plus a
    power-of-two product equal to half an ulp of c)."""
    fa, fc = golden.parse(fmt), golden.parse(acc)
    ca, cc = corner_codes(fa), corner_codes(fc)
    cube = np.stack([g.ravel() for g in np.meshgrid(ca, ca, cc, indexing="ij")])
    ga, gb, gc = cube[:, rng.choice(cube.shape[1], min(n_corner, cube.shape[1]), replace=False)]
    ra, rb = random_codes(rng, fa, n_random), random_codes(rng, fa, n_random)
    rc = random_codes(rng, fc, n_random)
    # cancellation: c = -round(a*b) +- k codes (near, exact and one-sided)
    k = n_random // 2
    p = golden.mul(ra[:k], rb[:k], fa, fc)
    finite = ~fc.is_nan(p) & ~fc.is_inf(p)
    nudge = rng.integers(-3, 4, k).astype(np.int64)
    nudge[rng.random(k) < 0.3] = 0
    mag = (p.astype(np.int64) & (fc.sign_bit - 1)) + nudge
    mag = np.clip(mag, 0, fc.max_code)
    neg = (p.astype(np.uint64) & np.uint64(fc.sign_bit)) == 0
    cancel = mag.astype(np.uint64) | np.where(neg, np.uint64(fc.sign_bit), np.uint64(0))
    rc[:k] = np.where(finite, cancel, rc[:k])
    # ties: a = 2^j (e4m3 powers of two), b = +-1 or +-3, c with ulp(c) = 2^(j+1)
    j = rng.integers(-9, 9, n_random // 4)
    ta = fa.encode(np.ldexp(1.0, j))
    tb = fa.encode(rng.choice([1.0, -1.0, 3.0, -3.0], j.size))
    exp_c = np.clip(j + 1 + fc.man_bits, fc.emin, fc.emax)
    sig_c = rng.integers(1 << fc.man_bits, 1 << (fc.man_bits + 1), j.size)
    tc = fc.encode(np.ldexp(sig_c * rng.choice([1.0, -1.0], j.size), exp_c - fc.man_bits))
    a = np.concatenate([ga, ra, ta]).astype(np.uint64)
    b = np.concatenate([gb, rb, tb]).astype(np.uint64)
    c = np.concatenate([gc, rc, tc]).astype(np.uint64)
    return a, b, c


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_ffma_e4m3_fp16(rounding):
    rng = np.random.default_rng([SEED, 10, ROUNDINGS.index(rounding)])
    a, b, c = fma_vectors(rng, "e4m3", "fp16", 1800)
    rnd = rnd_for(rng, rounding, a.size)
    cols = with_rnd({"a": a, "b": b, "c": c}, rnd)
    got = simulate_stream(FFma(fmt="e4m3", acc="fp16", rounding=rounding), cols)
    expected = golden.fma(a, b, c, "e4m3", "fp16", **golden_kw(rounding, rnd))
    check(f"fma e4m3 -> fp16 {rounding}", got, expected, cols)
    # the directed parts did their job: exact cancellations and halfway cases were present
    fp16 = golden.parse("fp16")
    zero = (expected & np.uint64(0x7FFF)) == 0
    assert (zero & (c & np.uint64(0x7FFF) != 0)).sum() > 20
    ties = golden.fma(a, b, c, "e4m3", "fp16", rounding="rne") != \
        golden.fma(a, b, c, "e4m3", "fp16", rounding="rna")
    assert ties.sum() > 20
    assert fp16.is_inf(expected).any() and fp16.is_nan(expected).any()


@pytest.mark.parametrize("acc,rounding,saturate", [("fp32", "rne", False), ("fp32", "sr", False),
                                                   ("e5m2", "rne", True), ("bf16", "rdn", False)])
def test_ffma_other_accumulators(acc, rounding, saturate):
    rng = np.random.default_rng([SEED, 11])
    a, b, c = fma_vectors(rng, "e4m3", acc, 800, n_corner=300)
    rnd = rnd_for(rng, rounding, a.size)
    cols = with_rnd({"a": a, "b": b, "c": c}, rnd)
    got = simulate_stream(FFma(fmt="e4m3", acc=acc, rounding=rounding, saturate=saturate), cols)
    check(f"fma e4m3 -> {acc} {rounding} sat={saturate}", got,
          golden.fma(a, b, c, "e4m3", acc, **golden_kw(rounding, rnd, saturate=saturate)), cols)


def test_ffma_tiny_products_into_fp16():
    """e5m2 products reach 2^-32, below fp16's smallest subnormal 2^-24: they live in the
    sticky/SR bits, and a subnormal addend can be smaller than the product (negative window
    difference)."""
    rng = np.random.default_rng([SEED, 12])
    fa, fc = golden.parse("e5m2"), golden.parse("fp16")
    n = 800
    signs = rng.integers(0, 2, (3, n), dtype=np.uint64)
    small = rng.integers(0, 0x18, n, dtype=np.uint64) | (signs[0] << 7)
    b = rng.integers(0, 0x30, n, dtype=np.uint64) | (signs[1] << 7)
    c = rng.integers(0, 0x0400, n, dtype=np.uint64) | (signs[2] << 15)
    for rounding in ("rne", "rup", "sr"):
        rnd = rnd_for(rng, rounding, n)
        cols = with_rnd({"a": small, "b": b, "c": c}, rnd)
        got = simulate_stream(FFma(fmt=fa, acc=fc, rounding=rounding), cols)
        check(f"fma e5m2 tiny -> fp16 {rounding}", got,
              golden.fma(small, b, c, fa, fc, **golden_kw(rounding, rnd)), cols)


@pytest.mark.parametrize("fmt", ["e5m2", "bf16"])
def test_ffma_subnormal_addend_below_product(fmt):
    """c a few ulps of fp16's smallest subnormal (2^-24), the product just above it with bits
    below the window: X - Y - sticky goes negative, so the magnitude is ~D (not -D) with a
    sticky. bf16's 16-bit products make the difference between the two visible."""
    rng = np.random.default_rng([SEED, 14])
    fa, n = golden.parse(fmt), 400
    sign = rng.integers(0, 2, n).astype(bool)
    a = fa.encode(np.where(sign, -1, 1) * np.ldexp(rng.uniform(1, 2, n), -12))
    b = fa.encode(np.ldexp(rng.uniform(1, 2, n), rng.integers(-15, -11, n)))
    opposite = np.where(rng.random(n) < 0.85, ~sign, sign)
    c = rng.integers(1, 4, n, dtype=np.uint64) | (opposite.astype(np.uint64) << 15)
    for rounding in ("rne", "rna", "rup", "rdn", "sr"):
        rnd = rnd_for(rng, rounding, n)
        cols = with_rnd({"a": a, "b": b, "c": c}, rnd)
        got = simulate_stream(FFma(fmt=fmt, acc="fp16", rounding=rounding), cols)
        check(f"fma {fmt} -> fp16 tiny c {rounding}", got,
              golden.fma(a, b, c, fmt, "fp16", **golden_kw(rounding, rnd)), cols)


def test_ffma_pipelined():
    rng = np.random.default_rng([SEED, 13])
    a, b, c = fma_vectors(rng, "e4m3", "fp16", 200, n_corner=100)
    rnd = rnd_for(rng, "sr", a.size)
    cols = {"a": a, "b": b, "c": c, "rnd": rnd}
    for stages in (1, 2, 4):
        dut = FFma(fmt="e4m3", acc="fp16", rounding="sr", stages=stages)
        assert dut.latency == stages
        got = simulate_stream(dut, cols)
        check(f"fma e4m3 -> fp16 sr, {stages} stages", got,
              golden.fma(a, b, c, "e4m3", "fp16", **golden_kw("sr", rnd)), cols)


# ---------------------------------------------------------------------------------------------
# FMac / IntMac
# ---------------------------------------------------------------------------------------------
def mac_commands(rng, fa, n, *, p_first=0.12, p_clear=0.02, p_idle=0.1, rnd_bits=None):
    """Random command stream; operands mostly finite and moderate so sums stay interesting."""
    fb = fa
    a, b = random_codes(rng, fa, n), random_codes(rng, fb, n)
    ca = corner_codes(fa)
    corner = rng.random(n) < 0.04
    a[corner] = rng.choice(ca, corner.sum())
    cols = {
        "a": a, "b": b,
        "en": (rng.random(n) >= p_idle).astype(np.uint64),
        "first": (rng.random(n) < p_first).astype(np.uint64),
        "clear": (rng.random(n) < p_clear).astype(np.uint64),
    }
    cols["first"][0] = 1
    if rnd_bits is not None:
        cols["rnd"] = rng.integers(0, 1 << rnd_bits, n, dtype=np.uint64)
    return cols


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_fmac_e4m3_fp32(rounding):
    rng = np.random.default_rng([SEED, 20, ROUNDINGS.index(rounding)])
    cols = mac_commands(rng, golden.parse("e4m3"), 500,
                        rnd_bits=8 if rounding == "sr" else None)
    dut = FMac(fmt="e4m3", acc="fp32", rounding=rounding)
    assert dut.latency == 1
    check_mac(f"fmac e4m3 -> fp32 {rounding}", dut, cols, "e4m3", "fp32",
              **golden_kw(rounding, None, 8))


@pytest.mark.parametrize("rounding", ["rne", "rtz", "sr"])
def test_fmac_nonfused(rounding):
    """fused=False rounds the product into the accumulator first. e4m3 products (8 bits)
    are exact in fp16 except near its range ends; in e5m2 (3 bits) they mostly are not."""
    rng = np.random.default_rng([SEED, 21])
    cols = mac_commands(rng, golden.parse("e4m3"), 500, rnd_bits=8 if rounding == "sr" else None)
    for acc in ("fp16", "e5m2"):
        dut = FMac(fmt="e4m3", acc=acc, fused=False, rounding=rounding)
        check_mac(f"fmac e4m3 -> {acc} non-fused {rounding}", dut, cols, "e4m3", acc,
                  fused=False, **golden_kw(rounding, None, 8))
    # the two roundings differ on this stream, so a fused unit would fail the check above
    fused = mac_reference(cols, "e4m3", "e5m2", **golden_kw(rounding, None, 8))
    twice = mac_reference(cols, "e4m3", "e5m2", fused=False, **golden_kw(rounding, None, 8))
    assert (fused != twice).sum() > 10


@pytest.mark.parametrize("fmt,acc,rounding,fused,stages", [
    ("e4m3", "fp32", "rne", True, 2),        # product register + one extra
    ("e4m3", "fp32", "sr", True, 2),
    ("e5m2", "fp16", "sr", False, 3),        # product, normalised product, one extra
])
def test_fmac_pipelined_latency(fmt, acc, rounding, fused, stages):
    """Every command (clear and first included) lands on acc at t + stages + 1."""
    rng = np.random.default_rng([SEED, 22])
    cols = mac_commands(rng, golden.parse(fmt), 400, p_clear=0.05,
                        rnd_bits=8 if rounding == "sr" else None)
    dut = FMac(fmt=fmt, acc=acc, fused=fused, rounding=rounding, stages=stages)
    assert dut.latency == stages + 1
    check_mac(f"fmac {fmt} -> {acc} {rounding} {stages} stages fused={fused}", dut, cols, fmt,
              acc, fused=fused, **golden_kw(rounding, None, 8))


def test_fmac_saturating_small_accumulator():
    """An e5m2 accumulator overflows quickly: saturation, signed zeros, NaN propagation."""
    rng = np.random.default_rng([SEED, 23])
    cols = mac_commands(rng, golden.parse("e4m3"), 500)
    for saturate in (False, True):
        dut = FMac(fmt="e4m3", acc="e5m2", saturate=saturate)
        check_mac(f"fmac e4m3 -> e5m2 sat={saturate}", dut, cols, "e4m3", "e5m2",
                  saturate=saturate)


@pytest.mark.parametrize("fmt,acc", [("int8", "int32"), ("int8", "int16"), ("int16", "int32"),
                                     ("uint8", "int16")])
@pytest.mark.parametrize("saturate", [False, True])
def test_intmac(fmt, acc, saturate):
    """Exact products and sums; streams biased to large same-sign products cross the
    accumulator's range (except int8 -> int32, which would need 2^17 steps), so the limits
    are exercised: the saturating reference must reach them."""
    rng = np.random.default_rng([SEED, 30])
    fa, fc = golden.parse(fmt), golden.parse(acc)
    cols = mac_commands(rng, fa, 500, p_first=0.01, p_clear=0.005)
    reaches = fa.n * 2 > fc.n - 9                      # 500 large products overflow fc
    if reaches:
        big = rng.random(500) < 0.8
        cols["a"][big] = fa.from_int(np.full(big.sum(), fa.max_int))
        cols["b"][big] = fa.from_int(np.full(big.sum(), fa.max_int if rng.random() < 0.5
                                             else fa.min_int))
    dut = IntMac(fmt=fmt, acc=acc, saturate=saturate, stages=1)
    assert dut.latency == 2
    check_mac(f"imac {fmt} -> {acc} sat={saturate}", dut, cols, fmt, acc, saturate=saturate)
    if reaches:
        limits = fc.from_int(np.array([fc.min_int, fc.max_int]))
        states = mac_reference(cols, fmt, acc, saturate=True)
        assert np.isin(states, limits).any()


class _ResetHarness(Elaboratable):
    def __init__(self, dut):
        self.dut = dut
        self.rst = Signal()

    def elaborate(self, platform):
        from amaranth.hdl import ClockDomain
        m = Module()
        m.domains.sync = cd = ClockDomain()
        m.d.comb += cd.rst.eq(self.rst)
        m.submodules.dut = self.dut
        return m


def test_mac_reset_clears_acc_and_pipeline():
    """rst empties the product path and sets acc to +0; commands resume afterwards."""
    dut = FMac(fmt="e4m3", acc="fp32", stages=2)
    harness = _ResetHarness(dut)
    one = int(golden.parse("e4m3").encode(1.5))
    seen = []
    sim = Simulator(harness)

    async def bench(ctx):
        ctx.set(dut.a.as_value(), one)
        ctx.set(dut.b.as_value(), one)
        ctx.set(dut.en, 1)
        ctx.set(dut.first, 1)
        await ctx.tick().repeat(4)
        seen.append(ctx.get(dut.acc.as_value()))           # 1.5 * 1.5 = 2.25
        ctx.set(harness.rst, 1)                           # steps in flight are dropped
        await ctx.tick()
        ctx.set(harness.rst, 0)
        ctx.set(dut.en, 0)
        await ctx.tick().repeat(3)
        seen.append(ctx.get(dut.acc.as_value()))
        ctx.set(dut.en, 1)
        ctx.set(dut.first, 0)
        await ctx.tick()
        ctx.set(dut.en, 0)
        await ctx.tick().repeat(3)
        seen.append(ctx.get(dut.acc.as_value()))          # 0 + 2.25

    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    product = int(golden.mac_step(0, one, one, "e4m3", "fp32", first=True))
    assert product == 0x40100000 and seen == [product, 0, product]


# ---------------------------------------------------------------------------------------------
# Verilog, lint, manifest
# ---------------------------------------------------------------------------------------------
def test_verilog_is_deterministic(tmp_path):
    unit = FMac(fmt="e4m3", acc="fp32", rounding="sr", stages=2)
    text1, manifest1 = generate(unit)
    text2, manifest2 = generate(FMac(fmt="e4m3", acc="fp32", rounding="sr", stages=2))
    assert text1 == text2 and manifest1 == manifest2
    # and across interpreter runs with different hash seeds
    code = ("import sys, hw; sys.stdout.write(hw.generate(hw.FMac(fmt='e4m3', acc='fp32', "
            "rounding='sr', stages=2))[0])")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    other = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True).stdout
    assert other == text1
    assert text1.startswith("// fmac_e4m3fn_fp32_sr_r8_s2:")
    assert "module fmac_e4m3fn_fp32_sr_r8_s2(" in text1


def assert_lint_clean(build, tmp_path):
    """Generate ``build()`` twice (byte-identical), write it, and lint it with the project's
    Verilator (``verilator --lint-only -Wall``): no warning may remain. Returns the text."""
    from macforge.toolchain.verilator import verilator_bin
    text = generate(build())[0]
    assert text == generate(build())[0], "generated Verilog differs between two runs"
    paths = write(build(), tmp_path)
    result = subprocess.run([str(verilator_bin()), "--lint-only", "-Wall", paths["verilog"]],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "%Warning" not in result.stderr, result.stderr[-4000:]
    return text


@pytest.mark.parametrize("unit", [
    lambda: FMac(fmt="e4m3", acc="fp32"),
    lambda: FMac(fmt="e4m3", acc="fp32", fused=False, rounding="sr", stages=2),
    lambda: FMul(fmt="e4m3"),
    lambda: FFma(fmt="e5m2", acc="fp16", stages=3),
    lambda: IntMac(fmt="int8", acc="int32", saturate=True),
    lambda: FMac(fmt="e4m3", acc="fp32", stages=1, loop_stages=4),
    lambda: FMac(fmt="e5m2", acc="fp16", fused=False, rounding="sr", loop_stages=1),
], ids=["fmac", "fmac_nf_sr_s2", "fmul", "ffma_s3", "imac_sat", "fmac_l4", "fmac_nf_sr_l1"])
def test_verilator_lint(tmp_path, unit):
    assert_lint_clean(unit, tmp_path)


def test_manifest_and_files(tmp_path):
    unit = FMac(fmt="e4m3", acc="fp32", stages=2)
    paths = write(unit, tmp_path)
    assert sorted(os.path.basename(p) for p in paths.values()) == [
        "fmac_e4m3fn_fp32_rne_s2.json", "fmac_e4m3fn_fp32_rne_s2.v"]
    manifest = json.loads(open(paths["manifest"]).read())
    command = "macforge verilog --unit mac --format e4m3fn --acc fp32 --stages 2"
    assert manifest.pop("macforge") == {"version": provenance.version(), "command": command}
    text = open(paths["verilog"]).read()
    assert f"// macforge {provenance.version()}\n// regenerate: {command}\n" in text
    assert manifest == unit.manifest()
    assert manifest == {
        "module": "fmac_e4m3fn_fp32_rne_s2", "unit": "mac",
        "formats": {"a": "e4m3fn", "b": "e4m3fn", "acc": "fp32"},
        "rounding": "rne", "saturate": False, "fused": True, "stages": 2, "latency": 3, "state": "observed", "model": "mac_step", "interleave": 1,
        "rnd_bits": None, "multiplier": "star", "clock": "clk", "reset": "rst",
        "ports": [
            {"name": "clk", "dir": "in", "width": 1, "role": "clock"},
            {"name": "rst", "dir": "in", "width": 1, "role": "reset"},
            {"name": "a", "dir": "in", "width": 8, "role": "operand"},
            {"name": "b", "dir": "in", "width": 8, "role": "operand"},
            {"name": "en", "dir": "in", "width": 1, "role": "enable"},
            {"name": "first", "dir": "in", "width": 1, "role": "first"},
            {"name": "clear", "dir": "in", "width": 1, "role": "clear"},
            {"name": "acc", "dir": "out", "width": 32, "role": "accumulator"},
        ],
    }
    text = open(paths["verilog"]).read()
    for port in manifest["ports"]:                       # every manifest port is a Verilog port
        assert re.search(rf"\b(input|output) (\[{port['width'] - 1}:0\] )?{port['name']};",
                         text), port


def test_manifests_of_other_units():
    mul = FMul(fmt="e4m3", fmt_b="e5m2", out="fp16", rounding="sr", rnd_bits=6)
    mul = elaborated(mul).manifest()
    assert mul["module"] == "fmul_e4m3fn_e5m2_fp16_sr_r6_s0"
    assert mul["unit"] == "mul" and mul["latency"] == 0 and mul["clock"] is None
    assert mul["formats"] == {"a": "e4m3fn", "b": "e5m2", "out": "fp16"}
    assert [(p["name"], p["dir"], p["width"]) for p in mul["ports"]] == [
        ("a", "in", 8), ("b", "in", 8), ("rnd", "in", 6), ("y", "out", 16)]
    assert mul["rnd_bits"] == 6 and mul["fused"] is None
    assert elaborated(FMul(fmt="e4m3")).module_name == "fmul_e4m3fn_e4m3fn_rne_s0"
    fma = elaborated(FFma(fmt="e4m3", acc="fp16", stages=1, saturate=True)).manifest()
    assert fma["module"] == "ffma_e4m3fn_fp16_rne_sat_s1" and fma["clock"] == "clk"
    assert [p["role"] for p in fma["ports"]] == ["clock", "reset", "operand", "operand",
                                                  "addend", "result"]
    nf = elaborated(FMac(fmt="e4m3", acc="fp16", fused=False)).module_name
    assert nf == "fmac_e4m3fn_fp16_rne_nf_s0"
    imac = elaborated(IntMac(fmt="int8", acc="int32")).manifest()
    assert imac["module"] == "imac_int8_int32_wrap_s0" and imac["unit"] == "imac"
    assert imac["rounding"] is None and imac["latency"] == 1
    assert elaborated(IntMac(fmt="int8", acc="int32", saturate=True)).module_name == \
        "imac_int8_int32_sat_s0"
    json.dumps([mul, fma, imac])


def test_make_unit():
    unit = elaborated(make_unit("mac", "int8"))
    assert isinstance(unit, IntMac) and unit.module_name == "imac_int8_int32_wrap_s0"
    assert elaborated(make_unit("mac", "e4m3")).module_name == "fmac_e4m3fn_fp32_rne_s0"
    assert elaborated(make_unit("mul", "e5m2", acc="fp16", rounding="sr")).module_name == \
        "fmul_e5m2_fp16_sr_r8_s0"
    assert elaborated(make_unit("fma", "e4m3", acc="fp16", stages=2)).latency == 2
    assert elaborated(make_unit("mac", "e4m3", fused=False)).module_name == \
        "fmac_e4m3fn_fp32_rne_nf_s0"
    assert elaborated(make_unit("mul", "e4m3", multiplier="array")).module_name == \
        "fmul_e4m3fn_e4m3fn_rne_marray_s0"
    with pytest.raises(FormatError, match=r"^unknown unit 'dotx'; accepted: mul \(.*\)$"):
        make_unit("dotx", "e4m3")
    with pytest.raises(FormatError, match=r"^unit 'mul' gives a minifloat, posit, hif8 or takum result, not int8 "
                                          r"\(pass acc=<minifloat>\); accepted: .*$"):
        make_unit("mul", "int8")
    with pytest.raises(FormatError, match=r"^an integer accumulator \(int32\) needs integer "
                                          r"operands, not e4m3fn x e4m3fn; accepted: .*$"):
        make_unit("mac", "e4m3", acc="int32")
    with pytest.raises(FormatError, match=r"^unknown format 'posit9x'"):
        make_unit("mac", "posit9x")


@pytest.mark.parametrize("build,message", [
    (lambda: FMul(fmt="e4m3", stages=-1), r"^stages must be an integer 0\.\.32 \(pipeline registers of a unit\), not -1$"),
    (lambda: FMac(fmt="e4m3", stages=1.5), r"^stages must be an integer 0\.\.32 \(pipeline registers of a unit\), not 1\.5$"),
    (lambda: FFma(fmt="e4m3", rnd_bits=0, rounding="sr"),
     r"^rnd_bits must be an integer 1\.\.32 \(random bits per element of stochastic rounding\), not 0$"),
    (lambda: FMul(fmt="e4m3", saturate=1), r"^saturate must be a bool, not 1$"),
    (lambda: FMac(fmt="e4m3", fused="no"), r"^fused must be a bool, not 'no'$"),
    (lambda: FMul(fmt="e4m3", multiplier=int),
     r"^multiplier must be a Multiplier subclass, not <class 'int'>$"),
    (lambda: IntMac(fmt="int8", stages=True),
     r"^stages must be an integer 0\.\.32 \(pipeline registers of a unit\), not True$"),
], ids=["stages", "stages_float", "rnd_bits", "saturate", "fused", "multiplier", "stages_bool"])
def test_parameter_type_errors(build, message):
    with pytest.raises(TypeError, match=message):
        build()


@pytest.mark.parametrize("build,message", [
    (lambda: FMul(fmt="e4m3", out="int8"),
     r"^out must be a result format \(minifloat, posit, hif8 or takum\), not int8 \(integer\)$"),
    (lambda: FMac(fmt="e4m3", acc="e8m0"),
     r"^acc must be a result format \(minifloat, posit, hif8 or takum\), not e8m0fnu \(a minifloat needs a "
     r"sign and subnormals to be a result\)$"),
    (lambda: FMul(fmt="e4m3", out="e2m1"),
     r"^e2m1fn has no NaN, so it cannot hold the NaN results that e4m3fn operands produce$"),
    (lambda: IntMac(fmt="e4m3"),
     r"^fmt must be an integer format \(int<N>/uint<N>\), not e4m3fn$"),
    (lambda: FMul(fmt="e4m3", rounding="nearest"), r"^unknown rounding mode 'nearest'; accepted: "
                                                    r"rne, rtz, rna, rup, rdn, sr$"),
], ids=["out_int", "acc_e8m0", "no_nan", "imac_float", "rounding"])
def test_parameter_format_errors(build, message):
    with pytest.raises(FormatError, match=message):
        build()
