"""A user's ONNX model with weights runs through `macforge pareto --inputs`: its fp32 path is
ReferenceEvaluator's own run, its emulated int8 path is scored and priced end to end."""
import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("zigzag")

N = 48                      # samples


def _model(path):
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(7)
    w_conv = rng.normal(0, 0.4, (4, 2, 3, 3)).astype(np.float32)
    b_conv = rng.normal(0, 0.1, 4).astype(np.float32)
    w_fc = rng.normal(0, 0.2, (4 * 5 * 5, 10)).astype(np.float32)
    b_fc = rng.normal(0, 0.1, 10).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w_conv", "b_conv"], ["c"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 0, 1, 0], strides=[1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "w_fc", "b_fc"], ["y"], name="fc"),
    ]
    g = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2, 5, 7])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10])],
        [numpy_helper.from_array(a, n) for a, n in ((w_conv, "w_conv"), (b_conv, "b_conv"),
                                                     (w_fc, "w_fc"), (b_fc, "b_fc"))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(m)
    onnx.save(m, path)
    x = rng.normal(0, 1, (N, 2, 5, 7)).astype(np.float32)
    return x


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from onnx.reference import ReferenceEvaluator
    d = tmp_path_factory.mktemp("onnx")
    x = _model(str(d / "tiny.onnx"))
    np.savez(d / "x.npz", x=x)
    y = ReferenceEvaluator(str(d / "tiny.onnx")).run(None, {"x": x})[0]
    labels = np.argmax(y, axis=1)
    labels[: N // 4] = (labels[: N // 4] + 1) % 10          # 75 % is what fp32 can score
    np.save(d / "y.npy", labels.astype(np.int64))
    return d


def test_fp32_path_is_reference_evaluator(files):
    from macforge.costmodel.accuracy.onnxmodel import OnnxModel
    from macforge.costmodel.accuracy.run import FloatMatmul
    m = OnnxModel(str(files / "tiny.onnx"), str(files / "x.npz"), str(files / "y.npy"))
    assert m.layer_names == ("conv", "fc")
    ours = m.forward(m.test_inputs(), FloatMatmul())
    theirs = m.reference_evaluator_output()
    assert ours.shape == theirs.shape == (N, 10)
    # the same float32 products; the convolution sums in another order (im2col + BLAS)
    np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=2e-6)
    assert m.score(m.reference)["top1"] == 75.0


def test_pareto_inputs_end_to_end(files, tmp_path):
    from macforge.cli import main
    out = tmp_path / "rep"
    rc = main(["pareto", "--workload", str(files / "tiny.onnx"), "--inputs",
               str(files / "x.npz"), "--labels", str(files / "y.npy"), "--formats",
               "int8,int4", "--arch", "tpu_like", "-o", str(out)])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    assert res["params"]["metric"] == "top1"
    assert res["params"]["float_reference"]["top1"] == 75.0
    rows = {r["format"]: r for r in res["rows"]}
    assert set(rows) == {"int8", "int4"}
    for r in rows.values():
        lo, hi = r["ci"]
        assert 0 <= lo <= r["top1"] <= hi <= 100
        assert 0.0 <= r["rel_error"] < 1.0 and r["cosine_mean"] > 0.5
        assert sum(r["energy_breakdown_nj"].values()) == pytest.approx(r["energy_nj"])
        assert [L["name"] for L in r["layers"]] == ["conv", "fc"]
        assert r["activity"] == "real operands"
    assert rows["int8"]["rel_error"] < rows["int4"]["rel_error"]


def test_inputs_need_an_onnx_file(capsys):
    from macforge.cli import main
    assert main(["pareto", "--workload", "resnet18", "--inputs", __file__]) == 2
    err = capsys.readouterr().err
    assert err == ("macforge: error: --inputs/--labels apply to an ONNX model file with "
                   "weights, not 'resnet18'\n")
