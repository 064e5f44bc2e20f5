"""Gate netlists mapped to the Liberty library: bit-parallel simulation, toggles and timing.

A :class:`GateNetlist` is read from Yosys' JSON netlist (``write_json`` after ``abc
-liberty``). Every net holds numpy ``uint64`` words, 64 vectors (or 64 independent streams)
per word; the combinational cells are evaluated in topological order by one generated Python
function (one numpy expression per cell, compiled from the cell's Liberty ``function``), so
10^5 vectors through a few thousand cells take well under a second.

Two ways to run it:

* :meth:`GateNetlist.run_comb` -- a combinational netlist over N vectors in order; toggles
  counted between consecutive vectors (vector i is bit i % 64 of word i // 64, so "the
  previous vector" is a one-bit shift).
* :meth:`GateNetlist.run_seq` -- a netlist with flip-flops, cycle by cycle, S = 64 * W
  independent streams side by side; toggles counted between consecutive cycles of a stream.

Delays are zero (functional toggles only, no glitches): see :mod:`costmodel.energy` for what
that means for the energy numbers. Timing (arc delays, critical path) is :mod:`costmodel.sta`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

from macforge.errors import MacforgeError

from .liberty import Library, load

__all__ = ["GateNetlist", "NetlistError", "wire_cap_ff", "WIRE_LOAD"]

#: Nangate 45 nm default wire-load model "5K_hvratio_1_1" (NangateOpenCellLibrary_typical.lib,
#: see costmodel/_libgen.py [N45]): capacitance per unit length (fF) and the estimated length
#: per fanout; beyond the table the length grows by ``slope`` (5.0) per extra fanout.
WIRE_LOAD = {"cap_per_length": 0.1774, "slope": 5.0,
             "length": {1: 1.7460, 2: 3.9394, 3: 6.4626, 4: 9.2201, 5: 11.9123, 6: 14.8358,
                        7: 18.6155, 8: 22.6727, 9: 25.4842, 11: 27.0320}}


def wire_cap_ff(fanout: int) -> float:
    """Estimated wire capacitance (fF) of a net with ``fanout`` sink pins."""
    if fanout <= 0:
        return 0.0
    table = WIRE_LOAD["length"]
    if fanout in table:
        length = table[fanout]
    elif fanout < 11:                       # 10: between the 9 and 11 entries
        length = (table[9] + table[11]) / 2
    else:
        length = table[11] + WIRE_LOAD["slope"] * (fanout - 11)
    return WIRE_LOAD["cap_per_length"] * length


class NetlistError(MacforgeError, ValueError):
    """A netlist the simulator cannot use (unknown cell, combinational loop, ...)."""


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[!&|^*+()']|\s+|[01]")


def _py_expr(function: str, pin_ref) -> str:
    """Liberty boolean expression -> Python expression over uint64 words."""
    out = []
    for tok in _IDENT.findall(function):
        if tok.isspace():
            continue
        if tok == "!":
            out.append("~")
        elif tok in "&*":
            out.append("&")
        elif tok in "|+":
            out.append("|")
        elif tok in "^()":
            out.append(tok)
        elif tok == "'":
            raise NetlistError(f"postfix ' in Liberty function {function!r} is not supported")
        elif tok in "01":
            out.append("ONES" if tok == "1" else "ZERO")
        else:
            out.append(pin_ref(tok))
    if "".join(_IDENT.findall(function)).replace(" ", "") != function.replace(" ", ""):
        raise NetlistError(f"cannot read Liberty function {function!r}")
    return "(" + " ".join(out) + ")"


@dataclass
class _Cell:
    name: str
    type: str
    inputs: dict      # pin -> net
    outputs: dict     # pin -> net


class GateNetlist:
    """A flattened netlist of library cells with bit-parallel simulation.

    Parameters
    ----------
    data : dict or str
        Yosys JSON netlist (parsed or text).
    library : Library, optional
        The Liberty library the netlist is mapped to (default: macforge45).
    top : str, optional
        Module to use (default: the one marked ``top``, else the only module).

    Attributes
    ----------
    inputs, outputs : dict
        Port name -> list of net indices, LSB first. Net 0 is constant 0, net 1 constant 1.
    clock : str or None
        The input port that drives every flip-flop clock pin.
    cells : list
        Library cells; ``comb`` (topological order) and ``dffs`` index into it.
    """

    def __init__(self, data, library: Library | None = None, top: str | None = None):
        if isinstance(data, (str, bytes)):
            data = json.loads(data)
        self.library = library or load()
        mods = data.get("modules", {})
        if top is None:
            tops = [n for n, m in mods.items() if int(m.get("attributes", {}).get("top", 0) or 0)]
            if len(tops) != 1:
                tops = [n for n, m in mods.items() if m.get("cells") or m.get("ports")]
            if len(tops) != 1:
                raise NetlistError(f"cannot tell the top module among {sorted(mods)}")
            top = tops[0]
        if top not in mods:
            raise NetlistError(f"module {top!r} not in netlist; it has {sorted(mods)}")
        self.top = top
        mod = mods[top]
        self._ids = {}
        self.n_nets = 2

        def net(bit):
            if bit in ("0", "x", "z"):
                return 0
            if bit == "1":
                return 1
            if bit not in self._ids:
                self._ids[bit] = self.n_nets
                self.n_nets += 1
            return self._ids[bit]

        self.inputs, self.outputs = {}, {}
        for name, port in mod["ports"].items():
            nets = [net(b) for b in port["bits"]]
            if port["direction"] == "input":
                self.inputs[name] = nets
            elif port["direction"] == "output":
                self.outputs[name] = nets
            else:
                raise NetlistError(f"port {name} is {port['direction']}; only input/output")
        self.cells = []
        for cname, c in mod.get("cells", {}).items():
            if c["type"] == "$scopeinfo":
                continue
            lc = self.library.cells.get(c["type"])
            if lc is None:
                raise NetlistError(f"cell {cname} has type {c['type']}, not a cell of library "
                                   f"{self.library.name} ({', '.join(self.library.cells)})")
            ins, outs = {}, {}
            for pin, bits in c["connections"].items():
                if len(bits) != 1:
                    raise NetlistError(f"pin {cname}.{pin} is {len(bits)} bits wide")
                if pin in lc.inputs:
                    ins[pin] = net(bits[0])
                elif pin in lc.function:
                    outs[pin] = net(bits[0])
                else:
                    raise NetlistError(f"{c['type']} has no pin {pin}")
            missing = set(lc.inputs) - set(ins)
            if missing:
                raise NetlistError(f"cell {cname} ({c['type']}) leaves {sorted(missing)} open")
            self.cells.append(_Cell(cname, c["type"], ins, outs))
        self._order()
        self._loads()
        self._comb_fn = None

    # -- structure ---------------------------------------------------------------------

    def _order(self):
        lib = self.library.cells
        driver = {}
        for i, c in enumerate(self.cells):
            for n in c.outputs.values():
                if n < 2:
                    continue
                if n in driver:
                    raise NetlistError(f"net driven by both {self.cells[driver[n]].name} and {c.name}")
                driver[n] = i
        for name, nets in self.inputs.items():
            for n in nets:
                if n in driver:
                    raise NetlistError(f"input {name} is also driven by {self.cells[driver[n]].name}")
        self.driver = driver
        self.dffs = [i for i, c in enumerate(self.cells) if lib[c.type].sequential]
        comb = [i for i, c in enumerate(self.cells) if not lib[c.type].sequential]
        # Kahn's algorithm over combinational cells; flip-flop outputs are sources
        indeg, users = {}, {}
        for i in comb:
            deps = {driver[n] for n in self.cells[i].inputs.values()
                    if n in driver and not lib[self.cells[driver[n]].type].sequential}
            indeg[i] = len(deps)
            for d in deps:
                users.setdefault(d, []).append(i)
        ready = [i for i in comb if indeg[i] == 0]
        order = []
        while ready:
            i = ready.pop()
            order.append(i)
            for u in users.get(i, ()):
                indeg[u] -= 1
                if indeg[u] == 0:
                    ready.append(u)
        if len(order) != len(comb):
            raise NetlistError("combinational loop in netlist")
        self.comb = order
        clocks = set()
        for i in self.dffs:
            c = self.cells[i]
            clocks.add(c.inputs[lib[c.type].clock_pin])
        self.clock = None
        if clocks:
            names = [n for n, nets in self.inputs.items() if len(nets) == 1 and nets[0] in clocks]
            if len(clocks) != 1 or len(names) != 1:
                raise NetlistError("flip-flops must share one clock input port")
            self.clock = names[0]

    def _loads(self):
        """Per-net sink-pin capacitance, fanout and wire capacitance (fF)."""
        lib = self.library.cells
        self.pin_cap = np.zeros(self.n_nets)
        self.fanout = np.zeros(self.n_nets, dtype=np.int64)
        for c in self.cells:
            lc = lib[c.type]
            for pin, n in c.inputs.items():
                self.pin_cap[n] += lc.inputs[pin]
                self.fanout[n] += 1
        for nets in self.outputs.values():        # an output port is one more sink
            for n in nets:
                self.fanout[n] += 1
        self.wire_cap = np.array([wire_cap_ff(int(f)) for f in self.fanout])
        self.pin_cap[:2] = 0.0
        self.wire_cap[:2] = 0.0

    # -- statistics --------------------------------------------------------------------

    def histogram(self) -> dict:
        h = {}
        for c in self.cells:
            h[c.type] = h.get(c.type, 0) + 1
        return dict(sorted(h.items()))

    def area_um2(self) -> float:
        lib = self.library.cells
        return float(sum(lib[c.type].area for c in self.cells))

    # -- simulation --------------------------------------------------------------------

    def _compile(self):
        if self._comb_fn is not None:
            return self._comb_fn
        lib = self.library.cells
        lines = ["def comb(v, ONES, ZERO):"]
        for i in self.comb:
            c = self.cells[i]
            lc = lib[c.type]
            for pin, n in c.outputs.items():
                if n < 2:
                    continue
                expr = _py_expr(lc.function[pin], lambda p, c=c: f"v[{c.inputs[p]}]")
                lines.append(f"    v[{n}] = {expr}")
        lines.append("    return v")
        ns = {}
        exec(compile("\n".join(lines), f"<netlist {self.top}>", "exec"), ns)
        self._comb_fn = ns["comb"]
        self._dff_io = []
        for i in self.dffs:
            c = self.cells[i]
            lc = lib[c.type]
            state, inv, nxt, _ = lc.ff
            if nxt not in c.inputs:
                raise NetlistError(f"{c.type}: next_state {nxt!r} must be an input pin")
            q = [n for p, n in c.outputs.items() if lc.function[p] == state and n >= 2]
            qn = [n for p, n in c.outputs.items() if lc.function[p] == inv and n >= 2]
            self._dff_io.append((c.inputs[nxt], q, qn))
        return self._comb_fn

    @staticmethod
    def _pack(values, width, n_words):
        """(N,) integers -> (width, n_words) uint64, vector i in bit i % 64 of word i // 64."""
        v = np.asarray(values).astype(np.uint64, copy=False)
        n = v.shape[0]
        pad = n_words * 64 - n
        if pad:
            v = np.concatenate([v, np.repeat(v[-1:], pad)])   # repeat: no toggles in padding
        out = np.empty((width, n_words), dtype=np.uint64)
        for k in range(width):
            bits = ((v >> np.uint64(k)) & np.uint64(1)).astype(np.uint8)
            out[k] = np.packbits(bits, bitorder="little").view(np.uint64)
        return out

    @staticmethod
    def _unpack(words_rows, n):
        """(width, n_words) uint64 -> (n,) integer values (uint64)."""
        val = np.zeros(n, dtype=np.uint64)
        for k, row in enumerate(words_rows):
            bits = np.unpackbits(np.ascontiguousarray(row).view(np.uint8), bitorder="little")[:n]
            val |= bits.astype(np.uint64) << np.uint64(k)
        return val

    def _check_inputs(self, inputs, needed):
        unknown = set(inputs) - set(self.inputs)
        if unknown:
            raise NetlistError(f"no input port {sorted(unknown)[0]!r}; ports: "
                               + ", ".join(self.inputs))
        for name in needed:
            if name not in inputs:
                raise NetlistError(f"input port {name!r} needs a value (ports: "
                                   + ", ".join(needed) + ")")

    def run_comb(self, inputs: dict, chunk: int = 1 << 14, progress=None):
        """Simulate N vectors through a combinational netlist, in order.

        Parameters
        ----------
        inputs : dict
            Port name -> (N,) integer array (two's complement bit patterns; unsigned view).
        chunk : int
            Vectors per pass (memory is n_nets * chunk / 8 bytes).

        Returns
        -------
        outputs : dict
            Port name -> (N,) uint64.
        toggles : ndarray
            (n_nets,) number of value changes of each net between consecutive vectors.
        """
        if self.dffs:
            raise NetlistError("netlist has flip-flops; use run_seq")
        self._check_inputs(inputs, list(self.inputs))
        comb = self._compile()
        n = len(next(iter(inputs.values())))
        if any(len(v) != n for v in inputs.values()):
            raise NetlistError("all input arrays must have the same length")
        chunk = max(64, chunk - chunk % 64)
        toggles = np.zeros(self.n_nets, dtype=np.int64)
        outs = {k: np.zeros(n, dtype=np.uint64) for k in self.outputs}
        ones = np.uint64(0xFFFFFFFFFFFFFFFF)
        carry = None
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            m = stop - start
            words = -(-m // 64)
            v = np.zeros((self.n_nets, words), dtype=np.uint64)
            v[1] = ones
            for name, nets in self.inputs.items():
                packed = self._pack(inputs[name][start:stop], len(nets), words)
                for k, net in enumerate(nets):
                    if net >= 2:
                        v[net] = packed[k]
            comb(v, ones, np.uint64(0))
            # previous vector of every vector: shift by one bit across the word sequence
            prev = (v << np.uint64(1)) | np.roll(v >> np.uint64(63), 1, axis=1)
            first = carry if carry is not None else (v[:, 0] & np.uint64(1))
            prev[:, 0] = (prev[:, 0] & ~np.uint64(1)) | first
            if m % 64:            # padded vectors repeat the last one: mask them out anyway
                pass
            toggles += np.bitwise_count(v ^ prev).sum(axis=1, dtype=np.int64)
            last = m - 1
            carry = (v[:, last // 64] >> np.uint64(last % 64)) & np.uint64(1)
            for name, nets in self.outputs.items():
                outs[name][start:stop] = self._unpack(v[nets], m)
            if progress:
                progress(stop, n)
        return outs, toggles

    def run_seq(self, inputs: dict, cycles: int, streams: int, warmup: int = 1, progress=None,
                record: list | None = None):
        """Simulate ``streams`` independent copies for ``cycles`` clock cycles.

        Parameters
        ----------
        inputs : dict
            Port name -> (cycles, streams) integer array, or a scalar held constant; a port
            wider than 64 bits takes (cycles, streams, words) little-endian 64-bit words. The
            clock port is not given. Flip-flops start at 0.
        warmup : int
            Cycles at the start whose toggles are not counted (power-on state).
        record : list, optional
            If given, each cycle's settled net values ((n_nets, words) uint64, stream i in
            bit i % 64 of word i // 64) are appended to it (the timed simulation replays them).

        Returns
        -------
        outputs : dict
            Port name -> (cycles, streams) uint64: each cycle's output after its
            combinational settle, before the clock edge (registered outputs show the state).
        toggles : ndarray
            (n_nets,) value changes between consecutive counted cycles, all streams.
        counted : int
            Stream-cycles whose toggles were counted: (cycles - warmup) * streams.
        """
        comb = self._compile()
        needed = [p for p in self.inputs if p != self.clock]
        self._check_inputs({k: v for k, v in inputs.items() if k != self.clock}, needed)
        words = -(-streams // 64)
        lanes = words * 64
        packed = {}
        for name in needed:
            nets = self.inputs[name]
            val = np.asarray(inputs[name], dtype=np.uint64)
            # a port wider than 64 bits comes as (cycles, streams, words): little-endian
            # 64-bit words of each value (the lane ports of dot units)
            wide = val.ndim == 3
            arr = val if wide else np.broadcast_to(val, (cycles, streams))
            if lanes != streams:
                arr = np.concatenate([arr, np.repeat(arr[:, -1:], lanes - streams, axis=1)], axis=1)
            per = np.empty((cycles, len(nets), words), dtype=np.uint64)
            for k in range(len(nets)):
                word, bit = (arr[..., k // 64], k % 64) if wide else (arr, k)
                bits = ((word >> np.uint64(bit)) & np.uint64(1)).astype(np.uint8)
                per[:, k, :] = np.packbits(bits, axis=1, bitorder="little").view(np.uint64)
            packed[name] = (nets, per)
        ones = np.uint64(0xFFFFFFFFFFFFFFFF)
        zero = np.uint64(0)
        v = np.zeros((self.n_nets, words), dtype=np.uint64)
        v[1] = ones
        prev = None
        # toggles count the real streams only: padding lanes (copies of the last stream) masked
        count_mask = None
        if lanes != streams:
            count_mask = np.full(words, ones, dtype=np.uint64)
            count_mask[-1] = np.uint64((1 << (streams % 64)) - 1)
        state = np.zeros((len(self._dff_io), words), dtype=np.uint64)
        toggles = np.zeros(self.n_nets, dtype=np.int64)
        outs = {k: np.zeros((cycles, lanes), dtype=np.uint64) for k in self.outputs}
        for t in range(cycles):
            for name, (nets, per) in packed.items():
                for k, net in enumerate(nets):
                    if net >= 2:
                        v[net] = per[t, k]
            for j, (_, q, qn) in enumerate(self._dff_io):
                for n in q:
                    v[n] = state[j]
                for n in qn:
                    v[n] = ~state[j]
            comb(v, ones, zero)
            if prev is not None and t >= warmup:
                diff = v ^ prev
                if count_mask is not None:
                    diff &= count_mask
                toggles += np.bitwise_count(diff).sum(axis=1, dtype=np.int64)
            prev = v.copy()
            if record is not None:
                record.append(prev)
            for name, nets in self.outputs.items():
                rows = v[nets]
                bits = np.unpackbits(rows.view(np.uint8), axis=1, bitorder="little")
                weights = (np.uint64(1) << np.arange(len(nets), dtype=np.uint64))[:, None]
                outs[name][t] = (bits.astype(np.uint64) * weights).sum(axis=0, dtype=np.uint64)
            for j, (d, _, _) in enumerate(self._dff_io):
                state[j] = v[d]
            if progress:
                progress(t + 1, cycles)
        counted = max(0, cycles - max(warmup, 1)) * streams
        outs = {k: o[:, :streams] for k, o in outs.items()}
        return outs, toggles, counted
