"""ONNX import: a user's own model as a workload graph (``onnx`` + its shape inference).

Shapes come from ``onnx.shape_inference`` after the model's symbolic input dimensions are
fixed from ``dims``. Shape arithmetic (``Shape``, ``Constant`` and whatever only consumes
constants) is folded away; views (``Reshape``, ``Flatten``, ``Squeeze``, ``Unsqueeze``,
``Identity``, ``Dropout``) add no node, their consumers connect to the real producer; data
movement (``Transpose``, ``Concat``, ``Slice`` ...) becomes an ``elementwise`` node with no MACs.
``weight_elems`` counts every initializer a node reads (BatchNorm's running mean and variance
too, a bias added by an ``Add``, a stored scalar scale).
An activation x activation ``MatMul`` is an ``attn_score`` when its result reaches a
``Softmax`` through scaling/masking ops, an ``attn_value`` when an operand comes from a
``Softmax``, and a plain ``matmul`` (no weights) otherwise.
"""
from __future__ import annotations

import os
from math import prod

from ._graph import Builder, WorkloadError, seen_order

__all__ = ["from_onnx", "SUPPORTED"]

_VIEW = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"}
_ELEMENTWISE = {
    "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Erf",
    "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Gelu", "Elu",
    "Selu", "Celu", "Softplus", "Softsign", "Mish", "Clip", "Min", "Max", "Sum", "Mean", "Where",
    "Cast", "Floor", "Ceil", "Round", "Sign", "Equal", "Less", "Greater", "LessOrEqual",
    "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "QuantizeLinear", "DequantizeLinear",
}
_MOVEMENT = {"Transpose", "Concat", "Split", "Slice", "Pad", "Expand", "Tile", "GatherElements",
             "GatherND", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "ScatterND",
             "ScatterElements"}
_NORM = {"BatchNormalization", "LayerNormalization", "InstanceNormalization",
         "GroupNormalization", "LpNormalization"}
_POOL = {"MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool"}
_REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2",
           "ReduceL1", "ReduceSumSquare", "ReduceLogSumExp"}
_SOFTMAX = {"Softmax", "LogSoftmax", "Hardmax"}
_DOT = {"Conv", "ConvInteger", "Gemm", "MatMul", "MatMulInteger"}
_STATIC_SOURCES = {"Constant", "Shape", "Size", "ConstantOfShape", "Range"}
_INT64 = 7                                    # onnx.TensorProto.INT64
SUPPORTED = sorted(_VIEW | _ELEMENTWISE | _MOVEMENT | _NORM | _POOL | _REDUCE | _SOFTMAX | _DOT
                   | _STATIC_SOURCES | {"Gather"})
# Ops a score may pass through between Q Kᵀ and the Softmax (scale, mask, reshape).
_TO_SOFTMAX = {"Div", "Mul", "Add", "Sub", "Where", "Cast", "Reshape", "Squeeze", "Unsqueeze",
               "Identity", "Transpose"}



