"""``quantize``: the MX block quantiser (hw.Quantize) in process against golden.quantize (the
reference; itself checked against the OCP rules in tests/test_golden_block.py): scale and
every element code, including all-zero blocks, subnormal-only blocks, NaN/inf blocks and
blocks whose scale clamps at 2^-127."""
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from amaranth.sim import Simulator

from macforge import golden, hw
from macforge.golden import FormatError
from macforge.sim import _lanes, model
from macforge.sim.stimulus import block_vectors

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _simutil import simulate  # noqa: E402
from test_hw_units import assert_lint_clean, elaborated  # noqa: E402

SEED = 20261204


def _v(x):
    return x.as_value() if hasattr(x, "as_value") else x


def _run(unit, a):
    """(scale, elements) of every block of ``a`` (rows of lane codes), combinational."""
    k = a.shape[1]
    scales, elems = [], []

    async def bench(ctx):
        for row in a:
            for i in range(k):
                ctx.set(_v(unit.a[i]), int(row[i]))
            scales.append(ctx.get(unit.scale))
            elems.append([ctx.get(_v(unit.y[i])) for i in range(k)])
    sim = Simulator(unit)
    sim.add_testbench(bench)
    sim.run()
    return np.array(scales, np.uint64), np.array(elems, np.uint64)


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
    scales, elems = _run(unit, a)
    ref = golden.quantize(fi.decode(a), fb, rounding=rounding)   # padded to 32 by golden
    want_s = ref.scales[:, 0].astype(np.uint64)
    want_e = ref.elements[:, :k].astype(np.uint64)
    bad = np.flatnonzero((scales != want_s) | (elems != want_e).any(axis=1))
    assert a.shape[0] > 0
    assert not bad.size, "\n".join(
        f"block {j}: a={[hex(int(c)) for c in a[j]]} scale {int(scales[j]):#x} "
        f"(golden {int(want_s[j]):#x}) elements {[hex(int(c)) for c in elems[j]]} "
        f"(golden {[hex(int(c)) for c in want_e[j]]})" for j in bad[:4])
    assert {int(want_s[0]), int(want_s[3])} == {0, 0xFF}      # zero block, NaN block


def test_quantize_verilog_lint_and_manifest(tmp_path):
    text = assert_lint_clean(lambda: hw.make_unit("quantize", "bf16", acc="mxfp8", lanes=4,
                                                  stages=2), tmp_path)
    assert "unit quantize" in text.splitlines()[3]
    m = elaborated(hw.make_unit("quantize", "fp32", acc="mxfp4", lanes=4)).manifest()
    assert m["module"] == "quant_fp32_mxfp4_x4_rne_s0" and m["latency"] == 0
    assert [(p["name"], p["width"], p["role"]) for p in m["ports"]] == [
        ("a", 128, "operand"), ("y", 16, "result"), ("scale", 8, "scale")]


@pytest.mark.parametrize("kw,msg", [
    (dict(fmt="fp32", acc="nvfp4"), "unit 'quantize' produces an MX block format (mxfp8, "
                                    "mxe5m2, mxfp6, mxe3m2, mxfp4, mxint8), not nvfp4"),
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
