"""Timed simulation of the mapped gate netlist: every transition, glitches included, and
energy per operation from the library's figures.

Delay model: inertial, with pin-to-pin arc delays
--------------------------------------------------
Each arc (input pin -> output pin) of a cell instance has a delay ``d`` (ps, from a *delay
provider*, below). Let ``w`` be the output's fastest arc. The cell is a transport delay line
of ``d - w`` on every input pin, its Boolean function, then an inertial delay ``w`` (VHDL's
default ``after`` semantics): the output takes a new value ``w`` after the function does,
provided the function holds that value for ``w``; a pulse narrower than ``w`` is rejected
and the output keeps its value. So an arc still takes exactly ``d``, and a gate does not
pass a glitch shorter than its own delay -- a gate that has not finished switching cannot
switch back. Pure transport (``inertial=False``: every pulse propagates, however short)
is kept for comparison; on the int8 x int8 multiplier it counts 6.1x the zero-delay
transitions against 1.7x inertial (2,000 uniform operand pairs), because there 1-ps skews
between a gate's inputs become full-swing pulses.

Both models have an exact definition, which the tests check against an event-driven
reference written independently (``tests/test_timed_energy.py``, a heapq simulator).
``glitch_factor`` (timed over zero-delay transitions) is reported with every result.

Delays are rounded to a grid of ``grid_ps`` (default 1 ps); events that round to the same
instant are simultaneous.

Vectorised across operand samples, levelised: cells are evaluated once each, in
topological order, for all samples at once. A net's waveform is its value before the
transition in every sample plus its events, one sorted array of keys (sample << 32 |
time) and the value after each: only real changes are stored, so the work is proportional
to the events, not to samples x time steps. A cell's candidate instants are its inputs'
event keys shifted by the arc delays; its inputs' values there come from one binary search
per pin, its function is evaluated on all candidates in one numpy expression, and the
inertial rule is one comparison of each change with the next one of the same sample.
A sample is one operation: the transition from the previous operand vector to the next
(combinational units), or one clock cycle of one stream (units with flip-flops: primary
inputs switch at t = 0, flip-flop outputs at their clock-to-Q delay).

Delay providers
---------------
A delay provider is a function ``provider(netlist) -> list``: for each cell instance (in
``netlist.cells`` order) a dict ``{(input pin, output pin): delay ps}``. Flip-flops give the
arc ``(clock pin, Q)``. :func:`library_delays` is the default: the library's NLDM tables at
each arc's input slew and output load, :func:`costmodel.sta.arc_delays` (the critical path
uses the same delays).
:func:`zero_delays` makes every arc 0 ps (then the timed counts equal the zero-delay ones).

Energy
------
Per operation, in pJ, from the library's figures (no fitted constant):

* switching: every transition of a net charges or discharges its load, C V^2 / 2, with C the
  sink pins' capacitance plus the wire-load estimate (:mod:`costmodel.netlist`);
* internal: every output transition of a cell costs the cell's internal energy from the
  Nangate tables at that net's load; every transition of an input pin with hidden power
  (a flip-flop's D) costs that pin's energy (:mod:`costmodel._power45`);
* clock: every cycle, each flip-flop's CK pin toggles twice (its hidden energy, twice) and
  the clock net's load is charged and discharged (C V^2);
* leakage: the cells' leakage from the library (``cell_leakage_power``; :mod:`costmodel._power45`
  only where a library lacks it) times the clock period (``period_ps``: the clock the unit
  runs at; :func:`costmodel.api.asic_cost` gives the unit's critical path, one operation
  per cycle at its own fastest clock).

V is the library's characterisation voltage (1.1 V, Nangate typical).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._power45 import VDD, internal_fj, leakage_nw, pin_fj
from .netlist import GateNetlist, NetlistError, _py_expr
from .sta import arc_delays

__all__ = ["DelayProvider", "library_delays", "zero_delays", "from_arc_delays", "propagate", "timed_toggles",
           "energy_breakdown", "timed_energy", "TIMED_VERSION", "MAX_SAMPLES"]

#: Bump when the timed simulation or its energy model changes (part of cached keys).
TIMED_VERSION = 2
#: Upper bound of operand samples of one timed run (memory and time stay bounded).
MAX_SAMPLES = 50_000

DelayProvider = Callable[[GateNetlist], list]

_ONES8 = np.uint8(0xFF)
_ZERO8 = np.uint8(0)


def from_arc_delays(ad, net: GateNetlist) -> list:
    """A delay provider's result from static timing's per-instance arcs: ``ad.delay_ps``
    aligned with ``net.cells``, ``{input pin: (rise ps, fall ps)}`` (the form of
    ``costmodel.sta.arc_delays``). Each arc takes its worse edge, as the critical path does,
    so the timed simulation settles within the reported critical path."""
    out = []
    for c, arcs in zip(net.cells, ad.delay_ps):
        out.append({(ip, op): float(max(rf)) for ip, rf in arcs.items() for op in c.outputs})
    return out


def library_delays(net: GateNetlist) -> list:
    """Per instance ``{(in pin, out pin): ps}`` from the library's NLDM tables: the worse edge
    of each arc of :func:`costmodel.sta.arc_delays` (slews propagated, loads of the netlist)."""
    return from_arc_delays(arc_delays(net), net)


def zero_delays(net: GateNetlist) -> list:
    """Every arc 0 ps: the timed simulation then counts the zero-delay transitions."""
    return [{a: 0.0 for a in arcs} for arcs in library_delays(net)]


_FN = {}


def _cell_fn(lc, pin):
    """Compiled ``f(*input pin words, ONES, ZERO)`` of output ``pin`` (pins sorted)."""
    k = (lc.name, pin, lc.function[pin])
    if k not in _FN:
        args = sorted(lc.inputs)
        expr = _py_expr(lc.function[pin], lambda p: f"_{p}")
        _FN[k] = (eval(f"lambda {', '.join('_' + a for a in args)}, ONES, ZERO: {expr}"), args)
    return _FN[k]


def _grid(delays, cells, grid_ps):
    out = []
    for i, c in enumerate(cells):
        arcs = delays[i]
        g = {}
        for a, ps in arcs.items():
            if not ps >= 0:
                raise NetlistError(f"delay of {c.name} {a[0]}->{a[1]} is {ps} ps; "
                                   "delays must be >= 0")
            g[a] = int(round(ps / grid_ps))
            if g[a] >= _T0 // 4:
                raise NetlistError(f"delay of {c.name} {a[0]}->{a[1]} is {ps} ps; the timed "
                                   f"simulation takes arcs below {_T0 // 4 * grid_ps:g} ps")
        out.append(g)
    return out


_SHIFT = np.int64(32)              # event key: sample << 32 | time (grid units)
_TMASK = np.int64((1 << 32) - 1)
#: time origin on the grid: sources switch at _T0 + launch, so looking back by an arc
#: delay (< _T0) never leaves the sample's part of the key space
_T0 = 1 << 30


class _Wave:
    """A net's waveform over S samples: ``init`` (S,) uint8 value before any event, and its
    events sorted by key (sample << 32 | time), each a change to ``val``."""
    __slots__ = ("init", "key", "val")

    def __init__(self, init, key, val):
        self.init, self.key, self.val = init, key, val

    def at(self, q):
        """Values at query keys ``q`` (the latest event at or before, else ``init``)."""
        if self.key.size == 0:
            return self.init[q >> _SHIFT]
        i = np.searchsorted(self.key, q, side="right") - 1
        j = np.maximum(i, 0)
        same = (i >= 0) & ((self.key[j] >> _SHIFT) == (q >> _SHIFT))
        return np.where(same, self.val[j], self.init[q >> _SHIFT])


def _changes(key, y, y0):
    """Keep the candidates at which y differs from its previous value in the same sample."""
    s = key >> _SHIFT
    prev = np.empty_like(y)
    prev[0:1] = y0[s[0:1]]
    first = np.ones(key.size, dtype=bool)
    first[1:] = s[1:] != s[:-1]
    prev[1:] = y[:-1]
    prev = np.where(first, y0[s], prev)
    keep = y != prev
    return key[keep], y[keep]


def _reject_pulses(key, val, y0, w):
    """Inertial filter of the change list (``key``, ``val``; alternating per sample): a
    change survives only if its sample does not change again within ``w``; the output
    holds its value otherwise. Returns the output's changes (same times)."""
    if key.size == 0:
        return key, val
    s = key >> _SHIFT
    t = key & _TMASK
    stable = np.ones(key.size, dtype=bool)
    same = s[1:] == s[:-1]
    stable[:-1] = ~same | (t[1:] - t[:-1] >= w)
    return _changes(key[stable], val[stable], y0)


