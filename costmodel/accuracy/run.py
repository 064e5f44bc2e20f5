"""Run a model's inference with every matmul on an emulated unit (post-training quantisation).

A model (``digits``, ``minilm``) exposes ``layer_names`` (its matmul/conv layers in order),
``forward(X, mm)`` calling ``mm(name, x_mk, w_nk)`` for each matmul (activations (M, K) by
weights (N, K); activation x activation products pass ``w`` as an activation),
``calibration_inputs()``, ``test_inputs()`` and ``score(outputs, reference)``.

* :class:`FloatMatmul` -- the float model (float32, numpy/BLAS);
* :class:`Calibrator` -- the float model, recording each layer's input for calibration;
* :class:`EmulatedMatmul` -- each layer quantised (weights once, activations with the
  calibrated scale, or per block) and accumulated bit-exactly on its unit
  (:mod:`costmodel.accuracy.emulate`), optionally sampling the layer's real operand codes for
  the cost model's activity.
"""
from __future__ import annotations

import numpy as np

from macforge.progress import status

from .emulate import matmul
from .quant import calibrate, quantize_act, quantize_weight, scale_for
from .units import UnitSpec, unit_spec

__all__ = ["FloatMatmul", "Calibrator", "EmulatedMatmul", "Model", "layer_specs", "evaluate"]


class FloatMatmul:
    """``x @ w.T`` in float32 (the float model)."""

    def __call__(self, name, x, w):
        return np.asarray(x, np.float32) @ np.asarray(w, np.float32).T


class Calibrator(FloatMatmul):
    """The float model, keeping up to ``keep`` samples of |x| per layer (seeded subsample)."""

    def __init__(self, keep: int = 1_000_000, seed: int = 0):
        self.samples: dict[str, list] = {}
        self.keep = keep
        self.rng = np.random.default_rng(seed)

    def __call__(self, name, x, w):
        a = np.abs(np.asarray(x, np.float32)).ravel()
        if a.size > self.keep:
            a = a[self.rng.choice(a.size, self.keep, replace=False)]
        self.samples.setdefault(name, []).append(a)
        return super().__call__(name, x, w)

    def amax(self, method: str = "max") -> dict:
        return {k: calibrate(np.concatenate(v), method) for k, v in self.samples.items()}


class Model:
    """What ``digits`` and ``minilm`` share: calibration on the float model, and its outputs on
    the test inputs (the reference of ``score``). Subclasses set ``layer_names`` and define
    ``forward``, ``calibration_inputs``, ``test_inputs``, ``score`` and ``graph``."""
    float_matmul = FloatMatmul()
    calibration_keep = 1_000_000          #: |x| samples kept per layer for percentiles

    def calibration(self, methods) -> dict:
        """{method: {layer: amax}} from the float model on the calibration inputs (cached)."""
        calib = self.__dict__.setdefault("_calib", {})
        missing = [m for m in methods if m not in calib]
        if missing:
            cal = Calibrator(keep=self.calibration_keep)
            self.forward(self.calibration_inputs(), cal)
            for m in missing:
                calib[m] = cal.amax(m)
        return {m: calib[m] for m in methods}

    @property
    def reference(self):
        """The float model's outputs on the test inputs (computed once)."""
        if "_reference" not in self.__dict__:
            self._reference = self.forward(self.test_inputs(), self.float_matmul)
        return self._reference


def layer_specs(spec, layer_names) -> dict:
    """Per-layer :class:`UnitSpec`: a dict passes through (names checked); a spec with
    ``keep=`` puts its first and last layer on the ``keep`` format (mixed precision)."""
    if isinstance(spec, dict):
        missing = [n for n in layer_names if n not in spec]
        if missing:
            raise ValueError(f"mixed-precision map lacks layers {', '.join(missing)}")
        return {n: unit_spec(spec[n]) for n in layer_names}
    spec = unit_spec(spec)
    out = {n: spec for n in layer_names}
    if spec.keep:
        kept = unit_spec(spec.keep)
        out[layer_names[0]] = kept
        out[layer_names[-1]] = kept
    return out


