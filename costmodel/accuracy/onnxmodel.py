"""A user's ONNX model with weights and an inputs file, run with every matmul on a unit.

The graph runs in numpy through ``onnx.reference.ReferenceEvaluator``; every ``MatMul``,
``Gemm`` and ``Conv`` node is replaced by an operator that hands its products to the matmul
hook of :mod:`costmodel.accuracy.run` (``mm(name, x_mk, w_nk)``): the float model
(:class:`~costmodel.accuracy.run.FloatMatmul`), the calibrator, or the bit-exact emulated unit
of a format (:class:`~costmodel.accuracy.run.EmulatedMatmul`, the same quantisation options as
``digits`` and ``minilm``). A convolution becomes one matmul per group over its im2col patches
(pads, strides, dilations as the node says); every other operator is ReferenceEvaluator's own.

Metrics against the fp32 run of the same graph: ``top1`` (%, with labels), ``agreement`` (%,
samples whose argmax equals the fp32 run's), ``cosine_mean``/``cosine_min`` (per-sample cosine
similarity of the output) and ``rel_error`` (``||y - y_fp32|| / ||y_fp32||`` over all outputs).
The activations are calibrated on the same inputs (post-training quantisation on the
evaluation set: a user who wants a held-out calibration set passes separate files).
"""
from __future__ import annotations

import os
import tempfile
from functools import cached_property

import numpy as np

from .run import Model
from .units import SpecError

__all__ = ["OnnxModel", "MAC_OPS"]

#: ONNX operators whose products run on the unit.
MAC_OPS = ("MatMul", "Gemm", "Conv")


def _attrs(node) -> dict:
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _im2col(x, kh, kw, pads, strides, dilations):
    """(N, C, H, W) -> (N, Ho, Wo, C * kh * kw) patches, zero padding (C-major, then kh, kw,
    as ONNX's weight layout (M, C, kh, kw) flattens)."""
    n, c, h, w = x.shape
    pt, pl, pb, pr = pads
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    sy, sx = strides
    dy, dx = dilations
    ho = (h + pt + pb - dy * (kh - 1) - 1) // sy + 1
    wo = (w + pl + pr - dx * (kw - 1) - 1) // sx + 1
    cols = np.empty((n, ho, wo, c, kh, kw), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, :, i, j] = xp[:, :, i * dy: i * dy + sy * (ho - 1) + 1: sy,
                                        j * dx: j * dx + sx * (wo - 1) + 1: sx].transpose(0, 2, 3, 1)
    return cols.reshape(n, ho, wo, c * kh * kw), ho, wo


