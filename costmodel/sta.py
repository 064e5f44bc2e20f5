"""Static timing of a mapped netlist with the library's NLDM tables.

One pass in topological order over a :class:`~costmodel.netlist.GateNetlist`: every net gets an
arrival time and a slew; a cell's arc delay and output slew are read from its Liberty tables
(:class:`~costmodel.liberty.Table`, bilinear in input slew and output load) at the slew of the
input net and the load of the output net (sink pin capacitances plus the wire-load model of
:func:`costmodel.netlist.wire_cap_ff`).

* :func:`arc_delays` -- the rise and fall delay of every input-to-output arc of every cell
  instance: the one place the timed energy simulation (:mod:`costmodel.timed`) and the critical
  path below read delays from.
* :func:`critical_path` -- the longest register-to-register (or port-to-port) path, flip-flop
  setup included, and the cells on it.

Conventions: primary inputs and the clock arrive at 0 ps with slew :data:`INPUT_SLEW_PS`
(index 3 of the Nangate tables' slew axis, the slew of an X1 gate at a light load); flip-flop
outputs launch at their clock-to-Q delay. A rise/fall arc is taken as its worse edge (the
tables are not unateness-aware here), which is conservative by the difference between a cell's
rise and fall delay. Negative table values (a fast input edge into a slow one, possible at 50 %
thresholds) count as 0.

Examples
--------
>>> from macforge.costmodel.netlist import GateNetlist
>>> net = GateNetlist(r["netlist"])                    # doctest: +SKIP
>>> critical_path(net)["delay_ps"]                     # doctest: +SKIP
1394.6
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._libgen import SETUP_PS
from .liberty import Library
from .netlist import GateNetlist

__all__ = ["ArcDelays", "arc_delays", "critical_path", "INPUT_SLEW_PS"]

#: slew of primary inputs and the clock (ps): 17.1859 ps, index_1[2] of Nangate's Timing_7_7
INPUT_SLEW_PS = 17.1859


@dataclass
class ArcDelays:
    """What :func:`arc_delays` returns.

    Attributes
    ----------
    delay_ps : list of dict
        Aligned with ``netlist.cells``: ``{input pin: (rise_ps, fall_ps)}`` of the cell's arc
        from that pin to its output (a flip-flop: its clock pin, the clock-to-Q delay).
        Outputs of multi-output cells share the worst arc per pin.
    slew_ps : ndarray
        (n_nets,) slew of every net (ps), the worse of rise and fall.
    load_ff : ndarray
        (n_nets,) load of every net: sink pin capacitances plus wire load (fF).
    """
    delay_ps: list
    slew_ps: np.ndarray
    load_ff: np.ndarray


def _arc(lc, out_pin, in_pin, slew_ns, load_ff):
    """(rise_ps, fall_ps, out_slew_ps) of one arc; (0, 0, slew) for a cell without tables."""
    tabs = lc.arcs.get(out_pin, {}).get(in_pin)
    if not tabs:
        return 0.0, 0.0, slew_ns * 1000
    r = max(0.0, tabs["cell_rise"](slew_ns, load_ff)) * 1000 if "cell_rise" in tabs else 0.0
    f = max(0.0, tabs["cell_fall"](slew_ns, load_ff)) * 1000 if "cell_fall" in tabs else 0.0
    s = max(tabs[k](slew_ns, load_ff) for k in ("rise_transition", "fall_transition")
            if k in tabs) * 1000 if ("rise_transition" in tabs or "fall_transition" in tabs) \
        else slew_ns * 1000
    return r, f, max(s, 0.0)


def arc_delays(net: GateNetlist, lib: Library | None = None,
               input_slew_ps: float = INPUT_SLEW_PS) -> ArcDelays:
    """Rise/fall delay of every arc of every cell of ``net`` (ps), with slews propagated.

    ``lib`` defaults to the netlist's own library. Every combinational cell is visited once in
    topological order, so the slew at each input is known when its arcs are looked up."""
    lib = lib or net.library
    cells = lib.cells
    load = net.pin_cap + net.wire_cap
    slew = np.full(net.n_nets, input_slew_ps)
    delays = [dict() for _ in net.cells]
    for i in net.dffs:
        c = net.cells[i]
        lc = cells[c.type]
        ck = lc.clock_pin
        worst = (0.0, 0.0)
        for pin, n in c.outputs.items():
            r, f, s = _arc(lc, pin, ck, input_slew_ps / 1000, load[n])
            worst = (max(worst[0], r), max(worst[1], f))
            if n >= 2:
                slew[n] = s
        delays[i][ck] = worst
    for i in net.comb:
        c = net.cells[i]
        lc = cells[c.type]
        for pin, n_out in c.outputs.items():
            out_slew = 0.0
            for ip, n_in in c.inputs.items():
                r, f, s = _arc(lc, pin, ip, slew[n_in] / 1000, load[n_out])
                old = delays[i].get(ip, (0.0, 0.0))
                delays[i][ip] = (max(old[0], r), max(old[1], f))
                out_slew = max(out_slew, s)
            if n_out >= 2:
                slew[n_out] = out_slew
    return ArcDelays(delays, slew, load)


def critical_path(net: GateNetlist, lib: Library | None = None,
                  delays: ArcDelays | None = None, setup_ps: float = SETUP_PS) -> dict:
    """The critical path of ``net`` with :func:`arc_delays`' delays.

    Returns
    -------
    dict
        ``delay_ps`` (launch to capture: input port or flip-flop clock to output port or
        flip-flop D plus ``setup_ps``), ``fmax_mhz`` (1e6 / delay_ps), ``depth`` (cells on the
        longest path by cell count), ``path`` (instance names on the critical path, launch
        first), ``endpoint`` (an output port bit ``name[k]`` or ``<flip-flop>.D``).
    """
    d = delays or arc_delays(net, lib)
    lib = lib or net.library
    arr = np.zeros(net.n_nets)
    depth = np.zeros(net.n_nets, dtype=np.int64)
    came = {}                                   # net -> (cell index, input net or None)
    for i in net.dffs:
        c = net.cells[i]
        ck = lib.cells[c.type].clock_pin
        for n in c.outputs.values():
            if n >= 2:
                arr[n] = max(d.delay_ps[i][ck])
                came[n] = (i, None)
    for i in net.comb:
        c = net.cells[i]
        best, src, dp = 0.0, None, 0
        for ip, n_in in c.inputs.items():
            t = arr[n_in] + max(d.delay_ps[i][ip])
            if src is None or t > best:
                best, src = t, n_in
            dp = max(dp, int(depth[n_in]))
        for n in c.outputs.values():
            if n >= 2:
                arr[n], depth[n], came[n] = best, dp + 1, (i, src)
    ends = []
    for name, nets in net.outputs.items():
        for k, n in enumerate(nets):
            ends.append((float(arr[n]), int(depth[n]), n, f"{name}[{k}]"))
    for i in net.dffs:
        c = net.cells[i]
        n = c.inputs[lib.cells[c.type].ff[2]]
        ends.append((float(arr[n]) + setup_ps, int(depth[n]), n, f"{c.name}.D"))
    if not ends:
        return {"delay_ps": 0.0, "fmax_mhz": None, "depth": 0, "path": [], "endpoint": None}
    delay, _, n, endpoint = max(ends, key=lambda e: e[0])
    path = []
    while n in came:
        i, src = came[n]
        path.append(net.cells[i].name)
        if src is None:
            break
        n = src
    return {"delay_ps": round(delay, 1), "fmax_mhz": round(1e6 / delay, 1) if delay > 0 else None,
            "depth": max(e[1] for e in ends), "path": path[::-1], "endpoint": endpoint}
