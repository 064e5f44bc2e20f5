"""Timed (glitch-counting) simulation and the library energy model (costmodel.timed).

The vectorised timed simulator is checked against an event-driven reference written here
(a heapq simulator, one sample at a time, following the model's definition: a transport
line of d - w on every pin, the cell's function, an inertial delay w = the fastest arc), on
random netlists of library cells with random integer delays.
"""
import heapq
import re
import itertools

import numpy as np
import pytest

from macforge.costmodel import Design, asic_cost
from macforge.costmodel import timed
from macforge.costmodel._power45 import VDD, internal_fj, leakage_nw, pin_fj
from macforge.costmodel.designs import IntMul
from macforge.costmodel.liberty import load
from macforge.costmodel.netlist import GateNetlist, NetlistError

LIB = load()
COMB = [c for c in LIB.cells.values() if not c.sequential]


def _json(inputs, cells, outputs):
    """A Yosys-JSON netlist: inputs/outputs {port: [bits]}, cells [(type, {pin: bit})]."""
    ports = {p: {"direction": "input", "bits": b} for p, b in inputs.items()}
    ports.update({p: {"direction": "output", "bits": b} for p, b in outputs.items()})
    return {"modules": {"t": {"attributes": {"top": 1}, "ports": ports,
                              "cells": {f"c{i}": {"type": t, "connections":
                                                  {p: [b] for p, b in conn.items()}}
                                        for i, (t, conn) in enumerate(cells)}}}}


def _random_netlist(rng, n_in=4, n_cells=14):
    """A random DAG of combinational library cells; every cell output is a primary output."""
    nets = list(range(2, 2 + n_in))
    cells = []
    nxt = 2 + n_in
    for _ in range(n_cells):
        lc = COMB[rng.integers(len(COMB))]
        conn = {p: int(nets[rng.integers(len(nets))]) for p in sorted(lc.inputs)}
        conn[next(iter(lc.function))] = nxt
        cells.append((lc.name, conn))
        nets.append(nxt)
        nxt += 1
    return GateNetlist(_json({"a": list(range(2, 2 + n_in))}, cells,
                             {"y": list(range(2 + n_in, nxt))}))


def _eval(lc, pin, vals):
    fn, args = timed._cell_fn(lc, pin)
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    return int(fn(*(np.uint64(ones if vals[a] else 0) for a in args), ones, np.uint64(0)) & 1)


def _settle(net, src):
    val = {0: 0, 1: 1, **src}
    for i in net.comb:
        c = net.cells[i]
        lc = LIB.cells[c.type]
        for op, n in c.outputs.items():
            val[n] = _eval(lc, op, {p: val[m] for p, m in c.inputs.items()})
    return val


def reference(net, before, after, delays, inertial, launch=None):
    """Event-driven simulation of one sample; returns {net: transitions}. Sources switch at
    ``launch[net]`` (default 0)."""
    val = _settle(net, before)
    rank = {i: r for r, i in enumerate(net.comb)}
    sinks = {}
    for i in net.comb:
        for p, n in net.cells[i].inputs.items():
            sinks.setdefault(n, []).append((i, p))
    out = {i: next(iter(net.cells[i].outputs.items())) for i in net.comb}
    w = {i: (min(delays[i].values()) if inertial else 0) for i in net.comb}
    pins = {i: {p: val[n] for p, n in net.cells[i].inputs.items()} for i in net.comb}
    y = {i: val[out[i][1]] for i in net.comb}
    pending = {}
    count = {}
    seq = itertools.count()
    heap = []

    def change(t, n, v):
        val[n] = v
        count[n] = count.get(n, 0) + 1
        for i, p in sinks.get(n, ()):
            lag = delays[i][(p, out[i][0])] - w[i]
            heapq.heappush(heap, (t + lag, rank[i], 1, next(seq), i, p, v))

    for n, v in after.items():
        if v != before[n]:
            heapq.heappush(heap, ((launch or {}).get(n, 0), -1, 1, next(seq), None, n, v))
    while heap:
        t, r, kind, s, i, p, v = heapq.heappop(heap)
        if i is None:
            change(t, p, v)
            continue
        if kind == 0:                       # an inertial output event matures
            if pending.get(i) == s:
                del pending[i]
                change(t, out[i][1], v)
            continue
        pins[i][p] = v
        while heap and heap[0][:3] == (t, r, 1) and heap[0][4] == i:   # simultaneous pins
            _, _, _, _, _, p2, v2 = heapq.heappop(heap)
            pins[i][p2] = v2
        nv = _eval(LIB.cells[net.cells[i].type], out[i][0], pins[i])
        if nv == y[i]:
            continue
        y[i] = nv
        pending.pop(i, None)
        if w[i] == 0:
            change(t, out[i][1], nv)
        elif nv != val[out[i][1]]:
            s2 = next(seq)
            pending[i] = s2
            heapq.heappush(heap, (t + w[i], r, 0, s2, i, None, nv))
    return count


