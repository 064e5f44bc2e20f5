"""What kind of wrong: the mismatches of a run sorted into classes, with a CSV of every one.

A count says that a unit is wrong; the class says how. :func:`diagnose` looks at every
mismatch (expected vs observed output code, decoded by the output format) and gives each one
class, first match wins:

``latency``
    The outputs equal the golden model's when read ``d`` cycles later (or earlier): the whole
    run is re-compared with the outputs shifted (:func:`sim.model.compare`, so MACs too) and a
    shift that leaves (almost) nothing wrong names the latency that fits.
``nan-encoding``
    Both are NaN, with another code (a payload or sign passed through; ``--nan any`` accepts).
``zero-sign``
    Both are zero, of opposite signs.
``underflow-flushed``
    The output is zero where the result is a nonzero number below the smallest normal.
``overflow-inf-vs-max``
    One is infinite, the other the largest finite number of the same sign (saturation policy);
    in a format without infinity (e4m3fn) NaN is what overflows, so NaN counts as infinite.
``ulp``
    Both finite: off by ``k`` units in the last place, ``k`` counted over the representable
    values between them (a histogram of ``k`` is reported).
``other``
    Anything else (a NaN or infinity for a number, a wrong sign, ...).

:func:`write_csv` writes every mismatch: vector index, input codes, expected and observed
codes, their decoded values, class and ulp distance.

**Results of several ports** (a result wider than 64 bits or of more than one output port: the
deepseek-fp8 unit's ``reg`` and ``acc``, the block quantiser's ``y`` lanes and ``scale``) are
``(n, words64)`` rows (:mod:`sim._lanes`). Each mismatch is then classified on its first
differing field -- port, and lane of a lane port -- decoded by that port's format (the
manifest's ``formats[port]``, the element format for lanes, else the output format), and the
reports name the field (:attr:`Diagnosis.fields`, :func:`describe_result`).
"""
from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from macforge import provenance
from macforge.sim import model
from macforge import golden
from macforge.sim._lanes import (format_lanes, result_ports, result_words, unpack_result,
                                 words_to_ints)

__all__ = ["CLASSES", "NAN_POLICIES", "Diagnosis", "accept_nans", "diagnose", "ulp_distance",
           "write_csv", "describe_result", "code_text"]

CLASSES = ("latency", "nan-encoding", "zero-sign", "underflow-flushed", "overflow-inf-vs-max",
           "ulp", "other")
NAN_POLICIES = ("canonical", "any")
_LATENCY_PROBE = 1 << 16        # vectors re-compared per candidate shift
_SHIFTS = (1, 2, 3, 4, 5, 6, 7, 8)


@dataclass
class Diagnosis:
    """The classes of a run's mismatches (:func:`diagnose`)."""
    classes: np.ndarray               # one class name per mismatch (aligned with ``bad``)
    ulps: np.ndarray                  # ulp distance per mismatch (-1 where not both finite)
    latency_fit: int | None = None    # the latency the outputs fit, for class "latency"
    counts: dict = field(default_factory=dict)
    hist: dict | None = None          # set when merged from chunks (:meth:`merge`)
    fields: np.ndarray | None = None  # several result ports: the first differing field each

    def histogram(self) -> dict:
        """{k: count} of the ``ulp`` class (k > 8 grouped by powers of two: ``"9-16"``, ...)."""
        if self.hist is not None:
            return dict(self.hist)
        ks = self.ulps[self.classes == "ulp"]
        hist = Counter()
        for k, c in zip(*np.unique(ks, return_counts=True)):
            k = int(k)
            if k <= 8:
                hist[str(k)] += int(c)
            else:
                hi = 1 << (k - 1).bit_length()
                hist[f"{hi // 2 + 1}-{hi}"] += int(c)
        return dict(hist)


def _port_format(manifest, port):
    """The format of one result port's codes (lanes: the element format), or None."""
    f = manifest["formats"]
    name = f.get(port["name"])
    if name is None and port["name"] in manifest.get("elements", {}):   # block units' lanes
        name = manifest["elements"][port["name"]]
    if name is None and port.get("role") == "scale" and manifest.get("scale"):
        name = manifest["scale"]                # a quantiser's block-scale output
    return golden.parse(name) if name is not None else None


