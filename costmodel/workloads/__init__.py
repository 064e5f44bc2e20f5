"""Workload graphs: what a network asks of a MAC unit, layer by layer.

A workload is a :class:`networkx.DiGraph`. Built-in graphs come from published configurations
(:func:`names`: ResNet-18, ResNet-50, MobileNetV2, BERT-base, all-MiniLM-L6-v2, Llama-2-7B
prefill/decode); :func:`from_onnx` imports a user's ONNX model and :func:`from_layers` a small
list of dense/conv layers. All counts are exact Python ints.

Schema (kept stable: the accuracy emulation and the cost/Pareto reports read it)
-------------------------------------------------------------------------------
Node key = ``name``. Every node has:

``op``
    one of ``matmul``, ``conv``, ``attn_score`` (Q Kᵀ), ``attn_value`` (P V), ``elementwise``
    (activations, residual adds, RoPE, and data movement such as transpose/concat), ``pool``
    (window pooling and reductions), ``norm``, ``softmax``, ``embedding`` (table lookup).
``name``
    the node key again (dotted, as in the framework: ``layer1.0.conv1``).
``shape``
    a dict. ``matmul``/``attn_score``/``attn_value``: ``B`` (independent products: batch x
    heads for attention, 1 for a linear layer, whose tokens are folded into M), ``M``, ``K``,
    ``N`` — B products of (M x K) by (K x N). ``conv``: ``N, C_in, H, W, C_out, kh, kw,
    stride, groups, H_out, W_out`` (plus ``pad``, ``dilation``). ``pool``: ``N, C, H, W, kh,
    kw, stride, H_out, W_out`` or ``rows, cols`` for reductions; ``norm``/``softmax``: ``rows,
    cols`` (groups normalised x elements per group; BatchNorm: rows = channels);
    ``elementwise``: ``elems``; ``embedding``: ``tokens, vocab, dim``.
``macs``
    multiply-accumulates; ``act_out_elems * K`` for matmul/conv/attn_score/attn_value and 0
    for every other op.
``K``
    the reduction length of each output (what a dot-product unit sees): the matmul's K,
    ``C_in / groups * kh * kw`` for a conv, the head dimension for ``attn_score``, the number
    of keys for ``attn_value``; 0 for ops without MACs.
``weight_elems``
    stored parameters the node reads (weights and biases; BatchNorm scale and shift; the whole
    embedding table). Attention has none: its operands are activations (and the KV cache).
``act_in_elems``, ``act_out_elems``
    activation elements read (every distinct input tensor, including graph inputs such as a
    KV cache) and written.

Optional node attributes: ``fn`` (``relu``, ``gelu``, ``add``, ``batchnorm``, ``max`` ...),
``bias`` (bool), ``inputs``/``outputs`` (tensor names), ``onnx_op`` (imported graphs).

Edges go from producer to consumer and carry ``tensor`` (name) and ``elems``.

Graph attributes: ``name``, ``source`` (citation of the configuration), ``published_macs``
(int, the published MAC count for these parameters, or None where none exists),
``published_note`` (what the figure is and where it is published, or why there is none),
``params`` (the builder's parameters), ``inputs``/``outputs`` ({tensor: elems}).

Examples
--------
>>> from macforge.costmodel import workloads
>>> g = workloads.get("resnet18")
>>> workloads.totals(g)["macs"], g.graph["published_macs"]
(1814073344, 1810000000)
>>> workloads.totals(workloads.get("bert-base", seq=128))["macs"]
11174215680
>>> g = workloads.get("llama2-7b", phase="decode", context=4096)
"""
from ._graph import MAC_OPS, OPS, WorkloadError, check, totals
from ._io import as_json, load
from ._layers import from_layers
from ._onnx import from_onnx
from ._registry import get, names, params, register, resolve

__all__ = ["get", "names", "params", "register", "resolve", "totals", "check", "from_layers",
           "from_onnx", "load", "as_json", "WorkloadError", "OPS", "MAC_OPS"]
