"""The bench's reference model: what a unit must output, from the golden model.

One function per golden operation (the manifest's ``model``), all driven by the unit manifest. For accumulating units the model
checks every transition: the expected accumulator after step i is the golden MAC step applied
to the accumulator the DUT showed before step i. A wrong state is reported at the step that
produced it, and every step is checked in one vectorised golden call.
"""
from __future__ import annotations

import numpy as np

from macforge import golden
from macforge.sim._dotstim import deepseek_outputs, dot_outputs
from macforge.sim._lanes import pack_result, result_ports, result_words

__all__ = ["MODELS", "expected_outputs", "output_format", "compare", "interleave",
           "previous_state"]


def output_format(manifest: dict):
    f = manifest["formats"]
    return golden.parse(f.get("out") or f.get("acc"))


def _common(manifest):
    f = manifest["formats"]
    # integer units round nothing: their manifest has no rounding mode
    kw = dict(rounding=manifest.get("rounding") or "rne", saturate=bool(manifest.get("saturate")))
    if manifest.get("rounding") == "sr":
        kw["rnd_bits"] = int(manifest["rnd_bits"])
    # one-operand units (convert) have no b
    return golden.parse(f["a"]), golden.parse(f.get("b", f["a"])), output_format(manifest), kw


def _mul(manifest, stim, fa, fb, fo, kw, observed):
    return golden.mul(stim["a"], stim["b"], fa, fo, fmt_b=fb, **kw)


def _fma(manifest, stim, fa, fb, fo, kw, observed):
    return golden.fma(stim["a"], stim["b"], stim["c"], fa, fo, fmt_b=fb, **kw)


def _add(manifest, stim, fa, fb, fo, kw, observed):
    return golden.add(stim["a"], stim["b"], fa, fo, fmt_y=fb, **kw)


def _lns_add(manifest, stim, fa, fb, fo, kw, observed):
    return golden.lns_add(stim["a"], stim["b"], fa)


def _convert(manifest, stim, fa, fb, fo, kw, observed):
    scale = manifest["formats"].get("scale")
    return golden.convert(stim["a"], fa, fo, scale=stim.get("scale"),
                          scale_fmt=scale or "e8m0", **kw)


def _quantize(manifest, stim, fa, fb, fo, kw, observed):
    """The block quantiser's result rows: its ``y`` lanes (golden.quantize's element codes;
    a block of fewer lanes than the format's is zero-padded, which changes nothing) and its
    ``scale``, concatenated as :func:`sim._lanes.pack_result` does."""
    a = np.asarray(stim["a"])
    k = a.shape[1]
    ts = _tensor_scales(manifest, stim)
    ref = golden.quantize(fa.decode(a.astype(fa.dtype)), fo, rounding=kw["rounding"],
                          tensor_scale=None if ts is None else ts[:, None])
    vals = {"y": ref.elements[:, :k], "scale": ref.scales[:, 0]}
    return pack_result(vals, result_ports(manifest))


def _tensor_scales(manifest, stim):
    """The nv* block units' tensor scale per vector (port ``tscale``), as values; else None."""
    if "tscale" not in stim:
        return None
    ft = golden.parse(manifest["formats"]["tscale"])
    return ft.decode(np.asarray(stim["tscale"]).astype(ft.dtype))


def _dequantize(manifest, stim, fa, fb, fo, kw, observed):
    """The block dequantiser's ``y`` lanes: golden.dequantize of the block (``a`` element
    codes, zero-padded to the format's block; ``scale``; the nv* ``tscale``) rounded once
    into the output format."""
    a = np.asarray(stim["a"]).astype(fa.element.dtype)
    n, k = a.shape
    elems = np.zeros((n, fa.block), a.dtype)
    elems[:, :k] = a
    scales = np.asarray(stim["scale"]).astype(fa.scale.dtype)[:, None]
    ts = _tensor_scales(manifest, stim)
    block = golden.BlockTensor(fa, elems, scales, None if ts is None else ts[:, None],
                               (n, fa.block))
    y = golden.dequantize(block, out=fo, rounding=kw["rounding"])[:, :k]
    return pack_result({"y": y}, result_ports(manifest))


def _lmul(manifest, stim, fa, fb, fo, kw, observed):
    return golden.lmul(stim["a"], stim["b"], fa, fo, variant=manifest["variant"], **kw)


def _stepped(step):
    """A MAC model from its golden step: each step starts from the observed state before it
    (:func:`previous_state`), ``en = 0`` holds, ``clear`` wins (the step functions apply it)."""
    def model(manifest, stim, fa, fb, fo, kw, observed):
        if observed is None:
            raise ValueError("accumulating units are checked against the observed state")
        prev = previous_state(manifest, observed, fo)
        nxt = step(manifest, stim, prev, fa, fb, fo, kw)
        hold = ~stim["en"] & ~stim["clear"]
        return np.where(hold, prev, nxt).astype(fo.dtype)
    return model


def _mac_step(manifest, stim, prev, fa, fb, fo, kw):
    return golden.mac_step(prev, stim["a"], stim["b"], fa, fo, first=stim["first"],
                           clear=stim["clear"], fused=bool(manifest["fused"]),
                           fmt_b=fb, **kw)


def _lmul_mac_step(manifest, stim, prev, fa, fb, fo, kw):
    return golden.lmul_mac_step(prev, stim["a"], stim["b"], fa, fo, first=stim["first"],
                                clear=stim["clear"], variant=manifest["variant"],
                                rounding=kw["rounding"], saturate=kw["saturate"])