def propagate(net: GateNetlist, before: dict, after: dict, launch: dict, delays: list,
              grid_ps: float = 1.0, inertial: bool = True, tick=None) -> np.ndarray:
    """Timed simulation of one chunk of samples through the combinational cells.

    Parameters
    ----------
    before, after : dict
        Source net -> (W,) uint64 words: its value before and after the sample's transition
        (sample i in bit i % 64 of word i // 64). Sources are the primary input nets and the
        flip-flop outputs; nets 0/1 are the constants.
    launch : dict
        Source net -> time (ps) at which it switches (missing: 0).
    delays : list
        A delay provider's result for ``net``.
    tick : callable, optional
        Called as ``tick(cells done, cells)`` every 512 cells.

    Returns
    -------
    ndarray
        (n_nets,) int64: value changes of every net, all samples, glitches included.
    """
    lib = net.library.cells
    words = len(next(iter(after.values()))) if after else 1
    n_s = 64 * words
    dgrid = _grid(delays, net.cells, grid_ps)
    toggles = np.zeros(net.n_nets, dtype=np.int64)
    no_key = np.zeros(0, dtype=np.int64)
    no_val = np.zeros(0, dtype=np.uint8)
    waves = {0: _Wave(np.zeros(n_s, np.uint8), no_key, no_val),
             1: _Wave(np.ones(n_s, np.uint8), no_key, no_val)}

    def bits(w):
        return np.unpackbits(np.ascontiguousarray(w, dtype=np.uint64).view(np.uint8),
                             bitorder="little")

    for n, v1 in after.items():
        b0, b1 = bits(before[n]), bits(v1)
        s = np.flatnonzero(b0 != b1).astype(np.int64)
        t = _T0 + int(round(launch.get(n, 0.0) / grid_ps))
        waves[n] = _Wave(b0, (s << _SHIFT) | t, b1[s])
        toggles[n] += s.size
    # free a net's waveform after its last reader
    readers = np.zeros(net.n_nets, dtype=np.int64)
    for i in net.comb:
        for n in net.cells[i].inputs.values():
            readers[n] += 1
    for done, i in enumerate(net.comb):
        if tick and done % 512 == 511:
            tick(done + 1, len(net.comb))
        c = net.cells[i]
        lc = lib[c.type]
        for op, out_net in c.outputs.items():
            fn, args = _cell_fn(lc, op)
            ins = []
            for p in args:
                n = c.inputs[p]
                if n not in waves:
                    raise NetlistError(f"{c.name}.{p} reads net {n}, which nothing drives")
                ins.append((waves[n], dgrid[i][(p, op)]))
            # inertial width: the output's fastest arc; the rest of each arc is a line
            w = min(d for _, d in ins) if inertial else 0
            y0 = fn(*(wv.init for wv, _ in ins), _ONES8, _ZERO8) & 1
            cand = np.concatenate([wv.key + (d - w) for wv, d in ins])
            if len(ins) > 1 and cand.size:
                cand.sort()
                cand = cand[np.concatenate(([True], cand[1:] != cand[:-1]))]
            if cand.size:
                y = fn(*(wv.at(cand - (d - w)) for wv, d in ins), _ONES8, _ZERO8) & 1
                key, val = _changes(cand, y, y0)
                if w > 0:
                    key, val = _reject_pulses(key, val, y0, w)
                key = key + w
            else:
                key, val = no_key, no_val
            if out_net >= 2:
                waves[out_net] = _Wave(y0, key, val)
                toggles[out_net] += key.size
        for n in c.inputs.values():
            readers[n] -= 1
            if readers[n] == 0 and n >= 2:
                waves.pop(n, None)
    return toggles


