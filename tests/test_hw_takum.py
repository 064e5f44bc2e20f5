"""Linear takums in hardware (hw._takum) against golden (``golden._takum``), in-process.

TakumDecode on every takum8 / takum16 code (and sampled takum32) against ``exact_unpack``;
TakumRound behind the shared Normalise, fed (a) the exact products of two TakumDecodes (a small
harness that multiplies significands as the product path does): all 65,536 takum8 pairs, and
corner x corner plus random takum16 / takum32 pairs, every rounding mode (SR with random rnd),
and (b) raw records built directly from exact triples: wide significands with sticky bits,
exponents far beyond minpos / maxpos, zero, NaN and inf; Verilator lint of both harnesses; and,
where the family hook routes takums through Unpack / round_pack, FMul / FFma / FMac end to end.
"""
import subprocess

import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.hdl import Module, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from macforge import golden
from macforge.golden import FormatError, Rounding
from macforge.golden._exact import FINITE, INF, NAN, bit_length, round_to
from macforge.golden._takum import CHAR_MAX, CHAR_MIN, Takum
from macforge.hw._normalise import Normalise
from macforge.hw._raw import RawFloatLayout
from macforge.hw._round import round_bits_for
from macforge.hw._takum import TakumDecode, TakumRound, takum_grid, takum_raw_layout
from test_hw_units import ROUNDINGS, check, check_mac, simulate_stream

SEED = 20260523
T8, T16, T32 = Takum(8), Takum(16), Takum(32)


# ---------------------------------------------------------------------------------------------
# harnesses
# ---------------------------------------------------------------------------------------------
def _round_behind_normalise(m, fmt, raw, rounding, rnd_bits, rnd):
    """Normalise (to takum_grid) then TakumRound: what round_pack builds for a takum."""
    m.submodules.normalise = norm = Normalise(takum_grid(fmt), raw.shape(),
                                              round_bits_for(rounding, rnd_bits))
    m.d.comb += norm.raw.eq(raw)
    m.submodules.round = rounder = TakumRound(fmt, norm.norm.shape(), rounding, False, rnd_bits)
    m.d.comb += rounder.norm.eq(norm.norm)
    if rounding is Rounding.SR:
        m.d.comb += rounder.rnd.eq(rnd)
    return rounder.code


class MulHarness(wiring.Component):
    """``y = round(a * b)``: two TakumDecodes, the exact significand product (top bit weight
    ``2^(ea + eb + 1)``, as hw._product builds it), Normalise, TakumRound."""
    latency = 0

    def __init__(self, fmt, rounding=Rounding.RNE, rnd_bits=8):
        self._fmt, self._rounding, self._rnd_bits = fmt, Rounding.parse(rounding), rnd_bits
        members = {"a": In(fmt.bits), "b": In(fmt.bits)}
        if self._rounding is Rounding.SR:
            members["rnd"] = In(rnd_bits)
        members["y"] = Out(fmt.bits)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        fmt = self._fmt
        m.submodules.da = da = TakumDecode(fmt)
        m.submodules.db = db = TakumDecode(fmt)
        m.d.comb += [da.code.eq(self.a), db.code.eq(self.b)]
        lay = takum_raw_layout(fmt)
        p = Signal(RawFloatLayout(2 * lay.exp_min + 1, 2 * lay.exp_max + 1, 2 * lay.sig_width))
        x, y = da.raw, db.raw
        m.d.comb += [p.sig.eq(x.sig * y.sig), p.exp.eq(x.exp + y.exp + 1),
                     p.sign.eq(x.sign ^ y.sign), p.is_nan.eq(x.is_nan | y.is_nan),
                     p.is_zero.eq(x.is_zero | y.is_zero)]
        rnd = self.rnd if self._rounding is Rounding.SR else None
        m.d.comb += self.y.eq(_round_behind_normalise(m, fmt, p, self._rounding,
                                                      self._rnd_bits, rnd))
        return m


