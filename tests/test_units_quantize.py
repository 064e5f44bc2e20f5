"""``quantize`` and ``dequantize``: the block quantiser (hw.Quantize: MX and NVFP4/NVINT4 with a
tensor-scale input) and dequantiser (hw.Dequantize) in process against golden.quantize /
golden.dequantize (the references; golden.quantize is checked against the OCP and NVIDIA rules
in tests/test_golden_block.py, its given-tensor-scale form and golden.dequantize's rounding
here against exact Fraction arithmetic): scale and every element code, including all-zero
blocks, subnormal-only blocks, NaN/inf blocks, blocks whose scale clamps at 2^-127, NV block
maxima at every rounding boundary of the e4m3 scale, subnormal and zero NV scales, invalid
tensor scales, and every (scale, element) pair of each dequantised format."""
import math
from fractions import Fraction
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from amaranth.sim import Simulator

from macforge import golden, hw
from macforge.golden import FormatError
from macforge.sim import _lanes, model
from macforge.sim.stimulus import (block_vectors, dequantize_vectors, nv_boundary_blocks,
                                   nv_tensor_scales)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _reference as R  # noqa: E402
from _simutil import simulate  # noqa: E402
from test_golden_block import NV_Q, ref_element  # noqa: E402
from test_hw_units import assert_lint_clean, elaborated  # noqa: E402

SEED = 20261204


def _v(x):
    return x.as_value() if hasattr(x, "as_value") else x


def _run_ports(unit, inputs: dict, outputs) -> dict:
    """Combinational in-process run: per vector j, every input port ``name`` takes
    ``inputs[name][j]`` (a row of lane codes for a lane port); returns each output port's
    values as a uint64 array (lane ports: ``(n, lanes)``)."""
    n = len(next(iter(inputs.values())))
    got = {name: [] for name in outputs}

    def lanes(port):
        return hasattr(port, "shape") and hasattr(port.shape(), "length")

    async def bench(ctx):
        for j in range(n):
            for name, vals in inputs.items():
                port = getattr(unit, name)
                if lanes(port):
                    for i, c in enumerate(vals[j]):
                        ctx.set(_v(port[i]), int(c))
                else:
                    ctx.set(_v(port), int(vals[j]))
            for name in outputs:
                port = getattr(unit, name)
                got[name].append([ctx.get(_v(port[i])) for i in range(port.shape().length)]
                                 if lanes(port) else ctx.get(_v(port)))
    sim = Simulator(unit)
    sim.add_testbench(bench)
    sim.run()
    return {name: np.array(v, np.uint64) for name, v in got.items()}


def _run(unit, a, tscale=None):
    """(scale, elements) of every block of ``a`` (rows of lane codes; ``tscale``: the nv*
    tensor-scale code per block), combinational."""
    inputs = {"a": a} if tscale is None else {"a": a, "tscale": tscale}
    got = _run_ports(unit, inputs, ("scale", "y"))
    return got["scale"], got["y"]


@pytest.mark.parametrize("src,out,k,rounding,n", [
    pytest.param("fp32", "mxfp8", 32, "rne", 12, marks=pytest.mark.slow),   # 32 lanes: ~40 s
    pytest.param("bf16", "mxfp4", 32, "rne", 16, marks=pytest.mark.slow),
    ("fp32", "mxfp8", 4, "rne", 100),
    ("fp32", "mxint8", 4, "rtz", 80),
    ("bf16", "mxe5m2", 4, "rna", 80),
    ("fp32", "mxfp6", 4, "rup", 100),
    ("fp16", "mxe3m2", 4, "rdn", 150),
])
def test_quantize_unit(src, out, k, rounding, n):
    rng = np.random.default_rng(SEED)
    fi, fb = golden.parse(src), golden.parse(out)
    unit = hw.make_unit("quantize", src, acc=out, lanes=k, rounding=rounding)
    a = block_vectors(fi, k, n, rng)
    want_s = _check_quantize(unit, fi, fb, a, rounding)
    assert {int(want_s[0]), int(want_s[3])} == {0, 0xFF}      # zero block, NaN block