def _random_sequential(rng, n_in=3, n_ff=3, n_cells=12):
    """Inputs a (n_in bits) and clk, n_ff flip-flops whose Q/QN feed a random DAG of cells
    that feeds their D pins back."""
    a = list(range(2, 2 + n_in))
    clk = 2 + n_in
    q = [clk + 1 + 2 * j for j in range(n_ff)]
    qn = [b + 1 for b in q]
    nets = a + q + qn
    nxt = qn[-1] + 1
    cells = []
    for _ in range(n_cells):
        lc = COMB[rng.integers(len(COMB))]
        conn = {p: int(nets[rng.integers(len(nets))]) for p in sorted(lc.inputs)}
        conn[next(iter(lc.function))] = nxt
        cells.append((lc.name, conn))
        nets.append(nxt)
        nxt += 1
    comb_out = nets[len(a) + 2 * n_ff:]
    for j in range(n_ff):
        d = int(comb_out[rng.integers(len(comb_out))])
        cells.append(("DFF_X1", {"D": d, "CK": clk, "Q": q[j], "QN": qn[j]}))
    return GateNetlist(_json({"a": a, "clk": [clk]}, cells, {"y": comb_out}))


def _random_delays(rng, net, hi=6):
    return [{a: float(rng.integers(0, hi)) for a in arcs} for arcs in timed.library_delays(net)]


@pytest.mark.parametrize("inertial", [True, False])
def test_equals_event_driven_reference(inertial):
    rng = np.random.default_rng(7 if inertial else 8)
    glitched = 0
    for trial in range(12):
        net = _random_netlist(rng)
        delays = _random_delays(rng, net)
        n = 64 * 2
        a = rng.integers(0, 16, n + 1).astype(np.uint64)
        r = timed.timed_toggles(net, {"a": a}, delays, inertial=inertial)
        got = r["timed"]
        glitched += int(got.sum() > r["zero"].sum())
        want = np.zeros(net.n_nets, dtype=np.int64)
        ins = net.inputs["a"]
        for s in range(n):
            before = {m: int(a[s] >> np.uint64(k)) & 1 for k, m in enumerate(ins)}
            after = {m: int(a[s + 1] >> np.uint64(k)) & 1 for k, m in enumerate(ins)}
            for m, c in reference(net, before, after, delays, inertial).items():
                want[m] += c
        assert np.array_equal(got, want), (trial, np.flatnonzero(got != want))
    assert glitched >= 6            # the netlists do glitch: the comparison is not trivial


def test_clocked_equals_event_driven_reference():
    """Flip-flop outputs launch at their clock-to-Q delay; the reference steps each stream's
    state itself (scalar settle per cycle), independent of run_seq."""
    rng = np.random.default_rng(11)
    cycles, streams = 9, 64
    glitched = 0
    for trial in range(6):
        net = _random_sequential(rng)
        delays = _random_delays(rng, net, hi=8)
        a = rng.integers(0, 8, (cycles, streams)).astype(np.uint64)
        r = timed.timed_toggles(net, {"a": a}, delays, cycles=cycles, streams=streams)
        glitched += int(r["timed"].sum() > r["zero"].sum())
        ins = net.inputs["a"]
        ffs = [net.cells[i] for i in net.dffs]
        launch = {}
        for i in net.dffs:
            for pin, n in net.cells[i].outputs.items():
                launch[n] = delays[i][("CK", pin)]
        want = np.zeros(net.n_nets, dtype=np.int64)
        for s in range(streams):
            state = [0] * len(ffs)
            src = []
            for t in range(cycles):
                v = {m: int(a[t, s] >> np.uint64(k)) & 1 for k, m in enumerate(ins)}
                for c, q in zip(ffs, state):
                    v[c.outputs["Q"]], v[c.outputs["QN"]] = q, 1 - q
                src.append(v)
                val = _settle(net, v)
                state = [val[c.inputs["D"]] for c in ffs]
            for t in range(1, cycles):
                for m, c in reference(net, src[t - 1], src[t], delays, True, launch).items():
                    want[m] += c
        assert np.array_equal(r["timed"], want), (trial, np.flatnonzero(r["timed"] != want))
    assert glitched >= 3


