"""Workload graphs: MAC totals against published figures, exact parameter counts, the schema,
ONNX import and the `macforge workload` command.

Every figure below is typed from its source (cited next to it), never taken from the module
under test; where no figure is published the check is closed-form arithmetic written here.
"""
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from macforge.costmodel import workloads as W
from macforge.costmodel.workloads import WorkloadError
from macforge.cli import main

# -- published figures ------------------------------------------------------------------------
# torchvision model pages (https://pytorch.org/vision/stable/models/generated/...): "GFLOPS"
# (multiply-accumulates of conv + linear layers) and num_params.
TV_RESNET18 = (1.81e9, 11_689_512)
TV_RESNET50 = (4.09e9, 25_557_032)          # ResNet V1.5, as the torchvision page notes
TV_MOBILENET_V2 = (0.30e9, 3_504_872)
HE_RESNET18_FLOPS = 1.8e9                   # He et al., CVPR 2016, Table 1 (multiply-adds)
SANDLER_MBV2_MADDS = 300e6                  # Sandler et al., CVPR 2018, Table 4: 300M, 3.4M params
TINYBERT_BERT_BASE_FLOPS = 22.5e9           # Jiao et al., TinyBERT, Findings of EMNLP 2020,
TINYBERT_BERT_BASE_PARAMS = 109e6           # Table 1 (GLUE, 128 tokens); FLOPs = 2 x MACs
HF_BERT_BASE_UNCASED_PARAMS = 109_482_240   # bert-base-uncased, BertModel incl. pooler
HF_MINILM_L6_V2_PARAMS = 22_713_216         # sentence-transformers/all-MiniLM-L6-v2, BertModel
HF_LLAMA2_7B_PARAMS = 6_738_415_616         # meta-llama/Llama-2-7b-hf ("6.74B params")
# Published configurations (Hugging Face config.json of each checkpoint).
MINILM = dict(L=6, d=384, h=12, f=1536, vocab=30522)
BERT = dict(L=12, d=768, h=12, f=3072, vocab=30522)
LLAMA = dict(L=32, d=4096, h=32, f=11008, vocab=32000)


def rel(ours, theirs):
    return abs(ours / theirs - 1)


@pytest.mark.parametrize("name,published,label", [
    ("resnet18", TV_RESNET18[0], "torchvision resnet18 GFLOPS 1.81"),
    ("resnet18", HE_RESNET18_FLOPS, "He et al. Table 1: 1.8e9"),
    ("resnet50", TV_RESNET50[0], "torchvision resnet50 (V1.5) GFLOPS 4.09"),
    ("mobilenetv2", SANDLER_MBV2_MADDS, "Sandler et al. Table 4: 300M MAdds"),
    ("mobilenetv2", TV_MOBILENET_V2[0], "torchvision mobilenet_v2 GFLOPS 0.30"),
    ("bert-base", TINYBERT_BERT_BASE_FLOPS / 2, "TinyBERT Table 1: BERT-base 22.5B FLOPs"),
])
def test_macs_within_1_percent_of_published(name, published, label):
    g = W.get(name)
    macs = W.totals(g)["macs"]
    assert rel(macs, published) < 0.01, f"{name}: {macs:,} vs {label}"


@pytest.mark.parametrize("name,published", [
    ("resnet18", TV_RESNET18[0]), ("resnet50", TV_RESNET50[0]),
    ("mobilenetv2", SANDLER_MBV2_MADDS), ("bert-base", TINYBERT_BERT_BASE_FLOPS / 2)])
def test_graph_carries_the_published_figure(name, published):
    g = W.get(name)
    assert g.graph["published_macs"] == published
    assert g.graph["published_note"] and g.graph["source"]
    # other parameters than the published configuration: no figure claimed
    other = {"bert-base": {"seq": 64}}.get(name, {"resolution": 192})
    assert W.get(name, **other).graph["published_macs"] is None