def _ops(hook):
    """OpRun classes for MatMul, Gemm and Conv that call ``hook[0]`` (the current mm)."""
    from onnx.reference.op_run import OpRun

    class MatMul(OpRun):
        op_domain = ""

        def _run(self, a, b):
            mm, name = hook[0], self.onnx_node.name
            if b.ndim == 2:
                return (np.asarray(mm(name, a, b.T), np.float32),)
            lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            a_ = np.broadcast_to(a, lead + a.shape[-2:])
            b_ = np.broadcast_to(b, lead + b.shape[-2:])
            out = np.empty(lead + (a.shape[-2], b.shape[-1]), np.float32)
            for idx in np.ndindex(*lead):
                out[idx] = mm(name, a_[idx], np.ascontiguousarray(b_[idx].T))
            return (out,)

    class Gemm(OpRun):
        op_domain = ""

        def _run(self, a, b, c=None, alpha=None, beta=None, transA=None, transB=None):
            mm, name = hook[0], self.onnx_node.name
            a = a.T if transA else a
            w = b if transB else b.T                      # (N, K)
            y = np.asarray(mm(name, a, w), np.float32)
            if alpha not in (None, 1.0):
                y = np.float32(alpha) * y
            if c is not None:
                y = y + (np.float32(beta) * c if beta not in (None, 1.0) else c)
            return (y.astype(np.float32),)

    class Conv(OpRun):
        op_domain = ""

        def _run(self, x, w, b=None, auto_pad=None, dilations=None, group=None,
                 kernel_shape=None, pads=None, strides=None):
            mm, name = hook[0], self.onnx_node.name
            if x.ndim != 4:
                raise SpecError(f"Conv {name}: only 2-D convolutions are emulated, not "
                                f"{x.ndim - 2}-D")
            if auto_pad not in (None, "NOTSET", b"NOTSET"):
                raise SpecError(f"Conv {name}: auto_pad={auto_pad!r} is not emulated; give "
                                "explicit pads")
            g = int(group or 1)
            m, cg, kh, kw = w.shape
            pads = tuple(pads) if pads is not None else (0, 0, 0, 0)
            pads = (pads[0], pads[1], pads[2], pads[3])          # y_begin, x_begin, y_end, x_end
            strides = tuple(strides) if strides is not None else (1, 1)
            dil = tuple(dilations) if dilations is not None else (1, 1)
            n = x.shape[0]
            outs = []
            for gi in range(g):
                xg = x[:, gi * cg:(gi + 1) * cg]
                cols, ho, wo = _im2col(xg, kh, kw, (pads[0], pads[1], pads[2], pads[3]),
                                       strides, dil)
                wg = w[gi * (m // g):(gi + 1) * (m // g)].reshape(m // g, -1)
                y = np.asarray(mm(name, cols.reshape(-1, cols.shape[-1]), wg), np.float32)
                outs.append(y.reshape(n, ho, wo, m // g))
            y = np.concatenate(outs, axis=-1).transpose(0, 3, 1, 2)
            if b is not None:
                y = y + b.reshape(1, -1, 1, 1)
            return (np.ascontiguousarray(y, dtype=np.float32),)

    return [MatMul, Gemm, Conv]


class OnnxModel(Model):
    """``FILE.onnx`` with weights, its inputs (``.npz``, one array per graph input, first axis
    the samples) and optional integer ``labels`` (``.npy``)."""

    def __init__(self, path: str, inputs: str, labels: str | None = None, progress=None):
        import onnx
        self.path = os.fspath(path)
        self.name = os.path.splitext(os.path.basename(self.path))[0]
        try:
            model = onnx.load(self.path)
        except Exception as exc:            # noqa: BLE001 -- a user's file: one line
            raise SpecError(f"{self.path} is not a readable ONNX model "
                            f"({type(exc).__name__})") from None
        init = {t.name for t in model.graph.initializer}
        used, names = set(), []
        for i, node in enumerate(model.graph.node):        # every node gets a unique name:
            if not node.name or node.name in used:           # the layers are keyed by it
                node.name = f"{node.op_type}_{i}"
            used.add(node.name)
            if node.op_type in MAC_OPS:
                names.append(node.name)
        if not names:
            raise SpecError(f"{self.path}: no MatMul, Gemm or Conv node to put on the unit")
        self.proto = model
        self.layer_names = tuple(names)
        self.input_names = [vi.name for vi in model.graph.input if vi.name not in init]
        try:
            with np.load(inputs) as z:
                data = {k: z[k] for k in z.files}
        except Exception as exc:            # noqa: BLE001
            raise SpecError(f"--inputs {inputs}: not a readable .npz ({type(exc).__name__})"
                            ) from None
        missing = [n for n in self.input_names if n not in data]
        if missing:
            raise SpecError(f"--inputs {inputs}: no array for graph input(s) "
                            + ", ".join(missing) + "; it holds " + (", ".join(data) or "none"))
        counts = {data[n].shape[0] for n in self.input_names}
        if len(counts) != 1:
            raise SpecError(f"--inputs {inputs}: the inputs have different sample counts "
                            f"{sorted(counts)}")
        self.inputs = {n: data[n] for n in self.input_names}
        self.n = counts.pop()
        self.labels = None
        if labels is not None:
            try:
                y = np.load(labels)
            except Exception as exc:        # noqa: BLE001
                raise SpecError(f"--labels {labels}: not a readable .npy "
                                f"({type(exc).__name__})") from None
            if y.shape != (self.n,) or not np.issubdtype(y.dtype, np.integer):
                raise SpecError(f"--labels {labels}: needs {self.n} integer class labels, "
                                f"has shape {y.shape} of {y.dtype}")
            self.labels = y
        self.metric = "top1" if self.labels is not None else "cosine_mean"
        self.metric_label = ("top-1 accuracy against the labels (%)" if self.labels is not None
                             else "mean cosine similarity of the output to the fp32 run")
        self._hook = [None]
        self._progress = progress or (lambda msg: None)

    @cached_property
    def _session(self):
        from onnx.reference import ReferenceEvaluator
        return ReferenceEvaluator(self.proto, new_ops=_ops(self._hook))

    def reference_evaluator_output(self, X=None):
        """The unmodified ReferenceEvaluator's first output on ``X`` (default: all inputs)."""
        from onnx.reference import ReferenceEvaluator
        return ReferenceEvaluator(self.proto).run(None, X if X is not None else self.inputs)[0]

    def forward(self, X, mm):
        self._hook[0] = mm
        try:
            return np.asarray(self._session.run(None, X)[0])
        finally:
            self._hook[0] = None

    def calibration_inputs(self):
        return self.inputs

    def test_inputs(self):
        return self.inputs

    def graph(self):
        """The workload graph of one sample (batch 1) of this model."""
        import onnx
        from macforge.costmodel.workloads import from_onnx
        m = onnx.ModelProto()
        m.CopyFrom(self.proto)
        for vi in m.graph.input:                # one sample: batch dimension 1
            dims = vi.type.tensor_type.shape.dim
            if vi.name in self.inputs and len(dims):
                dims[0].ClearField("dim_param")
                dims[0].dim_value = 1
        with tempfile.TemporaryDirectory(prefix="macforge-onnx-") as tmp:
            p = os.path.join(tmp, os.path.basename(self.path))
            onnx.save(m, p)
            return from_onnx(p, name=self.name)

    # -- scoring -----------------------------------------------------------------------------
    def _flat(self, y):
        return np.asarray(y, np.float64).reshape(self.n, -1)

    def _cosine(self, y):
        """Per-sample cosine similarity of ``y`` to the fp32 run (1 where both are zero)."""
        a, r = self._flat(y), self._flat(self.reference)
        den = np.linalg.norm(a, axis=1) * np.linalg.norm(r, axis=1)
        return np.where(den > 0, np.sum(a * r, axis=1) / np.where(den > 0, den, 1), 1.0)

    def samples(self, y):
        """Per sample: 100 if top-1 is right (with labels), else the output's cosine similarity
        to the fp32 run (their mean is the metric; what the bootstrap interval resamples)."""
        if self.labels is not None:
            return 100.0 * (np.argmax(self._flat(y), axis=1) == self.labels)
        return self._cosine(y)

    def score(self, y) -> dict:
        a, r = self._flat(y), self._flat(self.reference)
        cos = self._cosine(y)
        out = {}
        if self.labels is not None:
            out["top1"] = round(100.0 * float(np.mean(np.argmax(a, 1) == self.labels)), 3)
        out["agreement"] = round(100.0 * float(np.mean(np.argmax(a, 1) == np.argmax(r, 1))), 3)
        out["cosine_mean"] = round(float(cos.mean()), 6)
        out["cosine_min"] = round(float(cos.min()), 6)
        nr = float(np.linalg.norm(r))
        out["rel_error"] = float(np.linalg.norm(a - r) / nr) if nr else 0.0
        return out