def _fields(manifest, codes):
    """[(field label, format or None, (n,) codes)] of result rows or a plain column: one entry
    ``(None, output format, codes)`` for a plain result; else one per port (and lane)."""
    ports = result_ports(manifest)
    codes = np.asarray(codes)
    if not result_words(ports):
        return [(None, model.output_format(manifest), codes)]
    out = []
    for p, v in zip(ports, unpack_result(codes, ports).values()):
        fmt = _port_format(manifest, p)
        if v.ndim == 2 and "lanes" in p:
            out += [(f"{p['name']}[{i}]", fmt, v[:, i]) for i in range(v.shape[1])]
        elif v.ndim == 2:                  # a port wider than 64 bits: its words
            out += [(f"{p['name']}.w{j}", None, v[:, j]) for j in range(v.shape[1])]
        else:
            out.append((p["name"], fmt, v))
    return out


def _first_difference(manifest, expected, observed):
    """Per vector of ``expected``/``observed`` (already the mismatching ones): the field
    index of the first differing field, and the field list of both."""
    fe, fo_ = _fields(manifest, expected), _fields(manifest, observed)
    which = np.full(len(fe[0][2]), -1, np.int64)
    for j in range(len(fe) - 1, -1, -1):
        which = np.where(fe[j][2] != fo_[j][2], j, which)
    return which, fe, fo_


def accept_nans(manifest: dict, expected, observed, bad) -> np.ndarray:
    """``bad`` without the mismatches where both codes are NaN (``--nan any``); a result of
    several fields must have every differing field a pair of NaNs."""
    if bad.size == 0:
        return bad
    fe, fo_ = (_fields(manifest, np.asarray(x)[bad]) for x in (expected, observed))
    ok = np.ones(bad.size, bool)
    for (_, fmt, e), (_, _, o) in zip(fe, fo_):
        differs = e != o
        if fmt is None:
            ok &= ~differs
            continue
        both = np.isnan(_values(fmt, e)) & np.isnan(_values(fmt, o))
        ok &= ~differs | both
    return bad[~ok]


def describe_result(manifest: dict, code) -> str:
    """One result as text: ``0x3c (1)`` for a plain result; ``reg=0x... (v) acc=0x... (v)``
    (lane ports as ``[k lanes: ...]``) for a result of several fields."""
    ports = result_ports(manifest)
    if not result_words(ports):
        return code_text(model.output_format(manifest), code)
    row = np.asarray(code, np.uint64).reshape(1, -1)
    parts = []
    for p, v in zip(ports, unpack_result(row, ports).values()):
        fmt = _port_format(manifest, p)
        if "lanes" in p:
            parts.append(f"{p['name']}={format_lanes(v[0], p['lane_bits'])}")
        elif v.ndim == 2 or fmt is None:
            w = (p["width"] + 3) // 4
            parts.append(f"{p['name']}=0x{int(np.asarray(v).reshape(-1)[0]):0{w}x}"
                         if v.ndim == 1 else f"{p['name']}=<{p['width']} bits>")
        else:
            parts.append(f"{p['name']}={code_text(fmt, v[0])}")
    return " ".join(parts)


def code_text(fmt, code) -> str:
    """``0x3c (1)``: a code of ``fmt`` in hex with its value."""
    width = (fmt.bits + 3) // 4
    val = float(_values(fmt, np.array([code]))[0])
    return f"0x{int(code):0{width}x} ({val:.9g})"


def _values(fmt, codes) -> np.ndarray:
    return np.asarray(fmt.decode(np.asarray(codes).astype(fmt.dtype)), dtype=np.float64)


@lru_cache(maxsize=16)
def _rank_table(fmt) -> np.ndarray:
    """Formats of up to 16 bits: the rank of each code among the distinct finite values
    (zeros share one rank), so the ulp distance is a difference of ranks (any code order,
    e.g. HiF8's)."""
    vals = _values(fmt, np.arange(1 << fmt.bits))
    fin = np.isfinite(vals)
    uniq = np.unique(vals[fin] + 0.0)            # -0.0 -> 0.0
    rank = np.full(vals.size, -1, np.int64)
    rank[fin] = np.searchsorted(uniq, vals[fin] + 0.0)
    rank.flags.writeable = False
    return rank


@lru_cache(maxsize=16)
def _code_order(fmt) -> str | None:
    """How codes of a wide format are ordered by value, found from the format itself:
    "sign-magnitude" (the upper half decreases: IEEE-like), "twos" (it increases: posits,
    takums, signed integers; unsigned formats too), or None."""
    half = 1 << (fmt.bits - 1)
    probe = np.linspace(half, (1 << fmt.bits) - 1, 4097).astype(np.uint64)
    v = _values(fmt, probe)
    v = v[~np.isnan(v)]
    d = np.diff(v)
    if v.size > 2 and np.all(d <= 0):
        return "sign-magnitude"
    if v.size > 2 and np.all(d >= 0):
        return "twos"
    return None