@pytest.mark.parametrize("name,params", [
    ("resnet18", TV_RESNET18[1]), ("resnet50", TV_RESNET50[1]),
    ("mobilenetv2", TV_MOBILENET_V2[1]), ("bert-base", HF_BERT_BASE_UNCASED_PARAMS),
    # sentence-transformers pools by the mean: the checkpoint's BERT pooler (d x d + d) is unused
    ("minilm", HF_MINILM_L6_V2_PARAMS - (384 * 384 + 384)),
    ("llama2-7b", HF_LLAMA2_7B_PARAMS),
])
def test_weight_elements_equal_published_parameter_count(name, params):
    assert W.totals(W.get(name))["weight_elems"] == params


def test_bert_params_round_to_tinybert_table():
    assert round(W.totals(W.get("bert-base"))["weight_elems"] / 1e6) == TINYBERT_BERT_BASE_PARAMS / 1e6


def _encoder_macs(c, S):
    """Closed form of one BERT-style encoder pass: Q, K, V, output projections (4 S d²), the
    FFN (2 S d f), scores and context (2 S² d)."""
    d, f = c["d"], c["f"]
    return c["L"] * (4 * S * d * d + 2 * S * d * f + 2 * S * S * d)


@pytest.mark.parametrize("seq", [1, 16, 128, 256])
def test_minilm_macs_closed_form(seq):
    # No published MAC figure exists for all-MiniLM-L6-v2: closed-form arithmetic instead.
    g = W.get("minilm", seq=seq)
    assert W.totals(g)["macs"] == _encoder_macs(MINILM, seq)
    sc = [d for _, d in g.nodes(data=True) if d["op"] == "attn_score"]
    assert len(sc) == 6 and all(d["shape"] == {"B": 12, "M": seq, "K": 32, "N": seq} for d in sc)


def test_bert_macs_closed_form_and_batch():
    one = W.totals(W.get("bert-base", seq=384))["macs"]
    assert one == _encoder_macs(BERT, 384) + 768 * 768            # + the pooler on [CLS]
    assert W.totals(W.get("bert-base", seq=384, batch=3))["macs"] == 3 * one


def _llama_weight_macs_per_token():
    """Kaplan et al. 2020: C_forward ~ 2N with N the non-embedding parameters. N = published
    total minus the embedding table (vocab x d) minus the RMSNorm gains (2 per layer + final),
    which multiply but are not matmul weights."""
    c = LLAMA
    return HF_LLAMA2_7B_PARAMS - c["vocab"] * c["d"] - (2 * c["L"] + 1) * c["d"]


def _by_op_macs(g, *ops):
    return sum(d["macs"] for _, d in g.nodes(data=True) if d["op"] in ops)


@pytest.mark.parametrize("context", [1, 2048, 4096])
def test_llama_decode_macs(context):
    g = W.get("llama2-7b", phase="decode", context=context)
    weight_macs = _by_op_macs(g, "matmul")
    assert weight_macs == _llama_weight_macs_per_token()
    # 2N rule with N = non-embedding parameters (published total minus the vocab x d table):
    assert rel(weight_macs, HF_LLAMA2_7B_PARAMS - LLAMA["vocab"] * LLAMA["d"]) < 0.01
    # Hoffmann et al. 2022 App. F: logits and reduction each seq x keys x (key_size x heads);
    # for one query against `context` keys, per layer: 2 x context x d MACs.
    assert _by_op_macs(g, "attn_score", "attn_value") == 2 * LLAMA["L"] * context * LLAMA["d"]
    s = g.nodes["layers.0.self_attn.scores"]
    assert s["shape"] == {"B": 32, "M": 1, "K": 128, "N": context} and s["K"] == 128
    assert g.nodes["layers.0.self_attn.context"]["K"] == context
    # the score reads q, the new key and the (context - 1) cached keys
    assert s["act_in_elems"] == 4096 * (context + 1)


def test_llama_decode_weights_near_the_2_params_rule_of_thumb():
    # The "6.7 G MACs per token" rule of thumb (2 x all parameters FLOPs) also counts the input
    # embedding table, a lookup with no MACs: 1.9 % above the matmul weights.
    per_token = _by_op_macs(W.get("llama2-7b"), "matmul")
    assert 0.015 < HF_LLAMA2_7B_PARAMS / per_token - 1 < 0.025