def _chunks(words: int, n_nets: int, budget_bytes: int = 128 << 20):
    """Word ranges per chunk: every net's per-sample initial value (a byte) in budget."""
    step = int(min(words, max(1, budget_bytes // (64 * max(1, n_nets)))))
    return [(s, min(words, s + step)) for s in range(0, words, step)]


def _source_nets(net):
    lib = net.library.cells
    nets = {n for name, ns in net.inputs.items() if name != net.clock for n in ns if n >= 2}
    q_launch = {}
    for i in net.dffs:
        for n in net.cells[i].outputs.values():
            if n >= 2:
                nets.add(n)
                q_launch[n] = i
    return sorted(nets), q_launch


def timed_toggles(net: GateNetlist, inputs: dict, delays: DelayProvider | list = library_delays,
                  grid_ps: float = 1.0, cycles: int | None = None, streams: int | None = None,
                  warmup: int = 1, inertial: bool = True, progress=None) -> dict:
    """Transitions of every net over a stimulus, timed and zero-delay.

    ``inputs`` is what :meth:`GateNetlist.run_comb` (combinational; ``cycles`` None) or
    :meth:`GateNetlist.run_seq` (with ``cycles``, ``streams``) takes. Returns ``timed`` and
    ``zero`` ((n_nets,) int64 transition counts), ``ops`` (samples counted) and
    ``cycles_counted`` (clock cycles per stream counted, 0 without flip-flops).
    """
    arcs = delays(net) if callable(delays) else delays
    sources, q_of = _source_nets(net)
    launch = {}
    for n, i in q_of.items():
        c = net.cells[i]
        op = next(p for p, m in c.outputs.items() if m == n)
        lc = net.library.cells[c.type]
        launch[n] = arcs[i][(lc.clock_pin, op)]
    if cycles is None:
        if net.dffs:
            raise NetlistError("netlist has flip-flops; give cycles and streams")
        _, zero = net.run_comb(inputs)
        n = len(next(iter(inputs.values())))
        words = -(-(n - 1) // 64)
        before = {}
        after = {}
        pad = words * 64 - (n - 1)
        for name, ns in net.inputs.items():
            v = np.asarray(inputs[name]).astype(np.uint64)
            tail = np.repeat(v[-1:], pad)        # padding samples: last vector, held
            p0 = GateNetlist._pack(np.concatenate([v[:-1], tail]), len(ns), words)
            p1 = GateNetlist._pack(np.concatenate([v[1:], tail]), len(ns), words)
            for k, m in enumerate(ns):
                if m >= 2:
                    before[m], after[m] = p0[k], p1[k]
        ops, counted_cycles, scale = n - 1, 0, None
    else:
        record = []
        _, zero, ops = net.run_seq(inputs, cycles, streams, warmup=warmup, record=record)
        pairs = range(max(warmup, 1), cycles)
        before = {m: np.concatenate([record[t - 1][m] for t in pairs]) for m in sources}
        after = {m: np.concatenate([record[t][m] for t in pairs]) for m in sources}
        lanes = record[0].shape[1] * 64
        scale = (streams, lanes) if lanes != streams else None
        counted_cycles = len(pairs)
    words = len(next(iter(after.values()))) if after else 0
    timed = np.zeros(net.n_nets, dtype=np.int64)
    spans = _chunks(words, net.n_nets)
    for a, b in spans:
        def tick(done, cells, a=a, b=b):      # samples of this chunk, by the cells done
            progress(min(ops, int(64 * (a + (b - a) * done / cells))), ops)
        timed += propagate(net, {m: v[a:b] for m, v in before.items()},
                           {m: v[a:b] for m, v in after.items()}, launch, arcs, grid_ps,
                           inertial, tick if progress else None)
        if progress:
            progress(min(ops, b * 64), ops)
    if scale is not None:                   # padding lanes copy the last stream
        timed = timed * scale[0] // scale[1]
    return {"timed": timed, "zero": zero, "ops": int(ops), "cycles_counted": counted_cycles}


def _energy_per_toggle(net: GateNetlist):
    """(n_nets,) switching fJ and internal fJ per transition of each net."""
    lib = net.library.cells
    load = net.pin_cap + net.wire_cap
    sw = 0.5 * VDD ** 2 * load
    internal = np.zeros(net.n_nets)
    for c in net.cells:
        lc = lib[c.type]
        for op, n in c.outputs.items():
            if n >= 2:
                internal[n] += internal_fj(c.type, op, load[n])
        for p, n in c.inputs.items():
            if p != lc.clock_pin and n >= 2:
                internal[n] += pin_fj(c.type, p)
    if net.clock is not None:
        for n in net.inputs[net.clock]:
            sw[n] = internal[n] = 0.0       # the clock is counted per cycle, below
    sw[:2] = internal[:2] = 0.0
    return sw, internal


def cell_leakage_nw(lc) -> float:
    """Leakage (nW) of library cell ``lc``: the library's own ``cell_leakage_power``
    (:class:`costmodel.liberty.LibCell` ``leakage_nw``), and :mod:`costmodel._power45`'s
    figure only for a library that does not carry one."""
    return lc.leakage_nw if lc.leakage_nw is not None else leakage_nw(lc.name)


def energy_breakdown(net: GateNetlist, toggles: np.ndarray, ops: int, period_ps: float,
                     cycles_per_op: float = 1.0) -> dict:
    """pJ per operation: ``switching``, ``internal``, ``clock``, ``leakage`` and ``total``.

    ``toggles``: (n_nets,) transitions over ``ops`` operations; a unit with flip-flops
    spends ``cycles_per_op`` clock cycles per operation (1: one operation per cycle).
    """
    sw, internal = _energy_per_toggle(net)
    lib = net.library.cells
    ops = max(1, ops)
    clock = 0.0
    if net.dffs:
        ck = net.inputs[net.clock][0]
        c_clk = net.pin_cap[ck] + net.wire_cap[ck]
        clock = sum(2 * pin_fj(net.cells[i].type, lib[net.cells[i].type].clock_pin)
                    for i in net.dffs) + VDD ** 2 * c_clk          # fJ per cycle
        clock *= cycles_per_op
    leak_nw = sum(cell_leakage_nw(lib[c.type]) for c in net.cells)
    out = {"switching": float(toggles @ sw) / ops * 1e-3,
           "internal": float(toggles @ internal) / ops * 1e-3,
           "clock": clock * 1e-3,
           "leakage": leak_nw * period_ps * 1e-9}          # nW x ps = 1e-21 J = 1e-9 pJ
    out = {k: round(v, 6) for k, v in out.items()}
    out["total"] = round(sum(out.values()), 6)
    out["transitions_per_op"] = round(float(toggles.sum()) / ops, 2)
    return out


def timed_energy(net: GateNetlist, period_ps: float, n_samples: int = 2000,
                 manifest: dict | None = None, seed: int = 1, operands: dict | None = None,
                 delays: DelayProvider | list = library_delays, grid_ps: float = 1.0,
                 inertial: bool = True, zero: bool = False, progress=None) -> dict:
    """Zero-delay and timed energy per operation over ``n_samples`` operations.

    The stimulus is :func:`costmodel.energy.stimulus`'s (the same operand streams as the
    zero-delay activity; ``operands`` and ``zero`` as there). Returns ``zero_delay`` and ``timed`` (each an
    :func:`energy_breakdown`), ``glitch_factor`` (timed over zero-delay transitions),
    ``samples``, ``period_ps``, ``vdd``, ``grid_ps``.
    """
    from .energy import stimulus
    if not 2 <= n_samples <= MAX_SAMPLES:
        raise NetlistError(f"timed samples must be 2..{MAX_SAMPLES}, not {n_samples}")
    inputs, sequential = stimulus(net, n_samples, manifest, seed, operands, zero)
    if sequential:
        cycles, streams = next(v.shape[:2] for v in inputs.values() if np.ndim(v) >= 2)
        res = timed_toggles(net, inputs, delays, grid_ps, cycles, streams, inertial=inertial,
                            progress=progress)
    else:
        res = timed_toggles(net, inputs, delays, grid_ps, inertial=inertial, progress=progress)
    zero = energy_breakdown(net, res["zero"], res["ops"], period_ps)
    timed = energy_breakdown(net, res["timed"], res["ops"], period_ps)
    tz = max(1, int(res["zero"].sum()))
    return {"zero_delay": zero, "timed": timed,
            "glitch_factor": round(float(res["timed"].sum()) / tz, 3),
            "samples": res["ops"], "period_ps": round(float(period_ps), 1), "vdd": VDD,
            "grid_ps": grid_ps,
            "model": "inertial (pulses narrower than the cell's fastest arc rejected)" if inertial
            else "transport (every pulse propagates)"}