def _lns_mac_step(manifest, stim, prev, fa, fb, fo, kw):
    return golden.lns_mac_step(prev, stim["a"], stim["b"], fa, P=int(manifest["P"]),
                               A=int(manifest["A"]), first=stim["first"], clear=stim["clear"],
                               saturate=kw["saturate"])


def _quire_mac(manifest, stim, fa, fb, fo, kw, observed):
    return _quire_outputs(stim, fa)


def _dot(manifest, stim, fa, fb, fo, kw, observed):
    if observed is None:
        raise ValueError("accumulating units are checked against the observed state")
    return dot_outputs(manifest, stim, observed)


def _deepseek_dot(manifest, stim, fa, fb, fo, kw, observed):
    if observed is None:
        raise ValueError("accumulating units are checked against the observed state")
    return deepseek_outputs(manifest, stim, observed)


#: The reference model of each golden operation a unit declares (manifest ``model``).
MODELS = {
    "mul": _mul, "fma": _fma, "lmul": _lmul, "quantize": _quantize,
    "dequantize": _dequantize, "convert": _convert, "add": _add, "lns_add": _lns_add,
    "mac_step": _stepped(_mac_step), "lmul_mac_step": _stepped(_lmul_mac_step),
    "lns_mac_step": _stepped(_lns_mac_step), "quire_mac": _quire_mac, "dot": _dot,
    "deepseek_dot": _deepseek_dot,
}


def expected_outputs(manifest: dict, stim: dict, observed: np.ndarray | None = None) -> np.ndarray:
    """Expected output codes for every vector of ``stim`` (one per input vector).

    The unit's manifest names the golden operation that defines it (``model``, see
    :data:`MODELS`). For units with observed state (``state`` "observed": the MACs, the dot
    units) ``observed`` (the DUT's accumulator after each step) gives the state each step
    starts from; the state before the first step is the reset value 0. A C-slow MAC
    (manifest ``interleave`` S, :class:`hw.FMac` with ``loop_stages``) keeps S accumulators
    and steps accumulator ``i mod S`` with vector i: the state vector i starts from is the
    output of vector ``i - S`` (reset value 0 for the first S).
    """
    model = MODELS.get(manifest.get("model"))
    if model is None:
        raise golden.FormatError(f"no reference model for operation {manifest.get('model')!r} "
                                 f"(unit {manifest['module']}); accepted: " + ", ".join(MODELS))
    fa, fb, fo, kw = _common(manifest)
    rnd = stim.get("rnd")
    if rnd is not None:
        kw["rnd"] = rnd.astype(np.uint64)
    return model(manifest, stim, fa, fb, fo, kw, observed)


def interleave(manifest: dict) -> int:
    """Independent accumulators a unit steps in turn (1 unless C-slow, see expected_outputs)."""
    return int(manifest["interleave"])


def previous_state(manifest: dict, observed: np.ndarray, fo) -> np.ndarray:
    """The accumulator each vector's step starts from: the output ``interleave`` vectors
    before (the reset value 0 before the first ones)."""
    S = interleave(manifest)
    observed = np.asarray(observed).astype(fo.dtype)
    return np.concatenate([np.zeros(min(S, observed.size), fo.dtype), observed[:-S]])


def _quire_outputs(stim: dict, fmt) -> np.ndarray:
    """Rounded quire after each step of a posit MAC (``golden.quire_step`` / ``quire_read``).

    The quire is wider than what the DUT shows, so it cannot be rebuilt from the observed
    read-outs; it is recomputed from the commands instead. A segment starts at every step that
    discards the old quire (an enabled ``first``, or ``clear``; the reset state is cleared too),
    so the segments are independent and are stepped side by side: one vectorised golden call
    per position in a segment, not one per step.
    """
    n = stim["a"].size
    en, first, clear = (np.asarray(stim[k], bool) for k in ("en", "first", "clear"))
    start = (first & en) | clear
    start[0] = True
    seg = np.cumsum(start) - 1
    heads = np.flatnonzero(start)
    pos = np.arange(n) - heads[seg]
    state = golden.quire_zero(fmt, heads.size)
    out = np.zeros(n, np.uint64)
    for j in range(int(pos.max()) + 1 if n else 0):
        idx = np.flatnonzero(pos == j)
        s = seg[idx]
        nxt = golden.quire_step(state[s], stim["a"][idx], stim["b"][idx], fmt,
                                first=first[idx], clear=clear[idx])
        hold = ~en[idx] & ~clear[idx]
        state[s] = np.where(hold[:, None], state[s], nxt)
        out[idx] = golden.quire_read(state[s], fmt)
    return out.astype(fmt.dtype)


def compare(manifest: dict, stim: dict, observed: np.ndarray):
    """Return (expected, indices of mismatching vectors).

    Every output bit is compared: NaN results must be the format's canonical NaN code, as
    docs/formats.md defines them (a unit that returns another NaN payload mismatches).
    """
    if result_words(result_ports(manifest)):     # wide or several result ports: word rows
        observed = np.asarray(observed, np.uint64)
        exp = expected_outputs(manifest, stim, observed)
        bad = np.nonzero((exp != observed).any(axis=1))[0]
        return exp, bad
    fo = output_format(manifest)
    observed = np.asarray(observed).astype(fo.dtype)
    exp = expected_outputs(manifest, stim, observed)
    bad = np.nonzero(exp != observed)[0]
    return exp, bad