@pytest.mark.parametrize("P,logits", [(128, "last"), (512, "all")])
def test_llama_prefill_macs(P, logits):
    c = LLAMA
    g = W.get("llama2-7b", phase="prefill", tokens=P, logits=logits)
    per_layer = 4 * c["d"] ** 2 + 3 * c["d"] * c["f"]               # q, k, v, o + SwiGLU
    head = (P if logits == "all" else 1) * c["d"] * c["vocab"]
    attn = 2 * c["L"] * P * P * c["d"]                              # whole P x P scores
    assert W.totals(g)["macs"] == P * c["L"] * per_layer + head + attn


def test_cnn_layer_details():
    r50 = W.get("resnet50")
    # V1.5: the stride sits on the 3x3 conv of the first bottleneck of a stage
    assert r50.nodes["layer2.0.conv2"]["shape"]["stride"] == 2
    assert r50.nodes["layer2.0.conv1"]["shape"]["stride"] == 1
    mb = W.get("mobilenetv2")
    dw = mb.nodes["features.2.dw"]
    assert dw["K"] == 9 and dw["shape"]["groups"] == 96 and dw["shape"]["H_out"] == 56
    assert mb.nodes["classifier"]["shape"] == {"B": 1, "M": 1, "K": 1280, "N": 1000}
    r18 = W.get("resnet18", batch=2)
    assert W.totals(r18)["macs"] == 2 * W.totals(W.get("resnet18"))["macs"]


ALL = [(n, {}) for n in ("resnet18", "resnet50", "mobilenetv2", "bert-base", "minilm")] + [
    ("llama2-7b", {"phase": "decode", "context": 300}),
    ("llama2-7b", {"phase": "prefill", "tokens": 64})]


@pytest.mark.parametrize("name,params", ALL)
def test_schema_invariants(name, params):
    g = W.get(name, **params)
    assert W.check(g) == g.number_of_nodes() > 0
    for key in ("name", "source", "published_macs", "published_note", "params", "inputs"):
        assert key in g.graph
    order = {n: i for i, n in enumerate(g.nodes)}
    for n, d in g.nodes(data=True):
        assert d["op"] in W.OPS and d["name"] == n
        for k in ("macs", "K", "weight_elems", "act_in_elems", "act_out_elems"):
            assert type(d[k]) is int and d[k] >= 0
        if d["op"] in W.MAC_OPS:
            assert d["K"] > 0 and d["macs"] == d["act_out_elems"] * d["K"]
        else:
            assert d["macs"] == 0 == d["K"]
        # what a node reads: its in-edges plus graph inputs
        from_edges = sum(e["elems"] for _, _, e in g.in_edges(n, data=True))
        from_inputs = sum(g.graph["inputs"].get(t, 0) for t in d["inputs"])
        assert d["act_in_elems"] == from_edges + from_inputs
    for u, v, e in g.edges(data=True):
        assert order[u] < order[v]                      # nodes are listed in topological order
        assert e["elems"] == g.nodes[u]["act_out_elems"] and e["tensor"] in g.nodes[u]["outputs"]
    t = W.totals(g)
    assert t["macs"] == sum(c["macs"] for c in t["by_op"].values())
    assert t["act_elems"] == sum(g.graph["inputs"].values()) + sum(
        d["act_out_elems"] for _, d in g.nodes(data=True))


def test_check_rejects_a_broken_graph():
    g = W.get("resnet18")
    g.nodes["conv1"]["macs"] += 1
    with pytest.raises(WorkloadError, match=r"^node 'conv1': K 147, macs 118013953, act_out_elems "
                                            r"802816 disagree with shape"):
        W.check(g)
    g = W.get("resnet18")
    g.nodes["conv1.relu"]["K"] = 3
    with pytest.raises(WorkloadError, match=r"^node 'conv1.relu': a elementwise node has no MACs"):
        W.check(g)


def test_names_aliases_and_parameter_errors():
    assert W.names()[:6] == ["resnet18", "resnet50", "mobilenetv2", "bert-base", "minilm",
                             "llama2-7b"]
    assert W.get("ResNet-18").graph["name"] == "resnet18"
    assert W.get("all-MiniLM-L6-v2").graph["name"] == "minilm"
    assert W.get("bert-base", seq="64").graph["params"]["seq"] == 64      # CLI strings convert
    for call, msg in [
        (lambda: W.get("resnet19"), r"^unknown workload 'resnet19'; known: resnet18, resnet50, "
                                    r"mobilenetv2, bert-base, minilm, llama2-7b"),
        (lambda: W.get("bert-base", sq=3), r"^unknown parameter 'sq' for bert-base; accepted: "
                                           r"seq=128, batch=1$"),
        (lambda: W.get("llama2-7b", phase="train"), r"^phase must be prefill or decode, not 'train'$"),
        (lambda: W.get("minilm", seq=0), r"^seq must be an integer >= 1, not 0$"),
    ]:
        with pytest.raises(WorkloadError, match=msg):
            call()