def _check_quantize(unit, fi, fb, a, rounding, tc=None):
    """Run the blocks ``a`` (nv*: tensor-scale codes ``tc``) through ``unit`` and compare the
    scale and every element with golden.quantize (padded to the block by golden); returns
    golden's scale codes."""
    k = a.shape[1]
    scales, elems = _run(unit, a, tc)
    ts = None if tc is None else golden.parse("fp32").decode(tc)[:, None]
    ref = golden.quantize(fi.decode(a), fb, rounding=rounding, tensor_scale=ts)
    want_s = ref.scales[:, 0].astype(np.uint64)
    want_e = ref.elements[:, :k].astype(np.uint64)
    bad = np.flatnonzero((scales != want_s) | (elems != want_e).any(axis=1))
    assert a.shape[0] > 0
    assert not bad.size, "\n".join(
        f"block {j}: a={[hex(int(c)) for c in a[j]]}"
        + ("" if tc is None else f" t={int(tc[j]):#x}")
        + f" scale {int(scales[j]):#x} (golden {int(want_s[j]):#x}) elements "
        f"{[hex(int(c)) for c in elems[j]]} (golden {[hex(int(c)) for c in want_e[j]]})"
        for j in bad[:4])
    return want_s


@pytest.mark.parametrize("unit,fmt,acc,module,ports", [
    ("quantize", "bf16", "mxfp8", "quant_bf16_mxfp8_x4_rne_s0",
     [("a", 64, "operand"), ("y", 32, "result"), ("scale", 8, "scale")]),
    ("quantize", "fp32", "nvfp4", "quant_fp32_nvfp4_x4_rne_s0",
     [("a", 128, "operand"), ("tscale", 32, "tscale"), ("y", 16, "result"),
      ("scale", 8, "scale")]),
    ("dequantize", "nvfp4", "bf16", "dequant_nvfp4_x4_bf16_rne_s0",
     [("a", 16, "operand"), ("scale", 8, "scale"), ("tscale", 32, "tscale"),
      ("y", 64, "result")]),
    ("dequantize", "mxint8", "fp32", "dequant_mxint8_x4_fp32_rne_s0",
     [("a", 32, "operand"), ("scale", 8, "scale"), ("y", 128, "result")]),
])
def test_block_unit_verilog_lint_and_manifest(tmp_path, unit, fmt, acc, module, ports):
    """Lint-clean Verilog (two lanes, pipelined) and the manifest's ports (four lanes)."""
    text = assert_lint_clean(lambda: hw.make_unit(unit, fmt, acc=acc, lanes=2, stages=2),
                             tmp_path)
    assert f"unit {unit}" in text.splitlines()[3]
    m = elaborated(hw.make_unit(unit, fmt, acc=acc, lanes=4)).manifest()
    assert m["module"] == module and m["latency"] == 0
    assert [(p["name"], p["width"], p["role"]) for p in m["ports"]] == ports


def test_tensor_scale_format_is_asked_of_the_block_format(monkeypatch):
    """fp32 for the nv* formats, None for MX; and the one place: with another tensor-scale
    format (bf16) the hw ports, the quantiser's source check, golden's check of given tensor
    scales and the stimulus all follow it."""
    from macforge.golden._block import BLOCK_NAMES as NAMES
    fp32, bf16 = golden.parse("fp32"), golden.parse("bf16")
    for name in NAMES:
        f = golden.parse(name)
        assert f.tensor_scale_format == (fp32 if f.tensor_scale else None), name
    monkeypatch.setattr(golden.BlockFormat, "tensor_scale_format",
                        property(lambda self: bf16 if self.tensor_scale else None))
    q = hw.make_unit("quantize", "bf16", acc="nvfp4", lanes=2).manifest()
    d = hw.make_unit("dequantize", "nvfp4", acc="fp32", lanes=2).manifest()
    for man in (q, d):
        assert man["formats"]["tscale"] == "bf16"
        assert [p["width"] for p in man["ports"] if p["name"] == "tscale"] == [16]
    with pytest.raises(FormatError, match=r"^unit 'quantize' into nvfp4 takes sources no "
                       r"wider than its bf16 tensor scale's 8-bit significand \(fp32, bf16, "
                       r"fp16, \.\.\.\), not fp32$"):
        hw.make_unit("quantize", "fp32", acc="nvfp4", lanes=2)
    with pytest.raises(FormatError, match=r"^tensor_scale must hold bf16 values \(the "
                       r"scale's format\)$"):
        golden.quantize(np.ones(16), "nvfp4", tensor_scale=1.0 + 2.0 ** -10)
    blk = golden.parse("nvfp4")
    a = bf16.encode(np.linspace(1, 2, 32).reshape(2, 16))
    codes = nv_tensor_scales(bf16, blk, a, 0, 0, np.random.default_rng(1), corners=0.0)
    assert codes.dtype == bf16.dtype
    stim, _ = dequantize_vectors(blk, 2, 10, np.random.default_rng(1))
    assert stim["tscale"].dtype == bf16.dtype