def test_zero_delays_equal_zero_delay_counts():
    rng = np.random.default_rng(3)
    for _ in range(5):
        net = _random_netlist(rng, n_cells=30)
        a = rng.integers(0, 16, 1000).astype(np.uint64)
        r = timed.timed_toggles(net, {"a": a}, timed.zero_delays)
        assert np.array_equal(r["timed"], r["zero"])
        assert r["ops"] == 999


@pytest.fixture(scope="module")
def imul8():
    d = Design.from_amaranth(IntMul(8), "imul_s8")
    return GateNetlist(asic_cost(d, energy=False)["netlist"], top=d.top)


def test_mapped_multiplier_zero_delays_and_glitches(imul8):
    rng = np.random.default_rng(1)
    inp = {k: rng.integers(0, 256, 700).astype(np.uint64) for k in imul8.inputs}
    r = timed.timed_toggles(imul8, inp, timed.zero_delays)
    assert np.array_equal(r["timed"], r["zero"])
    tr = timed.timed_toggles(imul8, inp, inertial=False)["timed"].sum()
    ti = timed.timed_toggles(imul8, inp)["timed"].sum()
    # a multiplier glitches; the inertial model passes fewer pulses than transport
    assert r["zero"].sum() < ti < tr


def _xor_with_delayed_copy(n_buf):
    """y = a XOR (a through n_buf buffers): zero-delay constant 0, timed a pulse."""
    cells, prev = [], 2
    for k in range(n_buf):
        cells.append(("BUF_X1", {"A": prev, "Z": 3 + k}))
        prev = 3 + k
    y = 3 + n_buf
    cells.append(("XOR2_X1", {"A": 2, "B": prev, "Z": y}))
    net = GateNetlist(_json({"a": [2]}, cells, {"y": [y]}))
    return net, net.outputs["y"][0]


def test_glitch_of_xor_with_delayed_copy_is_counted():
    a = np.tile(np.array([0, 1], dtype=np.uint64), 100)       # a toggles every sample
    net, y = _xor_with_delayed_copy(3)
    d = timed.library_delays(net)
    chain = sum(d[k][("A", "Z")] for k in range(3))
    assert chain > min(d[3].values())          # the pulse is wider than the XOR's delay
    r = timed.timed_toggles(net, {"a": a})
    assert r["zero"][y] == 0
    assert r["timed"][y] == 2 * (len(a) - 1)    # one pulse, two transitions, per toggle
    # one buffer: the pulse (~26 ps) is narrower than the XOR (~33 ps): inertial rejects it,
    # transport passes it
    net1, y1 = _xor_with_delayed_copy(1)
    d1 = timed.library_delays(net1)
    assert d1[0][("A", "Z")] < min(d1[1].values())
    assert timed.timed_toggles(net1, {"a": a})["timed"][y1] == 0
    assert timed.timed_toggles(net1, {"a": a}, inertial=False)["timed"][y1] == 2 * (len(a) - 1)


def test_energy_components_sum_and_library_figures(imul8):
    e = timed.timed_energy(imul8, 700.0, 600)
    for kind in ("zero_delay", "timed"):
        b = e[kind]
        parts = b["switching"] + b["internal"] + b["clock"] + b["leakage"]
        assert b["total"] == pytest.approx(parts, abs=1e-5)
        assert b["clock"] == 0.0                                    # no flip-flops
    assert e["timed"]["total"] > e["zero_delay"]["total"]
    assert e["glitch_factor"] > 1
    leak = sum(leakage_nw(c.type) for c in imul8.cells) * e["period_ps"] * 1e-9
    assert e["timed"]["leakage"] == pytest.approx(leak, rel=1e-3)
    idle = timed.timed_energy(imul8, 700.0, 600, zero=True)["timed"]   # all-zero operands
    assert idle["switching"] == idle["internal"] == 0.0 and idle["leakage"] == e["timed"]["leakage"]