# -- user models: layer lists and ONNX ---------------------------------------------------------
DIGITS_CNN = [{"type": "conv", "out": 4, "kernel": 3, "act": "relu", "name": "conv"},
              {"type": "flatten"},
              {"type": "dense", "out": 10, "name": "fc"}]


def test_from_layers_counts():
    g = W.from_layers("digits-cnn", DIGITS_CNN, (1, 8, 8))
    t = W.totals(g)
    assert t["macs"] == 4 * 8 * 8 * 9 + 256 * 10
    assert t["weight_elems"] == 4 * 9 + 4 + 256 * 10 + 10
    assert W.check(g) == 3
    mlp = W.from_layers("mlp", [{"type": "dense", "out": 32, "act": "relu"},
                                {"type": "dense", "out": 10, "bias": False}], 64, batch=5)
    assert W.totals(mlp)["macs"] == 5 * (64 * 32 + 32 * 10)
    assert W.totals(mlp)["weight_elems"] == 64 * 32 + 32 + 32 * 10
    with pytest.raises(WorkloadError, match=r"^layer 0: type must be one of dense, conv, pool, "):
        W.from_layers("x", [{"type": "lstm"}], 8)
    with pytest.raises(WorkloadError, match=r"^layer 0 \(dense\): unknown key 'units'; accepted: "
                                            r"name, out, bias, act$"):
        W.from_layers("x", [{"type": "dense", "units": 3}], 8)