@pytest.mark.parametrize("kw,msg", [
    (dict(fmt="fp32", acc="e4m3"), "unit 'quantize' produces a block format (mxfp8, mxe5m2, "
                                   "mxfp6, mxe3m2, mxfp4, mxint8, nvfp4, nvint4), not e4m3fn"),
    (dict(fmt="int8", acc="nvfp4"), "unit 'quantize' into nvfp4 takes a float source (fp32, "
                                    "bf16, fp16, a minifloat), not int8"),
    (dict(fmt="fp32", acc="mxfp8", lanes=33), "lanes must be an integer 1..32 (the block), not 33"),
    (dict(fmt="fp32", acc="mxfp8", rounding="sr"), "unit 'quantize' rounds with rne, rna, rtz, "
                                                   "rup or rdn (as golden.quantize)"),
    (dict(fmt="fp32"), "unit 'quantize' needs the block format as acc (e.g. acc=mxfp8)"),
])
def test_quantize_errors(kw, msg):
    with pytest.raises(FormatError, match="^" + re.escape(msg) + "$"):
        hw.make_unit("quantize", **kw)


def test_wide_words_round_trip():
    """Ports of any width: Python ints <-> uint64 word rows, and a result of several ports
    packed in manifest order (the first at bit 0), lane codes at their lane offsets."""
    rng = np.random.default_rng(SEED)
    ints = [int(v) for v in rng.integers(0, 1 << 62, 5)]
    ints = [(v << 70) | (v >> 3) | (1 << 135) for v in ints] + [0, (1 << 136) - 1]
    rows = _lanes.ints_to_words(ints, 136)
    assert rows.shape == (7, 3) and rows.dtype == np.uint64
    assert _lanes.words_to_ints(rows) == ints
    ports = [{"name": "y", "dir": "out", "width": 72, "role": "result", "lanes": 8,
              "lane_bits": 9},
             {"name": "scale", "dir": "out", "width": 8, "role": "scale"}]
    lanes = rng.integers(0, 1 << 9, (4, 8), dtype=np.uint64)
    scale = rng.integers(0, 256, 4, dtype=np.uint64)
    got = _lanes.words_to_ints(_lanes.pack_result({"y": lanes, "scale": scale}, ports))
    want = [sum(int(c) << (9 * i) for i, c in enumerate(row)) | (int(s) << 72)
            for row, s in zip(lanes, scale)]
    assert got == want
    assert _lanes.result_words(ports) == 2 and _lanes.result_words(ports[1:]) is None
    narrow = dict(ports[0], width=64, lanes=2, lane_bits=32)   # 2 fp32 lanes: k codes, not one
    assert _lanes.result_words([narrow]) == 1
    assert _lanes.pack_ints(lanes, ports[0]) == [w & ((1 << 72) - 1) for w in want]