def _attrs(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def from_onnx(path, dims: dict | None = None, name: str | None = None):
    """The workload graph of the ONNX model at ``path``.

    ``dims`` gives sizes for the model's symbolic input dimensions (``{"batch": 1}``); every
    symbolic dimension must be given. Unsupported operators, unreadable files and missing
    shapes raise :class:`~costmodel.workloads.WorkloadError` with a one-line message.
    """
    import onnx
    dims = {str(k): v for k, v in (dims or {}).items()}
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise WorkloadError(f"no such ONNX file: {path}" if not os.path.isdir(path) else
                            f"{path} is a directory; give an .onnx file")
    if os.path.getsize(path) == 0:
        raise WorkloadError(f"{path} is empty (0 bytes); give an ONNX model file")
    try:
        model = onnx.load(path)
    except Exception as exc:                 # protobuf DecodeError and friends
        raise WorkloadError(f"{path} is not a readable ONNX model ({type(exc).__name__})") from None
    graph = model.graph
    if not graph.node:
        raise WorkloadError(f"{path} holds no ONNX graph nodes (not a model, or an empty one)")
    _check_order(graph, path)
    inits = {t.name for t in graph.initializer}
    free = [(vi.name, dim) for vi in graph.input if vi.name not in inits
            for dim in vi.type.tensor_type.shape.dim if not dim.HasField("dim_value")]
    labels = list(dict.fromkeys(dim.dim_param for _, dim in free if dim.dim_param))
    for k in dims:
        if k not in labels:
            raise WorkloadError(f"{path}: the model has no symbolic dimension {k!r}; "
                                + (f"its symbolic dimensions: {', '.join(labels)}" if labels
                                   else "all its input dimensions are fixed"))
    for inp, dim in free:
        if not dim.dim_param:
            raise WorkloadError(f"{path}: input {inp!r} has an unnamed dimension of unknown size")
        if dim.dim_param not in dims:
            raise WorkloadError(f"{path}: input {inp!r} has symbolic dimension {dim.dim_param!r}; "
                                f"give its size, e.g. --param {dim.dim_param}=1")
        v = dims[dim.dim_param]
        try:
            v = int(v)
        except (TypeError, ValueError):
            raise WorkloadError(f"dimension {dim.dim_param} must be an integer, not {v!r}") from None
        if v < 1:
            raise WorkloadError(f"dimension {dim.dim_param} must be >= 1, not {v}")
        dim.dim_value = v
    try:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WorkloadError(f"{path}: ONNX shape inference failed: {first}") from None
    return _Importer(model, path, name).run()


def _check_order(graph, path):
    """Every node's inputs come from a graph input, an initializer or an earlier node: ONNX
    requires nodes in topological order, so a tensor used before it is produced is a cycle
    or a broken file -- refused, not walked."""
    known = {vi.name for vi in graph.input} | {t.name for t in graph.initializer}
    later = {t for n in graph.node for t in n.output if t}
    for i, node in enumerate(graph.node):
        for t in node.input:
            if t and t not in known:
                nm = node.name or f"#{i} ({node.op_type})"
                why = ("it is produced only by this or a later node: the graph has a cycle or "
                       "is not in the topological order ONNX requires") if t in later else \
                    "no node, graph input or initializer produces it"
                raise WorkloadError(f"{path}: node {nm} reads tensor {t!r} before it exists; "
                                    f"{why}")
        known.update(t for t in node.output if t)


class _Importer:
    def __init__(self, model, path, name):
        self.model, self.path, self.g = model, path, model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                          13)
        self.shapes = {}
        for vi in list(self.g.input) + list(self.g.value_info) + list(self.g.output):
            t = vi.type.tensor_type
            if t.HasField("shape") and all(d.HasField("dim_value") for d in t.shape.dim):
                self.shapes[vi.name] = tuple(d.dim_value for d in t.shape.dim)
        self.inits = {t.name: tuple(t.dims) for t in self.g.initializer}
        self.shapes.update(self.inits)
        self.static = set(self.inits)
        # elements of stored parameters behind each constant tensor (initializers, Constant
        # nodes and what is folded from them, such as a transposed or dequantised weight);
        # int64 tensors are shapes and indices, not parameters
        self.wsize = {t.name: (prod(t.dims) if t.data_type != _INT64 else 0)
                      for t in self.g.initializer}
        self.softmax_out = set()              # tensors that are (views of) a Softmax output
        self.consumers = {}
        for n in self.g.node:
            for t in n.input:
                self.consumers.setdefault(t, []).append(n)
        stem = os.path.splitext(os.path.basename(path))[0]
        producer = " ".join(v for v in (model.producer_name, model.producer_version) if v)
        self.b = Builder(name or self.g.name or stem,
                         f"ONNX file {os.path.basename(path)}"
                         + (f" ({producer}" if producer else " (")
                         + f"{', ' if producer else ''}opset {self.opset})",
                         published_note="user model: no published figure", params={})
        self.names = set()
        self.index = 0

    # -- helpers ---------------------------------------------------------------------------
    def shape(self, t, node):
        if t not in self.shapes:
            raise WorkloadError(f"{self.path}: no shape inferred for tensor {t!r} ({node.op_type} "
                                f"node {self._name(node, peek=True)!r}); fix the model's input "
                                "dimensions (--param NAME=SIZE)")
        return self.shapes[t]

    def _name(self, node, peek=False):
        if isinstance(node, _Fake):
            return node.name
        base = node.name or f"{node.op_type}_{self.index}"
        nm, i = base, 1
        while nm in self.names:
            i += 1
            nm = f"{base}_{i}"
        if not peek:
            self.names.add(nm)
        return nm

    def act(self, node):
        return seen_order(t for t in node.input if t and t not in self.static)

    def weights(self, node):
        return sum(self.wsize.get(t, 0) for t in seen_order(node.input) if t in self.static)

    def fold(self, node, ins):
        """A node computed from constants only: its outputs are constants too."""
        outs = [t for t in node.output if t]
        self.static.update(outs)
        if node.op_type == "Constant":
            a = _attrs(node)
            value = a.get("value")
            if value is not None:
                self.shapes[outs[0]] = tuple(value.dims)
            self.wsize[outs[0]] = (prod(value.dims) if value.data_type != _INT64 else 0) \
                if value is not None else 0
            return
        carried = sum(self.wsize.get(t, 0) for t in seen_order(ins))
        for t in outs:
            self.wsize[t] = (prod(self.shapes[t]) if t in self.shapes else carried) \
                if carried and node.op_type not in _STATIC_SOURCES else 0

    def out_elems(self, node):
        return [prod(self.shape(t, node)) for t in node.output if t]

    def emit(self, node, nm, op, **kw):
        outs = [t for t in node.output if t]
        sizes = self.out_elems(node)
        if len(outs) > 1:
            kw["out_sizes"] = sizes
        return self.b.node(nm, op, self.act(node), out_elems=sum(sizes), out=outs,
                           onnx_op=node.op_type, **kw)

    def reaches_softmax(self, tensor, depth=5):
        frontier = [tensor]
        for _ in range(depth):
            nxt = []
            for t in frontier:
                for c in self.consumers.get(t, []):
                    if c.op_type in _SOFTMAX:
                        return True
                    if c.op_type in _TO_SOFTMAX:
                        nxt.extend(o for o in c.output if o)
            frontier = nxt
        return False

    # -- the walk --------------------------------------------------------------------------
    def run(self):
        b = self.b
        for vi in self.g.input:
            if vi.name not in self.inits:
                b.input(vi.name, prod(self.shape(vi.name, _Fake(vi.name))))
        for self.index, node in enumerate(self.g.node):
            ins = [t for t in node.input if t]
            if node.domain not in ("", "ai.onnx"):
                self.unsupported(node, f"{node.domain}.{node.op_type}")
            if node.op_type in _STATIC_SOURCES or \
                    all(t in self.static for t in ins):
                self.fold(node, ins)
                continue
            op = node.op_type
            if op in _VIEW:
                src = self.act(node)[0]
                for t in node.output[:1]:
                    b.alias(t, src)
                    self.shapes.setdefault(t, self.shapes.get(src))
                    if src in self.softmax_out:
                        self.softmax_out.add(t)
                continue
            handler = getattr(self, "_" + op, None)
            if handler is None:
                if op in _ELEMENTWISE or op in _MOVEMENT:
                    handler = self._elementwise
                elif op in _NORM:
                    handler = self._norm
                elif op in _POOL:
                    handler = self._pool
                elif op in _REDUCE:
                    handler = self._reduce
                elif op in _SOFTMAX:
                    handler = self._softmax
                else:
                    self.unsupported(node, op)
            handler(node)
        for vi in self.g.output:
            if b.has(vi.name) and vi.name not in self.static:
                b.output(vi.name)
        return b.finish()

    def unsupported(self, node, op):
        raise WorkloadError(f"unsupported ONNX operator {op} (node {self._name(node, peek=True)!r}"
                            f" in {os.path.basename(self.path)}); supported: {', '.join(SUPPORTED)}")

    # -- operators -------------------------------------------------------------------------
    def _elementwise(self, node):
        nm = self._name(node)
        self.emit(node, nm, "elementwise", shape={"elems": sum(self.out_elems(node))},
                  fn=node.op_type.lower(), weight_elems=self.weights(node))
        if node.op_type == "Cast" and node.input[0] in self.softmax_out:
            self.softmax_out.add(node.output[0])

    def _Gather(self, node):
        data, idx = node.input[0], node.input[1]
        if self.wsize.get(data) and idx not in self.static:
            tab = self.shape(data, node)
            if _attrs(node).get("axis", 0) == 0:
                nm = self._name(node)
                self.b.embedding(nm, idx, tokens=prod(self.shape(idx, node)), vocab=tab[0],
                                 dim=prod(tab[1:]), out=node.output[0], onnx_op="Gather")
                return
        self._elementwise(node)

    def _norm(self, node):
        x = node.input[0]
        s = self.shape(x, node)
        a = _attrs(node)
        if node.op_type in ("BatchNormalization", "InstanceNormalization", "GroupNormalization"):
            rows = s[1] if len(s) > 1 else 1
        else:
            axis = a.get("axis", -1)
            axis = axis + len(s) if axis < 0 else axis
            rows = prod(s[:axis])
        n = prod(s)
        nm = self._name(node)
        self.b.node(nm, "norm", self.act(node), out_elems=sum(self.out_elems(node)),
                    out=[t for t in node.output if t][:1],
                    shape={"rows": rows, "cols": n // max(rows, 1)}, fn=node.op_type.lower(),
                    weight_elems=self.weights(node), onnx_op=node.op_type)

    def _spatial(self, s):
        """(N, C, H, W) of a 3-D or 4-D feature map (1-D maps as H = 1)."""
        if len(s) == 4:
            return s
        if len(s) == 3:
            return (s[0], s[1], 1, s[2])
        return None

    def _pool(self, node):
        x = node.input[0]
        s4 = self._spatial(self.shape(x, node))
        nm = self._name(node)
        if s4 is None:
            raise WorkloadError(f"{self.path}: {node.op_type} node {nm!r} needs a 3-D or 4-D input, "
                                f"not shape {self.shape(x, node)}")
        o4 = self._spatial(self.shape(node.output[0], node))
        N, C, H, W = s4
        a = _attrs(node)
        if node.op_type.startswith("Global"):
            k, strides, pads = (H, W), (1, 1), (0, 0, 0, 0)
        else:
            k = tuple(a["kernel_shape"])
            k = (1, k[0]) if len(k) == 1 else k
            strides = tuple(a.get("strides", (1,) * len(k)))
            strides = (1, strides[0]) if len(strides) == 1 else strides
            pads = tuple(a.get("pads", (0,) * (2 * len(k))))
            pads = (0, pads[0], 0, pads[1]) if len(pads) == 2 else pads
        fn = {"MaxPool": "max", "GlobalMaxPool": "max", "LpPool": "lp"}.get(node.op_type, "avg")
        self.b.pool(nm, x, N=N, C=C, H=H, W=W, kh=k[0], kw=k[1],
                    stride=strides[0] if strides[0] == strides[1] else list(strides), pad=pads,
                    fn=fn, H_out=o4[2], W_out=o4[3], out=node.output[0], onnx_op=node.op_type)

    def _reduce(self, node):
        out = sum(self.out_elems(node))
        n = prod(self.shape(node.input[0], node))
        nm = self._name(node)
        self.b.node(nm, "pool", self.act(node), out_elems=out, out=node.output[0],
                    shape={"rows": out, "cols": n // max(out, 1)},
                    fn=node.op_type[len("Reduce"):].lower(), onnx_op=node.op_type)

    def _softmax(self, node):
        s = self.shape(node.input[0], node)
        axis = _attrs(node).get("axis", -1 if self.opset >= 13 else 1)
        axis = axis + len(s) if axis < 0 else axis
        cols = s[axis] if self.opset >= 13 else prod(s[axis:])
        nm = self._name(node)
        self.b.softmax(nm, node.input[0], rows=prod(s) // cols, cols=cols, out=node.output[0],
                       fn=node.op_type.lower(), onnx_op=node.op_type)
        self.softmax_out.add(node.output[0])

    def _Conv(self, node):
        x, w = node.input[0], node.input[1]
        nm = self._name(node)
        s4 = self._spatial(self.shape(x, node))
        ws = self.shape(w, node)
        o4 = self._spatial(self.shape(node.output[0], node))
        if s4 is None or len(ws) not in (3, 4):
            raise WorkloadError(f"{self.path}: Conv node {nm!r}: only 1-D and 2-D convolutions "
                                f"are supported, not input shape {self.shape(x, node)}")
        a = _attrs(node)
        kh, kw = (1, ws[2]) if len(ws) == 3 else (ws[2], ws[3])
        strides = tuple(a.get("strides", (1,) * (len(ws) - 2)))
        strides = (1, strides[0]) if len(strides) == 1 else strides
        pads = tuple(a.get("pads", (0,) * (2 * (len(ws) - 2))))
        pads = (0, pads[0], 0, pads[1]) if len(pads) == 2 else pads
        dil = tuple(a.get("dilations", (1,) * (len(ws) - 2)))
        groups = a.get("group", 1)
        N, C, H, W = s4
        bias = len(node.input) > 2 and bool(node.input[2])
        self.b.conv(nm, x, N=N, C_in=C, H=H, W=W, C_out=ws[0], kh=kh, kw=kw,
                    stride=strides[0] if strides[0] == strides[1] else list(strides), pad=pads,
                    groups=groups, dilation=dil[-1], bias=bias, H_out=o4[2], W_out=o4[3],
                    extra_inputs=[t for t in self.act(node) if t != x],
                    weight_elems=self.weights(node), out=node.output[0], onnx_op=node.op_type)

    _ConvInteger = _Conv

    def _Gemm(self, node):
        a_t, b_t = node.input[0], node.input[1]
        at = _attrs(node)
        sa, sb = self.shape(a_t, node), self.shape(b_t, node)
        M, K = (sa[1], sa[0]) if at.get("transA", 0) else sa
        K_b, N = (sb[1], sb[0]) if at.get("transB", 0) else sb
        self._check_k(node, sa, sb, K, K_b)
        self._dot(node, a_t, b_t, B=1, M=M, K=K, N=N,
                  bias=len(node.input) > 2 and bool(node.input[2]))

    def _MatMul(self, node):
        import numpy as np
        a_t, b_t = node.input[0], node.input[1]
        sa, sb = list(self.shape(a_t, node)), list(self.shape(b_t, node))
        if len(sa) == 1:
            sa = [1] + sa
        if len(sb) == 1:
            sb = sb + [1]
        M, K, N = sa[-2], sa[-1], sb[-1]
        self._check_k(node, sa, sb, K, sb[-2])
        ba, bb = sa[:-2], sb[:-2]
        try:
            np.broadcast_shapes(tuple(ba), tuple(bb))
        except ValueError:
            raise WorkloadError(f"{self.path}: {node.op_type} node {self._name(node, peek=True)!r}"
                                f": batch dimensions {ba} and {bb} do not broadcast") from None
        batch = prod(np.broadcast_shapes(tuple(ba), tuple(bb))) if (ba or bb) else 1
        if b_t in self.static and not bb:         # X @ W with a 2-D weight: fold batch into M
            M, batch = M * prod(ba), 1
        self._dot(node, a_t, b_t, B=batch, M=M, K=K, N=N, bias=False)

    _MatMulInteger = _MatMul

    def _check_k(self, node, sa, sb, k_a, k_b):
        if k_a != k_b:
            shape = lambda s: "x".join(map(str, s))
            raise WorkloadError(f"{self.path}: {node.op_type} node {self._name(node, peek=True)!r}"
                                f" multiplies {shape(sa)} by {shape(sb)}: the inner dimensions "
                                f"{k_a} and {k_b} differ")

    def _dot(self, node, a_t, b_t, *, B, M, K, N, bias):
        nm = self._name(node)
        acts = self.act(node)
        w_elems = self.weights(node)
        shape = {"B": B, "M": M, "K": K, "N": N}
        out = node.output[0]
        if a_t in self.static or b_t in self.static:      # one operand is a stored weight
            op = "matmul"
        elif a_t in self.softmax_out or b_t in self.softmax_out:
            op = "attn_value"
        elif self.reaches_softmax(out):
            op = "attn_score"
        else:
            op = "matmul"
        self.b.node(nm, op, acts, out_elems=B * M * N, K=K, shape=shape, weight_elems=w_elems,
                    bias=bias, out=out, onnx_op=node.op_type)


class _Fake:
    """Stands in for a node in error messages about graph inputs."""

    def __init__(self, name):
        self.name, self.op_type = name, "graph input"