def _toggle_register():
    """q <= q XOR a (one DFF): the clocked path of the timed simulation."""
    cells = [("XOR2_X1", {"A": 2, "B": 4, "Z": 5}),
             ("DFF_X1", {"D": 5, "CK": 3, "Q": 4, "QN": 6})]
    return GateNetlist(_json({"a": [2], "clk": [3]}, cells, {"q": [4]}))


def test_sequential_zero_delays_and_clock_energy():
    net = _toggle_register()
    rng = np.random.default_rng(5)
    cycles, streams = 20, 64
    a = rng.integers(0, 2, (cycles, streams)).astype(np.uint64)
    r = timed.timed_toggles(net, {"a": a}, timed.zero_delays, cycles=cycles, streams=streams)
    assert np.array_equal(r["timed"], r["zero"])
    assert r["ops"] == (cycles - 1) * streams
    b = timed.energy_breakdown(net, r["zero"], r["ops"], period_ps=1000.0)
    ck = net.inputs["clk"][0]
    c_clk = net.pin_cap[ck] + net.wire_cap[ck]
    assert b["clock"] == pytest.approx((2 * pin_fj("DFF_X1", "CK") + VDD ** 2 * c_clk) * 1e-3,
                                       abs=1e-6)
    # the D pin's hidden energy and the cells' internal energy are in "internal"
    load = net.pin_cap + net.wire_cap
    n = {bit: net._ids[bit] for bit in (4, 5, 6)}           # JSON bit -> net index
    z = {bit: r["zero"][n[bit]] for bit in n}
    load = {bit: load[n[bit]] for bit in n}
    e_int = (z[5] * (internal_fj("XOR2_X1", "Z", load[5]) + pin_fj("DFF_X1", "D"))
             + z[4] * internal_fj("DFF_X1", "Q", load[4])
             + z[6] * internal_fj("DFF_X1", "QN", load[6])) / r["ops"] * 1e-3
    assert b["internal"] == pytest.approx(e_int, abs=1e-6)


def test_bad_arguments_are_one_line_errors(imul8):
    with pytest.raises(NetlistError, match="timed samples"):
        timed.timed_energy(imul8, 700.0, 1)
    d = timed.library_delays(imul8)
    d[0] = {a: -1.0 for a in d[0]}
    rng = np.random.default_rng(0)
    inp = {k: rng.integers(0, 256, 100).astype(np.uint64) for k in imul8.inputs}
    with pytest.raises(NetlistError, match="delays must be >= 0"):
        timed.timed_toggles(imul8, inp, d)