def _onnx_conv_gemm(path, batch="batch"):
    """conv(1->4, 3x3, pad 1) + relu + flatten + gemm(256 -> 10), as DIGITS_CNN."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 1, 3, 3)).astype(np.float32), "w1"),
             numpy_helper.from_array(np.zeros(4, np.float32), "b1"),
             numpy_helper.from_array(rng.standard_normal((10, 256)).astype(np.float32), "w2"),
             numpy_helper.from_array(np.zeros(10, np.float32), "b2")]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Flatten", ["r"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], name="fc", transB=1)]
    graph = helper.make_graph(nodes, "digits-cnn", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [batch, 1, 8, 8])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [batch, 10])], inits)
    import onnx
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_onnx_conv_relu_gemm_matches_layer_list(tmp_path):
    p = _onnx_conv_gemm(str(tmp_path / "cnn.onnx"))
    g = W.from_onnx(p, dims={"batch": 1})
    assert W.check(g) == 3                                   # Flatten is a view, no node
    assert [(d["op"], d["onnx_op"]) for _, d in g.nodes(data=True)] == [
        ("conv", "Conv"), ("elementwise", "Relu"), ("matmul", "Gemm")]
    ref = W.totals(W.from_layers("ref", DIGITS_CNN, (1, 8, 8)))
    t = W.totals(g)
    assert (t["macs"], t["weight_elems"]) == (ref["macs"], ref["weight_elems"]) == (4864, 2610)
    assert g.has_edge("relu", "fc") and g.edges["relu", "fc"]["tensor"] == "f"
    assert W.totals(W.from_onnx(p, dims={"batch": 3}))["macs"] == 3 * 4864
    with pytest.raises(WorkloadError, match=r"input 'x' has symbolic dimension 'batch'; give its "
                                            r"size, e.g. --param batch=1$"):
        W.from_onnx(p)
    with pytest.raises(WorkloadError, match=r"the model has no symbolic dimension 'seq'; its "
                                            r"symbolic dimensions: batch$"):
        W.from_onnx(p, dims={"batch": 1, "seq": 2})


def _onnx_attention(path, S=16, d=32, h=4):
    """One self-attention block with a residual and LayerNorm, batched MatMuls over heads."""
    from onnx import TensorProto, helper, numpy_helper
    import onnx
    rng = np.random.default_rng(1)
    dh = d // h
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)   # noqa: E731
    inits = [numpy_helper.from_array(f32(d, d), n) for n in ("wq", "wk", "wv", "wo_t")] + [
        numpy_helper.from_array(np.array([1, S, h, dh], np.int64), "heads"),
        numpy_helper.from_array(np.array([1, S, d], np.int64), "merged"),
        numpy_helper.from_array(np.array(np.sqrt(dh), np.float32), "scale"),
        numpy_helper.from_array(np.ones(d, np.float32), "gamma"),
        numpy_helper.from_array(np.zeros(d, np.float32), "beta")]
    N = helper.make_node
    nodes = [N("Transpose", ["wo_t"], ["wo"]),         # a stored (out, in) weight, folded
             N("MatMul", ["x", "wq"], ["q"], name="q_proj"),
             N("MatMul", ["x", "wk"], ["k"], name="k_proj"),
             N("MatMul", ["x", "wv"], ["v"], name="v_proj"),
             N("Reshape", ["q", "heads"], ["q4"]), N("Transpose", ["q4"], ["qh"], perm=[0, 2, 1, 3]),
             N("Reshape", ["k", "heads"], ["k4"]), N("Transpose", ["k4"], ["kt"], perm=[0, 2, 3, 1]),
             N("Reshape", ["v", "heads"], ["v4"]), N("Transpose", ["v4"], ["vh"], perm=[0, 2, 1, 3]),
             N("MatMul", ["qh", "kt"], ["s"], name="scores"),
             N("Div", ["s", "scale"], ["ss"], name="scale"),
             N("Softmax", ["ss"], ["p"], name="softmax", axis=-1),
             N("MatMul", ["p", "vh"], ["c"], name="context"),
             N("Transpose", ["c"], ["ct"], perm=[0, 2, 1, 3]),
             N("Reshape", ["ct", "merged"], ["cm"]),
             N("MatMul", ["cm", "wo"], ["o"], name="o_proj"),
             N("Add", ["o", "x"], ["r"], name="residual"),
             N("LayerNormalization", ["r", "gamma", "beta"], ["y"], name="ln", axis=-1)]
    graph = helper.make_graph(nodes, "attention", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, S, d])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, S, d])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_onnx_attention_block(tmp_path):
    S, d, h = 16, 32, 4
    g = W.from_onnx(_onnx_attention(str(tmp_path / "attn.onnx"), S, d, h))
    W.check(g)
    ops = {n: d_["op"] for n, d_ in g.nodes(data=True)}
    assert [n for n, o in ops.items() if o == "matmul"] == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert ops["scores"] == "attn_score" and ops["context"] == "attn_value"
    assert ops["softmax"] == "softmax" and ops["ln"] == "norm"
    assert g.nodes["scores"]["shape"] == {"B": h, "M": S, "K": d // h, "N": S}
    assert g.nodes["context"]["shape"] == {"B": h, "M": S, "K": S, "N": d // h}
    assert g.nodes["q_proj"]["shape"] == {"B": 1, "M": S, "K": d, "N": d}
    t = W.totals(g)
    assert t["macs"] == 4 * S * d * d + 2 * S * S * d
    assert t["weight_elems"] == 4 * d * d + 2 * d + 1        # + the stored scalar scale
    assert g.nodes["scores"]["weight_elems"] == 0 and g.nodes["o_proj"]["weight_elems"] == d * d


def test_onnx_unsupported_operator_is_one_line(tmp_path):
    from onnx import TensorProto, helper
    import onnx
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"], name="act"),
         helper.make_node("LRN", ["r"], ["y"], name="lrn1", size=3)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])])
    p = tmp_path / "lrn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(p))
    with pytest.raises(WorkloadError) as exc:
        W.from_onnx(p)
    msg = str(exc.value)
    assert re.match(r"^unsupported ONNX operator LRN \(node 'lrn1' in lrn\.onnx\); supported: "
                    r"Abs, Add, .*Conv, .*Gemm, .*MatMul, .*Softmax, .*Transpose.*$", msg)
    assert "\n" not in msg
    bad = tmp_path / "junk.onnx"
    bad.write_bytes(b"\x00not a model")
    with pytest.raises(WorkloadError, match=r"junk\.onnx is not a readable ONNX model"):
        W.from_onnx(bad)


# -- the command line ---------------------------------------------------------------------------
def test_cli_show_table_and_json(capsys):
    assert main(["workload", "show", "resnet18"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  conv1 +conv +3x224x224 -> 64x112x112 k7 s2 +147 +118M ", out, re.M)
    assert re.search(r"^  total: 1,814,073,344 MACs \(1\.814G\); published 1\.81G \(\+0\.23 %\)",
                     out, re.M)
    assert "weights 11,689,512 (11.1 MiB at 8 bits)" in out
    assert main(["workload", "show", "minilm", "--param", "seq=64", "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["params"] == {"seq": 64, "batch": 1}
    assert js["totals"]["macs"] == _encoder_macs(MINILM, 64) == sum(n["macs"] for n in js["nodes"])
    assert js["published_macs"] is None and len(js["edges"]) > len(js["nodes"]) - 5
    assert main(["workload", "list"]) == 0
    assert re.search(r"^llama2-7b +phase=decode, tokens=512, context=4096", capsys.readouterr().out,
                     re.M)


def test_cli_onnx_with_dims(tmp_path, capsys):
    p = _onnx_conv_gemm(str(tmp_path / "cnn.onnx"))
    assert main(["workload", "show", p, "--param", "batch=2", "--summary"]) == 0
    out = capsys.readouterr().out
    assert "total: 9,728 MACs" in out and "conv " in out


def run_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "macforge", *args], capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def test_cli_errors_are_one_line(tmp_path):
    p = _onnx_conv_gemm(str(tmp_path / "cnn.onnx"))
    cases = [
        (["workload", "show", "resnet19"], r"^macforge: error: unknown workload 'resnet19'; known: "
                                           r"resnet18, resnet50, mobilenetv2, bert-base, minilm, "
                                           r"llama2-7b \(or a path to an \.onnx file\)$"),
        (["workload", "show", "bert-base", "--param", "seq"],
         r"^macforge: error: --param must be NAME=VALUE, not 'seq'$"),
        (["workload", "show", p], r"^macforge: error: .*cnn\.onnx: input 'x' has symbolic "
                                  r"dimension 'batch'; give its size, e.g. --param batch=1$"),
    ]
    for args, pattern in cases:
        code, out, err = run_cli(*args)
        assert code == 2 and "Traceback" not in err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and re.match(pattern, lines[0]), err


def test_from_layers_explicit_shapes():
    g = W.from_layers("mlp", [
        {"op": "matmul", "M": 1, "K": 64, "N": 32, "act": "relu", "name": "fc0"},
        {"op": "matmul", "M": 1, "K": 32, "N": 10, "name": "fc1"}])
    assert [n for n in g.nodes] == ["fc0", "fc0.relu", "fc1"] and W.check(g) == 3
    assert g.has_edge("fc0.relu", "fc1") and g.graph["inputs"] == {"input": 64}
    t = W.totals(g)
    assert (t["macs"], t["weight_elems"]) == (64 * 32 + 32 * 10, 64 * 32 + 32 + 32 * 10 + 10)
    conv = W.from_layers("c", [{"op": "conv", "N": 1, "C_in": 1, "H": 8, "W": 8, "C_out": 4,
                                "kh": 3, "pad": 1},
                               {"op": "matmul", "M": 1, "K": 256, "N": 10}])
    ref = W.totals(W.from_layers("ref", DIGITS_CNN, (1, 8, 8)))
    assert W.totals(conv)["macs"] == ref["macs"] and W.totals(conv)["weight_elems"] == ref["weight_elems"]
    with pytest.raises(WorkloadError, match=r"^layer 1 \(matmul\) reads 20 elements, the previous "
                                            r"layer gives 32$"):
        W.from_layers("x", [{"op": "matmul", "M": 1, "K": 64, "N": 32},
                            {"op": "matmul", "M": 1, "K": 20, "N": 10}])
    with pytest.raises(WorkloadError, match=r"^layer 0 \(matmul\): missing N$"):
        W.from_layers("x", [{"op": "matmul", "M": 1, "K": 64}])