def ulp_distance(fmt, a, b) -> np.ndarray:
    """Representable values between codes ``a`` and ``b`` of ``fmt`` (finite ones; -1 where
    either is not finite or the format's code order is unknown)."""
    a = np.asarray(a).astype(np.uint64)
    b = np.asarray(b).astype(np.uint64)
    if fmt.bits <= 16:
        rank = _rank_table(fmt)
        ra, rb = rank[a.astype(np.int64)], rank[b.astype(np.int64)]
        return np.where((ra < 0) | (rb < 0), -1, np.abs(ra - rb))
    order = _code_order(fmt)
    fin = np.isfinite(_values(fmt, a)) & np.isfinite(_values(fmt, b))
    if order is None:
        return np.full(a.shape, -1, np.int64)
    half = np.uint64(1 << (fmt.bits - 1))

    def ordinal(c):
        c = c.astype(np.int64)
        if order == "sign-magnitude":
            mag = c & (int(half) - 1)
            return np.where(c & int(half), -mag, mag)
        return np.where(c >= int(half), c - (1 << fmt.bits), c)
    return np.where(fin, np.abs(ordinal(a) - ordinal(b)), -1)


def _latency_fit(manifest, stim, observed, nbad):
    """(shift, fitting latency) when the outputs read ``shift`` cycles later (later: a slower
    unit; earlier: negative, stateless units only) match the golden model, else None."""
    n = int(observed.size)
    m = min(n, _LATENCY_PROBE)
    lat = int(manifest.get("latency", 0))
    stateless = manifest.get("state", "none") == "none"
    base = model.compare(manifest, {k: np.asarray(v)[:m] for k, v in stim.items()},
                         observed[:m])[1].size
    if base == 0:
        return None
    best = None
    for d in _SHIFTS + (tuple(-s for s in _SHIFTS) if stateless else ()):
        if d > 0 and m - d > 0:           # vector i's output appears at slot i + d
            s = {k: np.asarray(v)[:m - d] for k, v in stim.items()}
            o = observed[d:m]
        elif d < 0 and lat + d >= 0 and m + d > 0:
            s = {k: np.asarray(v)[-d:m] for k, v in stim.items()}
            o = observed[:m + d]
        else:
            continue
        bad = model.compare(manifest, s, o)[1].size
        if bad <= max(1, o.size // 1000) and bad < base:
            if best is None or bad < best[1]:
                best = (d, bad)
    return (best[0], lat + best[0]) if best else None


def diagnose(manifest: dict, stim: dict, expected, observed, bad) -> Diagnosis:
    """Classify every mismatch ``bad`` (indices into the run) of a run: see the module doc."""
    expected = np.asarray(expected)
    observed = np.asarray(observed)
    classes = np.full(bad.size, "other", dtype=object)
    ulps = np.full(bad.size, -1, np.int64)
    if bad.size == 0:
        return Diagnosis(classes, ulps)
    fit = _latency_fit(manifest, stim, observed, bad.size)
    if fit is not None:
        classes[:] = "latency"
        return Diagnosis(classes, ulps, fit[1], {"latency": int(bad.size)})
    which, fe, fo_ = _first_difference(manifest, expected[bad], observed[bad])
    for j, (label, fmt, e) in enumerate(fe):
        sel = which == j
        if sel.any() and fmt is not None:
            classes[sel], ulps[sel] = _classify(fmt, e[sel], fo_[j][2][sel])
    names, counts = np.unique(classes.astype(str), return_counts=True)
    order = {c: i for i, c in enumerate(CLASSES)}
    cnt = dict(sorted(zip(names.tolist(), counts.tolist()), key=lambda kv: order[kv[0]]))
    fields = None if fe[0][0] is None else np.array([fe[j][0] for j in which], dtype=object)
    return Diagnosis(classes, ulps, None, cnt, fields=fields)


def _classify(fo, e, o):
    """(classes, ulp distances) of mismatching code pairs ``e`` (expected), ``o`` of ``fo``."""
    classes = np.full(e.size, "other", dtype=object)
    ev, ov = _values(fo, e), _values(fo, o)
    ulps = ulp_distance(fo, e, o).astype(np.int64)
    tiny = getattr(fo, "min_normal", None)
    fmax = float(fo.max)
    rules = [
        ("nan-encoding", np.isnan(ev) & np.isnan(ov)),
        ("zero-sign", (ev == 0) & (ov == 0)),
        ("underflow-flushed", (ov == 0) & np.isfinite(ev) & (ev != 0)
         & ((np.abs(ev) < tiny) if tiny else True)),
        # a format without infinity overflows to NaN (e4m3fn): NaN stands for inf there
        ("overflow-inf-vs-max",
         (np.isinf(ev) & (np.abs(ov) == fmax) & (np.sign(ev) == np.sign(ov)))
         | (np.isinf(ov) & (np.abs(ev) == fmax) & (np.sign(ev) == np.sign(ov)))
         | (not getattr(fo, "has_inf", False)) & ((np.isnan(ev) & (np.abs(ov) == fmax))
                                         | (np.isnan(ov) & (np.abs(ev) == fmax)))),
        ("ulp", np.isfinite(ev) & np.isfinite(ov) & (ulps > 0)),
    ]
    done = np.zeros(e.size, bool)
    for name, hit in rules:
        hit = np.asarray(hit, bool) & ~done
        classes[hit] = name
        done |= hit
    return classes, ulps


def write_csv(path, manifest: dict, stim: dict, expected, observed, bad, diag: Diagnosis, *,
              base: int = 0, append: bool = False) -> int:
    """Write every mismatch as a CSV row; return the number of rows.

    Columns: ``vector``, one per input port (hex codes; lane ports as ``[k lanes: ...]``),
    ``acc_before`` (units with state), ``expected``, ``got`` (hex), ``field`` (results of
    several fields: the first differing one), ``expected_value``, ``got_value`` (decoded, of
    that field; ``repr`` of the float64), ``class``, ``ulp`` (-1: not counted).
    ``base`` is added to the vector numbers; ``append`` adds rows to an existing file (a
    streamed run writes one chunk at a time; the header is written when the file is new).
    """
    ports = {p["name"]: p for p in manifest["ports"]}
    ins = [p["name"] for p in manifest["ports"]
           if p["dir"] == "in" and p["name"] in stim]
    stateful = manifest.get("state", "none") != "none"
    S = model.interleave(manifest)
    res = result_ports(manifest)
    wide = bool(result_words(res))
    width = (sum(p["width"] for p in res) + 3) // 4
    observed = np.asarray(observed)
    e, o = np.asarray(expected)[bad], observed[bad]
    which, fe, fo_ = _first_difference(manifest, e, o)
    ev, ov = np.full(bad.size, np.nan), np.full(bad.size, np.nan)
    for j, (_, fmt, ec) in enumerate(fe):
        sel = which == j
        if sel.any() and fmt is not None:
            ev[sel], ov[sel] = _values(fmt, ec[sel]), _values(fmt, fo_[j][2][sel])
    field = [fe[j][0] if j >= 0 else "" for j in which]

    def whole(codes):                  # one integer per result (rows of words joined)
        return words_to_ints(codes) if wide else [int(v) for v in codes]
    e, o = whole(e), whole(o)
    before = whole(observed[[i - S for i in bad.tolist() if i >= S]]) if stateful else []
    before = iter(before)

    def hexcol(name, idx):
        col = np.asarray(stim[name])
        if col.ndim == 2:
            return [format_lanes(col[i], ports[name]["lane_bits"], limit=col.shape[1])
                    for i in idx]
        w = (ports[name]["width"] + 3) // 4
        return [f"0x{int(v):0{w}x}" for v in col[idx]]
    cols = [hexcol(p, bad) for p in ins]
    new = not append or not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a" if append else "w", newline="") as fh:
        wr = csv.writer(fh)
        if new:                         # provenance first, as every macforge CSV (read_csv)
            fh.write(f"# {provenance.line()}\n")
            wr.writerow(["vector", *ins, *(["acc_before"] if stateful else []), "expected", "got",
                         *(["field"] if wide else []), "expected_value", "got_value", "class",
                         "ulp"])
        for j, i in enumerate(bad.tolist()):
            acc = ([f"0x{next(before) if i >= S else 0:0{width}x}"] if stateful else [])
            wr.writerow([base + i, *(c[j] for c in cols), *acc, f"0x{e[j]:0{width}x}",
                         f"0x{o[j]:0{width}x}", *([field[j]] if wide else []),
                         repr(float(ev[j])), repr(float(ov[j])), diag.classes[j],
                         int(diag.ulps[j])])
    return int(bad.size)
