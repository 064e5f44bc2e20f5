"""The bench's reference model: what a unit must output, from the golden model.

One function per unit kind, all driven by the unit manifest. For accumulating units the model
checks every transition: the expected accumulator after step i is the golden MAC step applied
to the accumulator the DUT showed before step i. A wrong state is reported at the step that
produced it, and every step is checked in one vectorised golden call.
"""
from __future__ import annotations

import numpy as np

from macforge import golden

__all__ = ["expected_outputs", "output_format", "compare", "interleave", "previous_state"]


def output_format(manifest: dict):
    f = manifest["formats"]
    return golden.parse(f.get("out") or f.get("acc"))


def _common(manifest):
    f = manifest["formats"]
    # integer units round nothing: their manifest has no rounding mode
    kw = dict(rounding=manifest.get("rounding") or "rne", saturate=bool(manifest.get("saturate")))
    if manifest.get("rounding") == "sr":
        kw["rnd_bits"] = int(manifest["rnd_bits"])
    return golden.parse(f["a"]), golden.parse(f["b"]), output_format(manifest), kw


def expected_outputs(manifest: dict, stim: dict, observed: np.ndarray | None = None) -> np.ndarray:
    """Expected output codes for every vector of ``stim`` (one per input vector).

    For ``mac`` / ``imac`` / ``lmulmac`` units ``observed`` (the DUT's accumulator after each step) gives
    the state each step starts from; the state before the first step is the reset value 0.
    A C-slow MAC (manifest ``interleave`` S, :class:`hw.FMac` with ``loop_stages``) keeps S
    accumulators and steps accumulator ``i mod S`` with vector i: the state vector i starts
    from is the output of vector ``i - S`` (reset value 0 for the first S).
    """
    if manifest["unit"] in ("dot", "idot"):         # k-lane dot units: sim._dotstim
        if observed is None:
            raise ValueError("accumulating units are checked against the observed state")
        from macforge.sim._dotstim import dot_outputs
        return dot_outputs(manifest, stim, observed)
    fa, fb, fo, kw = _common(manifest)
    rnd = stim.get("rnd")
    if rnd is not None:
        kw["rnd"] = rnd.astype(np.uint64)
    unit = manifest["unit"]
    if unit == "mul":
        return golden.mul(stim["a"], stim["b"], fa, fo, fmt_b=fb, **kw)
    if unit == "fma":
        return golden.fma(stim["a"], stim["b"], stim["c"], fa, fo, fmt_b=fb, **kw)
    if unit in ("pmul", "lnsmul"):
        return golden.mul(stim["a"], stim["b"], fa, fo)
    if unit == "lnsmac":
        if observed is None:
            raise ValueError("accumulating units are checked against the observed state")
        prev = previous_state(manifest, observed, fo)
        step = golden.lns_mac_step(prev, stim["a"], stim["b"], fa, P=int(manifest["P"]),
                                   A=int(manifest["A"]), first=stim["first"],
                                   clear=stim["clear"], saturate=kw["saturate"])
        hold = ~stim["en"] & ~stim["clear"]
        return np.where(hold, prev, step).astype(fo.dtype)
    if unit == "pmac":
        return _quire_outputs(stim, fa)
    if unit == "lmul":
        return golden.lmul(stim["a"], stim["b"], fa, fo, variant=manifest["variant"], **kw)
    if unit in ("mac", "imac"):
        if observed is None:
            raise ValueError("accumulating units are checked against the observed state")
        prev = previous_state(manifest, observed, fo)
        step = golden.mac_step(prev, stim["a"], stim["b"], fa, fo, first=stim["first"],
                               clear=stim["clear"], fused=bool(manifest.get("fused", True)),
                               fmt_b=fb, **kw)
        hold = ~stim["en"] & ~stim["clear"]
        return np.where(hold, prev, step).astype(fo.dtype)
    if unit == "lmulmac":
        if observed is None:
            raise ValueError("accumulating units are checked against the observed state")
        prev = previous_state(manifest, observed, fo)
        step = golden.lmul_mac_step(prev, stim["a"], stim["b"], fa, fo, first=stim["first"],
                                    clear=stim["clear"], variant=manifest["variant"],
                                    rounding=kw["rounding"], saturate=kw["saturate"])
        hold = ~stim["en"] & ~stim["clear"]
        return np.where(hold, prev, step).astype(fo.dtype)
    raise golden.FormatError(f"no model for unit {unit!r}; accepted: mul, fma, mac, imac, lmul, lmulmac, pmul, pmac, lnsmul, lnsmac, dot, idot")


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
    FORMATS.md defines them (a unit that returns another NaN payload mismatches).
    """
    fo = output_format(manifest)
    observed = np.asarray(observed).astype(fo.dtype)
    exp = expected_outputs(manifest, stim, observed)
    bad = np.nonzero(exp != observed)[0]
    return exp, bad