class RawHarness(wiring.Component):
    """``y = round(raw)`` for a raw record given field by field (``exp`` as its bit pattern)."""
    latency = 0

    def __init__(self, fmt, layout, rounding=Rounding.RNE, rnd_bits=8):
        self._fmt, self._layout = fmt, layout
        self._rounding, self._rnd_bits = Rounding.parse(rounding), rnd_bits
        members = {"sig": In(layout.sig_width), "exp": In(Shape.cast(layout["exp"].shape).width),
                   "sign": In(1), "sticky": In(1), "is_inf": In(1), "is_nan": In(1)}
        if self._rounding is Rounding.SR:
            members["rnd"] = In(rnd_bits)
        members["y"] = Out(fmt.bits)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        raw = Signal(self._layout)
        m.d.comb += [raw.sig.eq(self.sig), raw.exp.eq(self.exp), raw.sign.eq(self.sign),
                     raw.sticky.eq(self.sticky), raw.is_inf.eq(self.is_inf),
                     raw.is_nan.eq(self.is_nan),
                     raw.is_zero.eq((self.sig == 0) & ~self.sticky)]
        rnd = self.rnd if self._rounding is Rounding.SR else None
        m.d.comb += self.y.eq(_round_behind_normalise(m, self._fmt, raw, self._rounding,
                                                      self._rnd_bits, rnd))
        return m


def _kw(rounding, rnd):
    return {"rounding": rounding} if rnd is None else {"rounding": rounding, "rnd": rnd,
                                                       "rnd_bits": 8}


# ---------------------------------------------------------------------------------------------
# decode
# ---------------------------------------------------------------------------------------------
def _decode_all(fmt, codes):
    dut = TakumDecode(fmt)
    got = []

    async def bench(ctx):
        r = dut.raw
        for code in codes.tolist():
            ctx.set(dut.code, code)
            got.append([ctx.get(v) for v in (r.sign, r.exp, r.sig, r.sticky, r.is_zero,
                                              r.is_inf, r.is_nan)])

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got, dtype=np.int64).T


@pytest.mark.parametrize("fmt,every", [(T8, True), (Takum(11), True), (T16, True), (T32, False)],
                         ids=["takum8", "takum11", "takum16", "takum32"])
def test_decode(fmt, every):
    """sign, exp (weight of sig's top bit), sig = 1.M left-aligned in n - 4 bits, flags."""
    if every:
        codes = np.arange(1 << fmt.n, dtype=np.uint64)
    else:
        rng = np.random.default_rng([SEED, fmt.n])
        codes = np.concatenate([fmt.corner_codes().astype(np.uint64),
                                rng.integers(0, 1 << fmt.n, 20_000, dtype=np.uint64)])
    sign, exp, sig, sticky, zero, inf, nan = _decode_all(fmt, codes)
    g_sign, g_m, g_e, g_kind = fmt.exact_unpack(codes)
    P = fmt.exact_sig_bits
    bl = bit_length(g_m)
    finite = (g_kind == FINITE) & (g_m != 0)
    assert (nan == (g_kind == NAN)).all() and (zero == ((g_kind == FINITE) & (g_m == 0))).all()
    assert not inf.any() and not sticky.any()
    assert (sig[~finite] == 0).all() and (sign[~finite] == 0).all()
    assert (sign[finite] == g_sign[finite]).all()
    assert (exp[finite] == (g_e + bl - 1)[finite]).all()
    assert (sig[finite] == (g_m.astype(np.int64) << (P - bl))[finite]).all()
    lay = takum_raw_layout(fmt)
    assert lay.exp_min <= exp.min() and exp.max() <= lay.exp_max and lay.sig_width == P
    assert finite.sum() > 200


# ---------------------------------------------------------------------------------------------
# round behind Normalise: products of two decodes
# ---------------------------------------------------------------------------------------------
def _run_products(fmt, a, b, rounding, rng):
    cols = {"a": a, "b": b}
    rnd = None
    if rounding == "sr":
        rnd = rng.integers(0, 256, a.size, dtype=np.uint64)
        cols["rnd"] = rnd
    got = simulate_stream(MulHarness(fmt, rounding), cols)
    want = golden.mul(a, b, fmt, **_kw(rounding, rnd))
    return check(f"{fmt.name} x {fmt.name} {rounding}", got, want, cols)


