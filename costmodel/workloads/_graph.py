"""The workload graph: one builder that every source (published models, ONNX, layer lists) uses.

A workload is a :class:`networkx.DiGraph` whose nodes are operations and whose edges carry the
tensors between them; the schema is in the package docstring (:mod:`costmodel.workloads`) and
:func:`check` enforces it. Every count is an exact Python int.
"""
from __future__ import annotations

from collections import Counter

from macforge.errors import MacforgeError

__all__ = ["OPS", "MAC_OPS", "WorkloadError", "Builder", "totals", "check", "conv_out"]

OPS = ("matmul", "conv", "attn_score", "attn_value", "elementwise", "pool", "norm", "softmax",
       "embedding")
# Operations a dot-product unit executes: macs == act_out_elems * K for them, 0 for the rest.
MAC_OPS = ("matmul", "conv", "attn_score", "attn_value")


class WorkloadError(MacforgeError, ValueError):
    """Bad workload input (unknown name or parameter, unsupported ONNX operator): one line."""


def conv_out(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int,
             dilation: int = 1) -> int:
    """Output length of a convolution/pooling window along one axis (floor mode)."""
    return (size + pad_begin + pad_end - dilation * (kernel - 1) - 1) // stride + 1


class Builder:
    """Adds schema-conforming nodes to a new graph; each op method returns its output tensor.

    Tensors are named; a node's output tensor is named after the node unless ``out`` is given.
    Graph inputs (images, token ids, KV caches) are declared with :meth:`input`; an edge is
    added from the producer of every consumed tensor, carrying ``tensor`` and ``elems``.
    """

    def __init__(self, name: str, source: str, *, published_macs: int | None = None,
                 published_note: str = "", params: dict | None = None):
        import networkx as nx
        self.g = nx.DiGraph(name=name, source=source, published_macs=published_macs,
                            published_note=published_note, params=dict(params or {}),
                            inputs={}, outputs={})
        self._tensors: dict[str, tuple[str | None, int]] = {}    # tensor -> (producer, elems)

    # -- tensors ---------------------------------------------------------------------------
    def input(self, tensor: str, elems: int) -> str:
        self.g.graph["inputs"][tensor] = int(elems)
        self._tensors[tensor] = (None, int(elems))
        return tensor

    def alias(self, tensor: str, of: str) -> str:
        """A view of another tensor (reshape, flatten): no node, same producer and size."""
        self._tensors[tensor] = self._tensors[of]
        return tensor

    def elems(self, tensor: str) -> int:
        return self._tensors[tensor][1]

    def has(self, tensor: str) -> bool:
        return tensor in self._tensors

    def output(self, *tensors: str) -> None:
        for t in tensors:
            self.g.graph["outputs"][t] = self.elems(t)

    def finish(self):
        if not self.g.graph["outputs"]:           # default: tensors nobody consumes
            for n in self.g.nodes:
                if self.g.out_degree(n) == 0:
                    for t in self.g.nodes[n]["outputs"]:
                        self.g.graph["outputs"][t] = self.elems(t)
        return self.g

    # -- the one place a node is made --------------------------------------------------------
    def node(self, name: str, op: str, inputs, *, out_elems: int, K: int = 0, shape: dict,
             weight_elems: int = 0, out=None, **extra) -> str:
        if op not in OPS:
            raise ValueError(f"op must be one of {', '.join(OPS)}, not {op!r}")
        if name in self.g:
            raise ValueError(f"node name {name!r} is used twice")
        outs = [out or name] if not isinstance(out, (list, tuple)) else list(out)
        out_sizes = [int(out_elems)] if len(outs) == 1 else [int(e) for e in extra.pop("out_sizes")]
        inputs = seen_order(inputs)
        act_in = sum(self.elems(t) for t in inputs)
        macs = int(out_elems) * int(K) if op in MAC_OPS else 0
        self.g.add_node(name, name=name, op=op, shape=dict(shape), K=int(K) if op in MAC_OPS else 0,
                        macs=macs, weight_elems=int(weight_elems), act_in_elems=int(act_in),
                        act_out_elems=int(sum(out_sizes)), inputs=inputs,
                        outputs=outs, **extra)
        for t in inputs:
            producer, elems = self._tensors[t]
            if producer is None:
                continue
            if self.g.has_edge(producer, name):          # a second tensor from the same node
                e = self.g.edges[producer, name]
                e["tensor"] += "," + t
                e["elems"] += elems
            else:
                self.g.add_edge(producer, name, tensor=t, elems=elems)
        for t, e in zip(outs, out_sizes):
            self._tensors[t] = (name, e)
        return outs[0]

    # -- operations --------------------------------------------------------------------------
    def matmul(self, name, x, *, M, K, N, B=1, bias=False, w=None, weight_elems=None,
               op="matmul", **extra):
        """``B`` products of (M x K) by (K x N). With ``w`` None the right operand is a weight
        shared by the B products (K*N elements, plus N for a bias; ``weight_elems`` overrides);
        otherwise ``w`` names the activation tensor and there are no weights."""
        inputs = [x] if w is None else [x, w]
        if weight_elems is not None:
            weights = weight_elems
        else:
            weights = 0 if w is not None else K * N + (N if bias else 0)
        return self.node(name, op, inputs, out_elems=B * M * N, K=K,
                         shape={"B": B, "M": M, "K": K, "N": N}, weight_elems=weights,
                         bias=bool(bias), **extra)

    def attn_score(self, name, q, k, *, B, M, K, N, extra_inputs=(), **kw):
        """Q Kᵀ for ``B`` = batch x heads: (M queries x K head-dim) by (K x N keys)."""
        return self.node(name, "attn_score", [q, k, *extra_inputs], out_elems=B * M * N, K=K,
                         shape={"B": B, "M": M, "K": K, "N": N}, **kw)

    def attn_value(self, name, p, v, *, B, M, K, N, extra_inputs=(), **kw):
        """P V for ``B`` = batch x heads: (M queries x K keys) by (K keys x N head-dim)."""
        return self.node(name, "attn_value", [p, v, *extra_inputs], out_elems=B * M * N, K=K,
                         shape={"B": B, "M": M, "K": K, "N": N}, **kw)

    def conv(self, name, x, *, N, C_in, H, W, C_out, kh, kw=None, stride=1, pad=None, groups=1,
             dilation=1, bias=False, H_out=None, W_out=None, extra_inputs=(), weight_elems=None,
             **extra):
        """A 2-D convolution; ``extra_inputs`` are activation tensors used as its weights (then
        ``weight_elems`` says how many of its weights are stored parameters)."""
        kw = kh if kw is None else kw
        pads = _pads(pad, kh, kw, dilation)
        H_out = conv_out(H, kh, stride, pads[0], pads[2], dilation) if H_out is None else H_out
        W_out = conv_out(W, kw, stride, pads[1], pads[3], dilation) if W_out is None else W_out
        K = (C_in // groups) * kh * kw
        if weight_elems is None:
            weight_elems = C_out * K + (C_out if bias else 0)
        return self.node(name, "conv", [x, *extra_inputs], out_elems=N * C_out * H_out * W_out, K=K,
                         shape={"N": N, "C_in": C_in, "H": H, "W": W, "C_out": C_out, "kh": kh,
                                "kw": kw, "stride": stride, "groups": groups, "H_out": H_out,
                                "W_out": W_out, "pad": list(pads), "dilation": dilation},
                         weight_elems=weight_elems, bias=bool(bias), **extra)

    def elementwise(self, name, inputs, *, elems, fn, **extra):
        return self.node(name, "elementwise", list(inputs), out_elems=elems,
                         shape={"elems": elems}, fn=fn, **extra)

    def pool(self, name, x, *, N, C, H, W, kh, kw=None, stride=1, pad=0, fn="max",
             H_out=None, W_out=None, **extra):
        kw = kh if kw is None else kw
        pads = _pads(pad, kh, kw, 1)
        H_out = conv_out(H, kh, stride, pads[0], pads[2]) if H_out is None else H_out
        W_out = conv_out(W, kw, stride, pads[1], pads[3]) if W_out is None else W_out
        return self.node(name, "pool", [x], out_elems=N * C * H_out * W_out,
                         shape={"N": N, "C": C, "H": H, "W": W, "kh": kh, "kw": kw,
                                "stride": stride, "H_out": H_out, "W_out": W_out,
                                "pad": list(pads)}, fn=fn, **extra)

    def reduce(self, name, x, *, rows, cols, fn="mean", **extra):
        """A pooling over ``cols`` elements for each of ``rows`` outputs (mean over tokens)."""
        return self.node(name, "pool", [x], out_elems=rows,
                         shape={"rows": rows, "cols": cols}, fn=fn, **extra)

    def norm(self, name, x, *, rows, cols, fn, weight_elems, **extra):
        """Normalisation of ``rows`` groups of ``cols`` elements (BatchNorm: rows = channels)."""
        return self.node(name, "norm", [x], out_elems=rows * cols,
                         shape={"rows": rows, "cols": cols}, fn=fn, weight_elems=weight_elems,
                         **extra)

    def softmax(self, name, x, *, rows, cols, **extra):
        return self.node(name, "softmax", [x], out_elems=rows * cols,
                         shape={"rows": rows, "cols": cols}, **extra)

    def embedding(self, name, ids, *, tokens, vocab, dim, **extra):
        return self.node(name, "embedding", [ids], out_elems=tokens * dim,
                         shape={"tokens": tokens, "vocab": vocab, "dim": dim},
                         weight_elems=vocab * dim, **extra)


def seen_order(items):
    """Items in first-seen order without repeats."""
    return list(dict.fromkeys(items))


def _pads(pad, kh, kw, dilation):
    """(top, left, bottom, right); ``None`` means 'same' for odd kernels (k // 2)."""
    if pad is None:
        return (dilation * (kh // 2), dilation * (kw // 2), dilation * (kh // 2),
                dilation * (kw // 2))
    if isinstance(pad, int):
        return (pad, pad, pad, pad)
    return tuple(int(p) for p in pad)


def totals(g) -> dict:
    """Whole-graph sums: ``macs``, ``weight_elems``, ``act_elems`` (graph inputs plus every
    node's output, i.e. each activation element written once), ``nodes`` and ``by_op``
    (per op: ``count``, ``macs``, ``weight_elems``, ``act_out_elems``)."""
    by_op: dict[str, Counter] = {}
    for _, d in g.nodes(data=True):
        c = by_op.setdefault(d["op"], Counter())
        c["count"] += 1
        c["macs"] += d["macs"]
        c["weight_elems"] += d["weight_elems"]
        c["act_out_elems"] += d["act_out_elems"]
    return {
        "macs": sum(c["macs"] for c in by_op.values()),
        "weight_elems": sum(c["weight_elems"] for c in by_op.values()),
        "act_elems": sum(g.graph.get("inputs", {}).values())
                     + sum(c["act_out_elems"] for c in by_op.values()),
        "nodes": g.number_of_nodes(),
        "by_op": {op: dict(by_op[op]) for op in OPS if op in by_op},
    }


_NODE_INT = ("macs", "K", "weight_elems", "act_in_elems", "act_out_elems")
_SHAPE_KEYS = {"matmul": ("B", "M", "K", "N"), "attn_score": ("B", "M", "K", "N"),
               "attn_value": ("B", "M", "K", "N"),
               "conv": ("N", "C_in", "H", "W", "C_out", "kh", "kw", "stride", "groups", "H_out",
                        "W_out")}


def check(g) -> int:
    """Raise :class:`WorkloadError` naming the first node that breaks the schema; return the
    number of nodes checked. Invariants: ``op`` in :data:`OPS`; the integer fields are
    non-negative ints; ``macs == act_out_elems * K`` for dot-product ops (whose ``shape`` has
    M, K, N or the conv fields, and whose K is the shape's reduction length) and ``macs == K
    == 0`` for the rest; every edge carries ``tensor`` and ``elems`` > 0; the graph is acyclic."""
    import networkx as nx
    for key in ("name", "source"):
        if not isinstance(g.graph.get(key), str):
            raise WorkloadError(f"graph attribute {key!r} must be a string")
    n = 0
    for name, d in g.nodes(data=True):
        n += 1
        where = f"node {name!r}"
        if d.get("name") != name:
            raise WorkloadError(f"{where}: 'name' attribute is {d.get('name')!r}")
        if d.get("op") not in OPS:
            raise WorkloadError(f"{where}: op {d.get('op')!r} is not one of {', '.join(OPS)}")
        for k in _NODE_INT:
            if not isinstance(d.get(k), int) or d[k] < 0:
                raise WorkloadError(f"{where}: {k} must be a non-negative int, not {d.get(k)!r}")
        if not isinstance(d.get("shape"), dict):
            raise WorkloadError(f"{where}: shape must be a dict")
        op, s = d["op"], d["shape"]
        if op in MAC_OPS:
            missing = [k for k in _SHAPE_KEYS[op] if k not in s]
            if missing:
                raise WorkloadError(f"{where}: shape lacks {', '.join(missing)}")
            k_shape = (s["C_in"] // s["groups"]) * s["kh"] * s["kw"] if op == "conv" else s["K"]
            out = (s["N"] * s["C_out"] * s["H_out"] * s["W_out"] if op == "conv"
                   else s["B"] * s["M"] * s["N"])
            if d["K"] != k_shape or d["act_out_elems"] != out or d["macs"] != out * k_shape:
                raise WorkloadError(f"{where}: K {d['K']}, macs {d['macs']}, act_out_elems "
                                    f"{d['act_out_elems']} disagree with shape {s}")
        elif d["macs"] or d["K"]:
            raise WorkloadError(f"{where}: a {op} node has no MACs (macs {d['macs']}, K {d['K']})")
    for u, v, e in g.edges(data=True):
        if not isinstance(e.get("tensor"), str) or not isinstance(e.get("elems"), int) \
                or e["elems"] <= 0:
            raise WorkloadError(f"edge {u!r} -> {v!r}: needs tensor (str) and elems (int > 0)")
    if not nx.is_directed_acyclic_graph(g):
        raise WorkloadError(f"workload {g.graph['name']!r} has a cycle")
    return n