def test_quantize_bench_model_flags_one_wrong_bit():
    """The bench model compares every bit of the wide result: one flipped element bit and one
    flipped scale bit are both mismatches, the rest of the rows match."""
    unit = hw.make_unit("quantize", "fp32", acc="mxint8", lanes=8)
    man = unit.manifest()
    rng = np.random.default_rng(SEED)
    stim = {"a": block_vectors(golden.parse("fp32"), 8, 20, rng)}
    good = model.expected_outputs(man, stim)
    assert good.shape == (26, 2)                    # 8 x 8 + 8 = 72 bits: two words
    obs = good.copy()
    obs[7, 0] ^= np.uint64(1 << 13)                 # lane 1 of block 7
    obs[9, 1] ^= np.uint64(1 << 3)                  # the scale of block 9 (bits 64..71)
    _, bad = model.compare(man, stim, obs)
    assert bad.tolist() == [7, 9]


@pytest.mark.parametrize("name", ["mxfp8", "mxint8", "mxfp4", "nvfp4", "nvint4"])
def test_diagnosis_reads_every_block_result_port_format(name):
    """sim.diagnose names the format of each result field of the block units from their
    manifests (the lanes from ``elements``, a quantiser's scale from ``scale``), so a mismatch
    report can decode every field."""
    from macforge.sim._lanes import result_ports
    from macforge.sim.diagnose import _port_format
    blk, fp32 = golden.parse(name), golden.parse("fp32")
    for unit, want in ((hw.make_unit("quantize", "fp32", acc=name, lanes=2),
                        {"y": blk.element, "scale": blk.scale}),
                       (hw.make_unit("dequantize", name, acc="fp32", lanes=2), {"y": fp32})):
        man = unit.manifest()
        got = {p["name"]: _port_format(man, p) for p in result_ports(man)}
        assert got == want, (unit.module_name, got)


@pytest.mark.parametrize("mode", ["fast", pytest.param("cocotb", marks=pytest.mark.slow)])
def test_quantize_sim_wide_ports(mode):
    """``macforge sim`` of a quantiser whose input (128 bits) and result (72 bits: y and
    scale) are wider than 64 bits, in both benches (cocotb: ~140 s on the loaded box, slow),
    corners and random blocks."""
    res, lines = simulate(format="bf16", unit="quantize", acc="mxint8", lanes=8, n=200,
                          mode=mode)
    assert res.mismatches == 0 and res.vectors == 206, "\n".join(lines)
    assert lines[-1].startswith("PASS quant_bf16_mxint8_x8_rne_s0: 206 vectors")


@pytest.mark.slow
@pytest.mark.parametrize("src,acc", [("fp32", "mxfp8"), ("bf16", "mxfp8"), ("fp32", "mxe5m2"),
                                     ("fp32", "mxfp6"), ("fp32", "mxfp4"), ("fp32", "mxint8")])
def test_quantize_sim_full_block(src, acc):
    """k = 32 (the MX block) through the fast bench: 20,000 random blocks plus the corners."""
    res, lines = simulate(format=src, unit="quantize", acc=acc, n=20000, mode="fast")
    assert res.mismatches == 0 and res.vectors == 20006, "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# NVFP4 / NVINT4 quantiser: the tensor scale as an input
# ---------------------------------------------------------------------------------------------
def _nv_blocks(fi, blk, k, n, rng):
    """The bench's NV stimulus (sim.stimulus): corner blocks, the scale-boundary blocks, ``n``
    random ones, and a tensor-scale code per block."""
    a = block_vectors(fi, k, n, rng)
    d = nv_boundary_blocks(fi, blk, k, rng)
    a = np.concatenate([a[:6], d, a[6:]])
    return a, nv_tensor_scales(fi, blk, a, 6, d.shape[0], rng)


def _ref_nv_given(name, x, t, mode):
    """(scale, element codes) of NV blocks (rows) with the given tensor scales ``t`` (one per
    row), from exact Fraction arithmetic (tests/test_golden_block.py's rules)."""
    Q, e4m3 = NV_Q[name], golden.parse("e4m3")
    scales, elems = [], []
    for row, tv in zip(x, t):
        blk = [float(v) for v in row]
        if not (all(math.isfinite(v) for v in blk) and math.isfinite(tv) and tv > 0):
            scales.append(0x7F)
            elems.append([0] * len(blk))
            continue
        amax = max(abs(Fraction(v)) for v in blk)
        tf = Fraction(float(tv))
        sc = R.round_val(e4m3, R.Val.num(amax / (Q * tf)), "rne", True)
        S = R.decode(e4m3, sc).mag
        scales.append(sc)
        elems.append([0] * len(blk) if S == 0 else [ref_element(name, v, S * tf, mode)
                                                    for v in blk])
    return np.array(scales), np.array(elems)