def _pairs(fmt, rng, n_random):
    cc = fmt.corner_codes().astype(np.uint64)
    ga, gb = np.meshgrid(cc, cc, indexing="ij")
    a = np.concatenate([ga.ravel(), rng.integers(0, 1 << fmt.n, n_random, dtype=np.uint64)])
    b = np.concatenate([gb.ravel(), rng.integers(0, 1 << fmt.n, n_random, dtype=np.uint64)])
    return a, b


def test_products_takum8_exhaustive_rne():
    c = np.arange(256, dtype=np.uint64)
    a, b = np.repeat(c, 256), np.tile(c, 256)
    assert _run_products(T8, a, b, "rne", None) == 65536


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_products_takum8_corners(rounding):
    rng = np.random.default_rng([SEED, 1, ROUNDINGS.index(rounding)])
    a, b = _pairs(T8, rng, 3000)
    assert _run_products(T8, a, b, rounding, rng) > 8000


@pytest.mark.parametrize("fmt", [T16, Takum(13), T32], ids=["takum16", "takum13", "takum32"])
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_products_wide(fmt, rounding):
    rng = np.random.default_rng([SEED, 2, fmt.n, ROUNDINGS.index(rounding)])
    a, b = _pairs(fmt, rng, 800)
    assert _run_products(fmt, a, b, rounding, rng) > 800


@pytest.mark.slow
@pytest.mark.parametrize("rounding", [r for r in ROUNDINGS if r != "rne"])
def test_products_takum8_exhaustive(rounding):
    rng = np.random.default_rng([SEED, 3, ROUNDINGS.index(rounding)])
    c = np.arange(256, dtype=np.uint64)
    a, b = np.repeat(c, 256), np.tile(c, 256)
    assert _run_products(T8, a, b, rounding, rng) == 65536