def test_cli_cost_reports_both_energies(capsys, tmp_path, monkeypatch):
    import json
    from macforge.cli import main
    monkeypatch.setenv("MACFORGE_CACHE", str(tmp_path))
    args = ["cost", "--unit", "mul", "--format", "e2m1", "--acc", "e2m1", "-n", "500",
            "--timed-samples", "300"]
    assert main(args + ["--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    te = r["energy_breakdown"]
    assert r["energy_zero_delay_pj"] == te["zero_delay"]["total"] > 0
    assert r["energy_timed_pj"] == te["timed"]["total"] >= r["energy_zero_delay_pj"]
    assert te["samples"] == 299
    assert main(args) == 0                                  # text: cached, both lines
    out = capsys.readouterr().out
    assert re.search(r"^  zero-delay [\d.]+ pJ/op = switching .* leakage", out, re.M)
    assert re.search(r"^  timed      [\d.]+ pJ/op = switching .* leakage", out, re.M)
    assert main(args[:-1] + ["1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert re.search(r"--timed-samples must be 0 \(off\) or 2\.\.50000, not '?1'?$", err[-1])


def test_calibrate_prints_timed_rows_and_causes(tmp_path):
    from macforge.cli.calibrate import format_timed
    from macforge.costmodel import Cache
    from macforge.costmodel.calibrate import at_horowitz_vdd, calibration_table
    t = calibration_table(cache=Cache(str(tmp_path / "c.sqlite")), n_ops=2000,
                          rows=("int8 add",), timed_samples=300)
    (row,) = t["rows"]
    b = row["energy_breakdown"]["timed"]
    assert row["timed_pj"] == pytest.approx(at_horowitz_vdd(b), abs=1e-4)
    assert at_horowitz_vdd(b) < b["total"]                  # 0.9 V < 1.1 V
    text = format_timed(t)
    assert re.search(r"^int8 add +[\d.]+ +[\d.]+x +[\d.]+ +[\d.]+x +0\.03 ", text, re.M)
    within = 1 / 1.5 <= row["timed_ratio"] <= 1.5
    assert ("Rows outside the goal, measured causes:" in text) != within


def test_static_timing_arcs_become_a_delay_provider(imul8):
    """costmodel.sta.arc_delays' form ({pin: (rise, fall)} per instance) plugs in as the
    delay source: each arc takes its worse edge."""
    from types import SimpleNamespace
    lib = timed.library_delays(imul8)
    ad = SimpleNamespace(delay_ps=[{ip: (ps, ps / 2) for (ip, _), ps in arcs.items()}
                                   for arcs in lib])
    assert timed.from_arc_delays(ad, imul8) == lib
    ad.delay_ps[0] = {ip: (1.0, 9.0) for ip in ad.delay_ps[0]}
    assert set(timed.from_arc_delays(ad, imul8)[0].values()) == {9.0}


def test_leakage_comes_from_the_library_with_power45_as_fallback():
    """Issue 17 D-mend: the library's cell_leakage_power is what energy_breakdown charges;
    costmodel._power45 only for a cell the library carries no figure for."""
    from dataclasses import replace

    from macforge.costmodel import _power45
    from macforge.costmodel.liberty import load
    from macforge.costmodel.timed import cell_leakage_nw
    lib = load()
    with_leak = next(c for c in lib.cells.values() if c.leakage_nw is not None)
    assert cell_leakage_nw(with_leak) == with_leak.leakage_nw
    changed = replace(with_leak, leakage_nw=with_leak.leakage_nw * 3)
    assert cell_leakage_nw(changed) == 3 * with_leak.leakage_nw      # the library's, not ours
    missing = replace(with_leak, leakage_nw=None)
    assert cell_leakage_nw(missing) == _power45.leakage_nw(with_leak.name)


def test_streams_engine_counts_a_combinational_netlist_like_run_comb():
    """A combinational unit with lane ports is simulated by run_seq (a lane value spans several
    64-bit words; run_comb takes one word per port): each stream's consecutive cycles are
    consecutive vectors, so its toggles are run_comb's over each stream's own sequence."""
    rng = np.random.default_rng(11)
    net = _random_netlist(rng, n_in=4, n_cells=30)
    cycles, streams = 9, 70                         # two words of streams, one partly padded
    a = rng.integers(0, 16, (cycles, streams), dtype=np.uint64)
    _, tog, counted = net.run_seq({"a": a}, cycles, streams, warmup=1)
    want = sum(net.run_comb({"a": a[:, s]})[1] for s in range(streams))
    assert counted == (cycles - 1) * streams
    assert np.array_equal(tog, want)


def test_combinational_lane_unit_is_priced():
    """A stages-0 dequantiser (lane ports, no flip-flops) gets its switching energy from real
    block operands; all-zero operands switch nothing."""
    from macforge import hw
    from macforge.costmodel.energy import stimulus, switched_capacitance
    d = Design.from_unit(hw.make_unit("dequantize", "mxfp8", acc="bf16", lanes=2))
    res = asic_cost(d, energy=False)
    net = GateNetlist(res["netlist"], top=d.top)
    inputs, sequential = stimulus(net, 512, d.manifest)
    assert sequential and not net.dffs and inputs["a"].ndim == 3
    busy = switched_capacitance(net, 512, d.manifest)
    idle = switched_capacitance(net, 512, d.manifest, zero=True)
    assert busy["cap_ff_per_op"] > 0 == idle["cap_ff_per_op"]