@pytest.mark.parametrize("name,src,mode", [("nvfp4", "fp32", "rne"), ("nvfp4", "bf16", "rtz"),
                                           ("nvint4", "fp16", "rna")])
def test_golden_given_tensor_scale_matches_reference(name, src, mode):
    """golden.quantize with a tensor scale per block (what the unit's port gives) against
    exact arithmetic, on the bench's own stimulus (boundaries, invalid tensor scales)."""
    rng = np.random.default_rng(SEED)
    fi, fp32 = golden.parse(src), golden.parse("fp32")
    a, tc = _nv_blocks(fi, golden.parse(name), 16, 300, rng)
    x, t = fi.decode(a), fp32.decode(tc)
    got = golden.quantize(x, name, rounding=mode, tensor_scale=t[:, None])
    want_s, want_e = _ref_nv_given(name, x, t, mode)
    assert np.array_equal(got.scales[:, 0], want_s)
    assert np.array_equal(got.elements, want_e)
    s = got.scales[:, 0]
    # the corners the stimulus promises: NaN, zero, subnormal and saturated scales
    assert (s == 0x7F).any() and (s == 0).any() and ((s > 0) & (s < 8)).any() \
        and (s == 0x7E).any()
    assert np.array_equal(golden.dequantize(got), golden.dequantize(golden.BlockTensor(
        got.fmt, got.elements, got.scales, t[:, None], got.shape)), equal_nan=True)


@pytest.mark.parametrize("name,src,k,rounding,n", [
    ("nvfp4", "fp32", 4, "rne", 40), ("nvfp4", "bf16", 3, "rup", 40),
    ("nvint4", "fp32", 2, "rtz", 30),
])
def test_nv_quantize_unit(name, src, k, rounding, n):
    """hw.Quantize into nv* in process against golden.quantize with the same tensor scales,
    on the corners, every e4m3 rounding boundary (exact ties and the source codes beside
    them) and random blocks."""
    rng = np.random.default_rng(SEED)
    fi, fb = golden.parse(src), golden.parse(name)
    unit = hw.make_unit("quantize", src, acc=name, lanes=k, rounding=rounding)
    a, tc = _nv_blocks(fi, fb, k, n, rng)
    nb = a.shape[0] - 6 - n                         # the boundary blocks: every 3rd max and
    rows = np.r_[0:6, 6:6 + nb:2, 6 + nb:a.shape[0]]  # its neighbours, in turn
    a, tc = a[rows], tc[rows]
    assert a.shape[0] > 200
    want_s = _check_quantize(unit, fi, fb, a, rounding, tc)
    assert {0, 0x7F} <= set(want_s.tolist())          # zero block, NaN block


def test_nv_quantize_sim_fast():
    """``macforge sim --unit quantize --acc nvfp4`` through the Verilator fast bench."""
    res, lines = simulate(format="fp32", unit="quantize", acc="nvfp4", lanes=4, n=2000,
                          mode="fast")
    assert res.mismatches == 0 and res.vectors == 2390, "\n".join(lines)


@pytest.mark.parametrize("stages,cuts", [(1, ["scaled"]), (2, ["scaled", "decoded"]),
                                         (3, ["scaled", "decoded", "normalised"])])
def test_nv_quantize_pipelined(stages, cuts):
    """The NV quantiser's first cut sits between the block scale and the element dividers
    (then the element quotients, normalise), latency = stages; pipelined through
    the Verilator fast bench, 0 mismatches."""
    unit = hw.make_unit("quantize", "fp32", acc="nvfp4", lanes=2, stages=stages)
    assert unit.latency == stages
    text, _ = hw.build.generate(unit)
    seen = [c for c in ("scaled", "decoded", "normalised")
            if re.search(rf"\breg\b.*\b{c}_q\d+\b", text)]
    assert seen == cuts
    res, lines = simulate(format="fp32", unit="quantize", acc="nvfp4", lanes=2, n=500,
                          stages=stages, mode="fast")
    assert res.mismatches == 0 and res.vectors == 890, "\n".join(lines)