# ---------------------------------------------------------------------------------------------
# round behind Normalise: raw records from exact triples
# ---------------------------------------------------------------------------------------------
def _raw_vectors(rng, k, width, lay):
    """Exact triples with ``width``-bit significands (top bit set or not) and sticky bits,
    exponents across and beyond the takum range, plus zero, NaN and +-inf."""
    q = k // 8
    top = rng.integers(lay.exp_min, lay.exp_max + 1, k)
    top[:q] = rng.integers(CHAR_MAX - 4, CHAR_MAX + 4, q)                   # around maxpos
    top[q:2 * q] = rng.integers(CHAR_MIN - 6, CHAR_MIN + 20, q)             # around minpos
    sig = rng.integers(0, 1 << width, k, dtype=np.uint64)
    sig[: k // 2] |= np.uint64(1 << (width - 1))                              # mostly normal
    sig[k // 2: k // 2 + k // 16] &= np.uint64((1 << (width // 3)) - 1)      # leading zeros
    sticky = rng.random(k) < 0.4
    sign = rng.random(k) < 0.5
    kind = np.full(k, FINITE, np.int8)
    kind[-30:-20], kind[-20:-10] = INF, NAN
    sig[-10:], sticky[-10:] = 0, False                                       # exact zeros
    # (no "sticky without sig": no datapath makes one, and its magnitude is undefined)
    sticky &= sig != 0
    return sign, sig, top, sticky, kind


@pytest.mark.parametrize("fmt", [T8, Takum(12), T16, Takum(24)],
                         ids=["takum8", "takum12", "takum16", "takum24"])
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_round_raw(fmt, rounding):
    rng = np.random.default_rng([SEED, 4, fmt.n, ROUNDINGS.index(rounding)])
    width = fmt.exact_sig_bits + 12 if rounding != "sr" else fmt.exact_sig_bits + 14
    lay = RawFloatLayout(CHAR_MIN - 60, CHAR_MAX + 40, width)
    k = 2500
    sign, sig, top, sticky, kind = _raw_vectors(rng, k, width, lay)
    sig_in = np.where(kind == FINITE, sig, np.uint64(0))
    exp_bits = Shape.cast(lay["exp"].shape).width
    cols = {"sig": sig_in, "exp": (top & ((1 << exp_bits) - 1)).astype(np.uint64),
            "sign": sign.astype(np.uint64), "sticky": sticky.astype(np.uint64),
            "is_inf": (kind == INF).astype(np.uint64), "is_nan": (kind == NAN).astype(np.uint64)}
    rnd, R = None, 0
    if rounding == "sr":
        rnd = rng.integers(0, 256, k, dtype=np.uint64)
        cols["rnd"], R = rnd, 8
    got = simulate_stream(RawHarness(fmt, lay, rounding), cols)
    # the record's value: sig * 2^(exp - (width - 1)), plus sticky below its last bit
    e = (top - (width - 1)).astype(np.int64)
    want = round_to(fmt, sign, sig_in, e, sticky & (kind == FINITE), kind,
                    Rounding.parse(rounding), False, rnd, R)
    assert check(f"raw -> {fmt.name} {rounding}", got, want, cols) == k
    assert np.isin(want, [fmt.maxpos_code, fmt.nar_code + 1]).sum() > 50   # the clamps ran
    assert np.isin(want, [1, fmt.mask]).sum() > 50


@pytest.mark.filterwarnings("ignore:.*created but never used")     # the refused packers
def test_packer_contract():
    """TakumRound is sized by its grid, and refuses an input Normalise did not produce."""
    g = takum_grid(T16)
    assert (g.emin, g.precision) == (-255, 12) and TakumRound.code_shape(T16) == 16
    assert (takum_grid(T8).emin, takum_grid(T8).precision) == (-239, 4)
    with pytest.raises(ValueError, match=r"^RawFloatLayout\(exp -255\.\.300, sig 19 bits\) is "
                                         r"not normalised for takum16 with 8 rounding bits$"):
        TakumRound(T16, RawFloatLayout(-255, 300, 19), Rounding.SR, False, 8)
    with pytest.raises(ValueError, match=r"^RawFloatLayout\(exp -256\.\.300, sig 30 bits\) is "
                                         r"not normalised for takum16 with 1 rounding bits$"):
        TakumRound(T16, RawFloatLayout(-256, 300, 30), Rounding.RNE, False, 8)


# ---------------------------------------------------------------------------------------------
# Verilog
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [lambda: MulHarness(T8, "sr"), lambda: MulHarness(T16, "rne"),
                                   lambda: RawHarness(Takum(12), RawFloatLayout(-300, 300, 20),
                                                      "rdn")],
                         ids=["mul_takum8_sr", "mul_takum16", "raw_takum12_rdn"])
def test_verilator_lint(tmp_path, build):
    """The harness's Verilog under the waivers :func:`hw.build.generate` puts around every
    unit's (rules structural to Amaranth/Yosys output), so TakumDecode / TakumRound add none."""
    from macforge.hw.build import _lint_block
    from macforge.toolchain.verilator import verilator_bin
    text = verilog.convert(build(), name="takum_harness", emit_src=False)
    assert text == verilog.convert(build(), name="takum_harness", emit_src=False)
    text = _lint_block(False) + text + _lint_block(True)
    path = tmp_path / "takum_harness.v"
    path.write_text(text)
    result = subprocess.run([str(verilator_bin()), "--lint-only", "-Wall", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "%Warning" not in result.stderr, result.stderr[-4000:]


# ---------------------------------------------------------------------------------------------
# end to end through the units (needs the family hook in Unpack / round_pack / as_operand)
# ---------------------------------------------------------------------------------------------
def _units_take_takums():
    from macforge.hw import FMul
    try:
        FMul(fmt=T8)
    except FormatError:
        return False
    return True


needs_hook = pytest.mark.skipif(not _units_take_takums(),
                                reason="the units do not route takums yet (family hook)")


@needs_hook
@pytest.mark.parametrize("rounding", ["rne", "sr"])
def test_fmul_takum8_every_pair(rounding):
    from macforge.hw import FMul
    rng = np.random.default_rng([SEED, 5])
    c = np.arange(256, dtype=np.uint64)
    a, b = np.repeat(c, 256), np.tile(c, 256)
    cols = {"a": a, "b": b}
    rnd = None
    if rounding == "sr":
        rnd = rng.integers(0, 256, a.size, dtype=np.uint64)
        cols["rnd"] = rnd
    got = simulate_stream(FMul(fmt=T8, rounding=rounding), cols)
    want = golden.mul(a, b, T8, **_kw(rounding, rnd))
    assert check(f"FMul takum8 {rounding}", got, want, cols) == 65536


@needs_hook
@pytest.mark.parametrize("acc,rounding", [(T8, "rne"), (T16, "sr"), ("fp32", "rdn")],
                         ids=["takum8", "takum16_sr", "fp32_rdn"])
def test_ffma_takum8(acc, rounding):
    from macforge.hw import FFma
    rng = np.random.default_rng([SEED, 6])
    fc = golden.parse(acc)
    k = 4000
    a, b = rng.integers(0, 256, k, dtype=np.uint64), rng.integers(0, 256, k, dtype=np.uint64)
    c = rng.integers(0, 1 << fc.bits, k, dtype=np.uint64)
    if isinstance(fc, Takum):
        c[: k // 3] = golden.mul(a[: k // 3], b[: k // 3], T8, fc) ^ np.uint64(fc.sign_bit)
    cols = {"a": a, "b": b, "c": c}
    rnd = None
    if rounding == "sr":
        rnd = rng.integers(0, 256, k, dtype=np.uint64)
        cols["rnd"] = rnd
    got = simulate_stream(FFma(fmt=T8, acc=fc, rounding=rounding), cols)
    want = golden.fma(a, b, c, T8, fc, **_kw(rounding, rnd))
    assert check(f"FFma takum8 -> {fc.name} {rounding}", got, want, cols) == k


@needs_hook
@pytest.mark.parametrize("fmt,acc,kw", [
    (T8, "fp32", {}),                                           # Takum.default_accumulator
    (T8, T16, {"fused": False, "rounding": "sr"}),
    (T16, T16, {"rounding": "rna", "stages": 2}),
], ids=["takum8_fp32", "takum8_takum16_nf_sr", "takum16_takum16_rna_s2"])
def test_fmac(fmt, acc, kw):
    """MAC command streams (first / clear / idle cycles) against golden.mac_step."""
    from macforge.hw import FMac
    rng = np.random.default_rng([SEED, 7, fmt.n])
    n = 1500
    a = rng.integers(0, 1 << fmt.n, n, dtype=np.uint64)
    b = rng.integers(0, 1 << fmt.n, n, dtype=np.uint64)
    corner = rng.random(n) < 0.05
    a[corner] = rng.choice(fmt.corner_codes().astype(np.uint64), int(corner.sum()))
    cols = {"a": a, "b": b, "en": (rng.random(n) >= 0.1).astype(np.uint64),
            "first": (rng.random(n) < 0.1).astype(np.uint64),
            "clear": (rng.random(n) < 0.02).astype(np.uint64)}
    cols["first"][0] = 1
    rounding = kw.get("rounding", "rne")
    golden_kw = {"rounding": rounding, "fused": kw.get("fused", True)}
    if rounding == "sr":
        cols["rnd"] = rng.integers(0, 256, n, dtype=np.uint64)
        golden_kw["rnd_bits"] = 8
    dut = FMac(fmt=fmt, acc=acc, **kw)
    assert check_mac(f"FMac {fmt.name} -> {golden.parse(acc).name} {kw}", dut, cols, fmt, acc,
                     **golden_kw) == n
