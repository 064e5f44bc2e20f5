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

sys.path.insert(0, str(Path(__file__).resolve().parent))
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


def _blocks(fi, k, n, rng):
    """Directed blocks, then random ones: N(0,1) times 2^U(-30, 30) per block, a share of
    exact zeros, and source corner codes in random lanes."""
    x = rng.standard_normal((n, k)) * np.exp2(rng.integers(-30, 30, (n, 1)))
    x[rng.random((n, k)) < 0.1] = 0.0
    a = fi.encode(x)
    corners = fi.corner_codes()
    pick = rng.random((n, k)) < 0.05
    a[pick] = rng.choice(corners, int(pick.sum()))
    directed = np.zeros((6, k), a.dtype)               # all zero (+0), then -0s
    directed[1] = fi.encode(np.full(k, -0.0))
    directed[2] = fi.encode(np.full(k, 2.0 ** -140)) if fi.min_subnormal < 2.0 ** -140 else \
        fi.encode(np.full(k, fi.min_subnormal))        # below e8m0's smallest scale's reach
    directed[3, 0] = fi.nan_code                       # a NaN lane
    directed[4] = fi.encode(np.linspace(-fi.max, fi.max, k))   # the largest magnitudes
    directed[5, k // 2] = fi.encode(np.array([-np.inf]))[0]
    return np.concatenate([directed, a])


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
    a = _blocks(fi, k, n, rng)
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