@pytest.mark.slow
@pytest.mark.parametrize("src,acc", [("fp32", "nvfp4"), ("bf16", "nvfp4"), ("fp32", "nvint4")])
def test_nv_quantize_sim_full_block(src, acc):
    """k = 16 (the NV block) through the fast bench: 20,000 random blocks plus the corners."""
    res, lines = simulate(format=src, unit="quantize", acc=acc, n=20000, mode="fast")
    assert res.mismatches == 0 and res.vectors == 20390, "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# the dequantiser
# ---------------------------------------------------------------------------------------------
def _ref_dequantize(blk, out, a, s, t, mode):
    """Codes of ``out``: every element x scale (x the tensor scale) x 2^element_exp, exact
    (Fraction arithmetic), rounded once."""
    fp32 = golden.parse("fp32")
    rows = []
    for j in range(a.shape[0]):
        sv = R.decode(blk.scale, int(s[j]))
        if t is not None:
            sv = R.mul_val(sv, R.decode(fp32, int(t[j])))
        sv = R.mul_val(sv, R.Val.num(Fraction(2) ** blk.element_exp))
        rows.append([R.round_val(out, R.mul_val(R.decode(blk.element, int(c)), sv), mode)
                     for c in a[j]])
    return np.array(rows, np.uint64)


@pytest.mark.parametrize("name,out,mode", [("mxfp8", "fp32", "rne"), ("mxe5m2", "bf16", "rne"),
                                           ("mxint8", "bf16", "rtz"), ("mxfp4", "fp16", "rup"),
                                           ("nvfp4", "fp32", "rne"), ("nvint4", "bf16", "rna")])
def test_golden_dequantize_out_matches_reference(name, out, mode):
    """golden.dequantize(out=...) against exact arithmetic on the bench's stimulus: every
    (scale, element) pair, the fp32 corner tensor scales, random blocks."""
    blk, fo = golden.parse(name), golden.parse(out)
    stim, n_ex = dequantize_vectors(blk, 4, 200, np.random.default_rng(SEED))
    rows = np.r_[0:n_ex:7, n_ex:stim["a"].shape[0]]          # a seventh of the pairs, all random
    st = {k: v[rows] for k, v in stim.items()}
    man = hw.make_unit("dequantize", name, acc=out, lanes=4, rounding=mode).manifest()
    got = _lanes.words_to_ints(model.expected_outputs(man, st))
    want = _ref_dequantize(blk, fo, st["a"], st["scale"], st.get("tscale"), mode)
    want = [sum(int(c) << (fo.bits * i) for i, c in enumerate(r)) for r in want]
    assert len(want) > 300 and list(got) == want