class EmulatedMatmul:
    """The quantised network's matmul hook (see module docstring).

    Parameters
    ----------
    specs : dict
        layer name -> UnitSpec.
    amax : dict
        calibrated activation absolute maxima, ``{method: {layer: amax}}``.
    fast : bool
        Use the proven fast paths (:mod:`costmodel.accuracy.emulate`).
    activity : int
        Operand code pairs to sample per layer (0: none) into ``self.activity``.
    """

    def __init__(self, specs: dict, amax: dict, fast: bool = True, activity: int = 0,
                 seed: int = 0):
        self.specs, self.amax, self.fast = specs, amax, fast
        self.n_activity = activity
        self.activity: dict[str, dict] = {}
        self.rng = np.random.default_rng(seed)
        self._w = {}
        self.calls = 0                  # matmuls emulated (the status line counts them)

    def _amax(self, name, spec: UnitSpec):
        return self.amax[spec.calibration][name]

    def __call__(self, name, x, w):
        spec = self.specs[name]
        status(f"emulating {name} on {spec.name} ({self.calls} matmuls so far)")
        self.calls += 1
        x = np.asarray(x, np.float64)
        lead, K = x.shape[:-1], x.shape[-1]
        x2 = x.reshape(-1, K)
        w = np.asarray(w)
        cached = self._w.get(name)
        if cached is not None and cached[0] is w:       # the same weight array (held here)
            qw = cached[1]
        else:
            qw = quantize_weight(w.reshape(-1, K), spec)
            self._w[name] = (w, qw)
        scale = scale_for(self._amax(name, spec), spec) if spec.scaled else 1.0
        qa = quantize_act(x2, spec, scale)
        if self.n_activity and spec.is_block:
            self._sample_block(name, qa.block, qw.block, spec.unit_args()["lanes"])
        elif self.n_activity:
            self._sample(name, qa.codes, qw.codes)
        y = matmul(spec, qa, qw, self.fast)
        return y.reshape(*lead, -1)

    def _sample(self, name, A, W):
        n = self.n_activity
        m = self.rng.integers(0, A.shape[0], n)
        j = self.rng.integers(0, W.shape[0], n)
        k = self.rng.integers(0, A.shape[1], n)
        d = self.activity.setdefault(name, {"a": [], "b": []})
        d["a"].append(A[m, k].astype(np.uint64))
        d["b"].append(W[j, k].astype(np.uint64))

    def _sample_block(self, name, A, W, k):
        """Steps of a k-lane block dot unit: k consecutive element codes of a random row of
        each operand (a lane group inside one block) and the two blocks' scale codes."""
        n = self.n_activity
        A2 = A.elements.reshape(-1, A.elements.shape[-1])
        As = A.scales.reshape(-1, A.scales.shape[-1])
        m = self.rng.integers(0, A2.shape[0], n)
        j = self.rng.integers(0, W.elements.shape[0], n)
        k0 = self.rng.integers(0, A2.shape[1] // k, n) * k
        lanes = k0[:, None] + np.arange(k)
        blk = k0 // A.fmt.block
        d = self.activity.setdefault(name, {"a": [], "b": [], "sa": [], "sb": []})
        d["a"].append(A2[m[:, None], lanes].astype(np.uint64))
        d["b"].append(W.elements[j[:, None], lanes].astype(np.uint64))
        d["sa"].append(As[m, blk].astype(np.uint64))
        d["sb"].append(W.scales[j, blk].astype(np.uint64))

    def activity_codes(self) -> dict:
        """layer -> {"a": codes, "b": codes}: real operand pairs in the order a MAC sees them
        within a dot product's random positions (uniformly sampled); block formats: (n, k)
        lane codes and the ``sa``/``sb`` scale codes of a k-lane dot unit's steps."""
        return {k: {p: np.concatenate(v[p])[: self.n_activity] for p in v}
                for k, v in self.activity.items()}


def evaluate(model, spec, fast: bool = True, activity: int = 0, progress=None,
             keep_outputs: bool = False) -> dict:
    """Quantise ``model`` to ``spec`` (name, UnitSpec or per-layer dict) and score it.

    Returns ``{"metrics": {...}, "specs": {layer: UnitSpec}, "activity": {...}}`` (and the
    test ``outputs`` with ``keep_outputs``); the float model's outputs on the test inputs are
    the reference of ``model.score``.
    """
    specs = layer_specs(spec, model.layer_names)
    amax = model.calibration(sorted({s.calibration for s in specs.values()}))
    mm = EmulatedMatmul(specs, amax, fast=fast, activity=activity)
    out = model.forward(model.test_inputs(), mm)
    res = {"metrics": model.score(out), "specs": specs, "activity": mm.activity_codes()}
    if keep_outputs:
        res["outputs"] = out
    return res