@pytest.mark.parametrize("name,out,k,mode", [
    ("mxfp8", "fp32", 4, "rne"), ("mxint8", "bf16", 3, "rtz"), ("mxe5m2", "bf16", 4, "rdn"),
    ("nvfp4", "fp32", 4, "rne"), ("nvint4", "fp16", 2, "rna"),
])
def test_dequantize_unit(name, out, k, mode):
    """hw.Dequantize in process against golden.dequantize(out=...): a sample of every
    (scale, element) pair (all of them for the 4-bit formats) and random blocks."""
    blk = golden.parse(name)
    stim, n_ex = dequantize_vectors(blk, k, 200, np.random.default_rng(SEED))
    step = max(1, n_ex // 600)
    rows = np.r_[0:n_ex:step, n_ex:stim["a"].shape[0]]
    st = {key: v[rows] for key, v in stim.items()}
    unit = hw.make_unit("dequantize", name, acc=out, lanes=k, rounding=mode)
    got = _run_ports(unit, {p: st[p] for p in ("a", "scale", "tscale") if p in st}, ("y",))["y"]
    man = unit.manifest()
    want = _lanes.words_to_ints(model.expected_outputs(man, st))
    got_i = [sum(int(c) << (golden.parse(out).bits * i) for i, c in enumerate(r)) for r in got]
    bad = [j for j in range(len(want)) if got_i[j] != want[j]]
    assert len(want) > 300
    assert not bad, "\n".join(
        f"row {j}: a={[hex(int(c)) for c in st['a'][j]]} scale={int(st['scale'][j]):#x}"
        + (f" t={int(st['tscale'][j]):#x}" if "tscale" in st else "")
        + f" got {got_i[j]:#x} want {want[j]:#x}" for j in bad[:4])


@pytest.mark.parametrize("kw,msg", [
    (dict(fmt="e4m3", acc="fp32"), "unit 'dequantize' does not take e4m3fn sources; accepted "
                                   "for e4m3fn (minifloat format): mul (a x b -> result, .*"),
    (dict(fmt="nvfp4", acc="fp32", lanes=17), "lanes must be an integer 1..16 (the block), "
                                              "not 17"),
    (dict(fmt="mxfp8", acc="fp32", rounding="sr"), "unit 'dequantize' rounds with rne, rna, "
                                                   "rtz, rup or rdn (as golden.dequantize)"),
    (dict(fmt="mxfp8"), "unit 'dequantize' needs the element result format as acc "
                        "(e.g. acc=fp32)"),
    (dict(fmt="mxfp8", acc="fp32", align=3), "unit 'dequantize' takes fmt, acc, lanes, "
                                             "rounding and stages"),
])
def test_dequantize_errors(kw, msg):
    pattern = re.escape(msg).replace(re.escape(".*"), ".*")   # ".*": the unit list follows
    with pytest.raises(FormatError, match="^" + pattern + "$"):
        hw.make_unit("dequantize", **kw)


@pytest.mark.parametrize("fmt,lanes", [("mxfp4", 2), ("nvfp4", 4)])
def test_dequantize_sim_fast(fmt, lanes):
    """``macforge sim --unit dequantize`` through the Verilator fast bench: every (scale,
    element) pair (nv*: times each fp32 corner tensor scale) and random blocks; 2 fp32 lanes
    make a 64-bit result port (k codes in one word)."""
    res, lines = simulate(format=fmt, unit="dequantize", acc="fp32", lanes=lanes, n=1000,
                          mode="fast")
    assert res.mismatches == 0 and res.vectors > 1000, "\n".join(lines)
    assert lines[-1].startswith(f"PASS dequant_{fmt}_x{lanes}_fp32_rne_s0")


@pytest.mark.slow
@pytest.mark.parametrize("fmt,acc", [(f, "fp32") for f in ("mxfp8", "mxe5m2", "mxfp6", "mxe3m2",
                                                            "mxfp4", "mxint8", "nvfp4", "nvint4")]
                         + [("mxfp8", "bf16"), ("nvfp4", "bf16")])
def test_dequantize_sim_full_block(fmt, acc):
    """The whole block (32 MX lanes, 16 NV) through the fast bench: every (scale, element)
    pair and 20,000 random blocks."""
    res, lines = simulate(format=fmt, unit="dequantize", acc=acc, n=20000, mode="fast")
    assert res.mismatches == 0 and res.vectors > 20000, "\n".join(lines)


@pytest.mark.parametrize("fmt,ts,msg", [
    ("mxfp8", 1.0, "tensor_scale applies to the nv* formats (nvfp4, nvint4), not mxfp8"),
    ("nvfp4", 0.1, "tensor_scale must hold fp32 values (the scale's format)"),
    ("nvfp4", np.ones(3), "tensor_scale of shape (3,) does not broadcast to the block scales' "
                          "shape (2, 1)"),
])
def test_golden_tensor_scale_errors(fmt, ts, msg):
    with pytest.raises(FormatError, match="^" + re.escape(msg) + "$"):
        golden.quantize(np.ones((2, 16)), fmt, tensor_scale=ts)
