"""Static timing (costmodel.sta) and the frequency-directed pipeline search (costmodel.pipelining)."""
import json

import pytest

from macforge import hw
from macforge.costmodel import Cache, Design, asic_cost
from macforge.costmodel.liberty import load
from macforge.costmodel.netlist import GateNetlist, wire_cap_ff
from macforge.costmodel.pipelining import unit_at_clock
from macforge.costmodel.sta import INPUT_SLEW_PS, arc_delays, critical_path
from macforge.costmodel._libgen import SETUP_PS


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return Cache(str(tmp_path_factory.mktemp("cache") / "costmodel.sqlite"))


def _chain_netlist(types):
    """a -> cell0 -> cell1 -> ... -> y (single-input cells), as Yosys JSON."""
    cells = {}
    for i, t in enumerate(types):
        lc = load().cells[t]
        (pin,), (out,) = lc.inputs, lc.function
        cells[f"u{i}"] = {"type": t, "connections": {pin: [2 + i], out: [3 + i]}}
    return {"modules": {"chain": {"attributes": {"top": 1},
                                  "ports": {"a": {"direction": "input", "bits": [2]},
                                            "y": {"direction": "output",
                                                  "bits": [2 + len(types)]}},
                                  "cells": cells}}}


def test_sta_chain_equals_table_lookups():
    """Two inverters: each arc delay is the NLDM table at the slew its input sees and the load
    its output drives, the second stage's slew being the first's output transition."""
    lib = load()
    net = GateNetlist(_chain_netlist(["INV_X1", "INV_X4"]))
    d = arc_delays(net)
    inv1, inv4 = lib.cells["INV_X1"].arcs["ZN"]["A"], lib.cells["INV_X4"].arcs["ZN"]["A"]
    load1 = lib.cells["INV_X4"].inputs["A"] + wire_cap_ff(1)
    load2 = wire_cap_ff(1)                      # the output port is the one sink
    s0 = INPUT_SLEW_PS / 1000
    d1 = max(inv1["cell_rise"](s0, load1), inv1["cell_fall"](s0, load1)) * 1000
    s1 = max(inv1["rise_transition"](s0, load1), inv1["fall_transition"](s0, load1))
    d2 = max(inv4["cell_rise"](s1, load2), inv4["cell_fall"](s1, load2)) * 1000
    assert max(d.delay_ps[0]["A"]) == pytest.approx(d1)
    assert max(d.delay_ps[1]["A"]) == pytest.approx(d2)
    assert d.load_ff[net.cells[0].outputs["ZN"]] == pytest.approx(load1)
    cp = critical_path(net)
    assert cp["delay_ps"] == pytest.approx(d1 + d2, abs=0.05)
    assert cp["depth"] == 2 and cp["path"] == ["u0", "u1"] and cp["endpoint"] == "y[0]"
    # a heavier load on the first stage slows it: move the X4 to the front
    slow = critical_path(GateNetlist(_chain_netlist(["INV_X1", "INV_X4", "INV_X4"])))
    assert slow["delay_ps"] > cp["delay_ps"]


def test_sta_register_paths_include_clock_to_q_and_setup(cache):
    """A registered unit's critical path starts at a flip-flop (clock-to-Q) or ends at one
    (setup): never shorter than the combinational logic between them."""
    d = Design.from_unit(hw.make_unit("mac", "int8", acc="int32"))
    r = asic_cost(d, cache=cache, energy=False)
    net = GateNetlist(r["netlist"], top=d.top)
    cp = critical_path(net)
    assert cp["delay_ps"] == r["delay_ps"] and cp["delay_ps"] > SETUP_PS
    arcs = arc_delays(net)
    for i in net.dffs:                                  # every flop has its clock arc
        assert list(arcs.delay_ps[i]) == ["CK"] and min(arcs.delay_ps[i]["CK"]) > 0
    for i in net.comb:
        assert set(arcs.delay_ps[i]) == set(net.cells[i].inputs)


def test_timing_driven_mapping_trades_area_for_speed(cache):
    """abc -D: a tight period gives a faster, no smaller netlist than a loose one."""
    d = Design.from_unit(hw.make_unit("mul", "e4m3"))
    loose = asic_cost(d, cache=cache, energy=False, clock_ps=5000)
    tight = asic_cost(d, cache=cache, energy=False, clock_ps=300)
    assert loose["clock_ps"] == 5000 and tight["clock_ps"] == 300
    assert tight["delay_ps"] <= loose["delay_ps"]
    assert tight["area_um2"] >= loose["area_um2"]


def test_unit_at_clock_fewest_registers_that_meet(cache):
    spec = {"unit": "mul", "fmt": "e4m3"}
    comb = asic_cost(Design.from_unit(hw.make_unit(**spec)), cache=cache, energy=False,
                     clock_ps=2000)
    f_comb = 1e6 / comb["delay_ps"]
    easy = unit_at_clock(spec, f_comb * 0.8, cache=cache)
    assert easy["met"] and easy["stages"] == 0 and easy["registers"] == 0
    hard = unit_at_clock(spec, f_comb * 1.15, cache=cache)
    assert hard["met"] and hard["stages"] >= 1 and hard["reached_mhz"] >= hard["clock_mhz"]
    # the choice is the fewest-register candidate among those of its depth that meet
    assert all(not t["met"] for t in hard["tried"] if t["stages"] < hard["stages"])
    # the chosen unit, mapped for the period, meets it by the STA
    chosen = Design.from_unit(hw.make_unit(**hard["spec"]))
    assert chosen.top == hard["module"]
    r = asic_cost(chosen, cache=cache, energy=False, clock_ps=hard["period_ps"])
    assert r["delay_ps"] <= hard["period_ps"] and r["flops"] == hard["registers"]


def test_unit_cost_builds_each_candidate_once(cache, monkeypatch):
    """unit_cost prices the chosen candidate's design as measured: one Verilog build per
    candidate, none again for the full cost (nor in choose_design's hand-back)."""
    from collections import Counter
    from macforge.costmodel.pipelining import unit_cost
    built, real = Counter(), hw.generate

    def counting(unit):
        built[unit.module_name] += 1
        return real(unit)
    monkeypatch.setattr(hw, "generate", counting)
    r = unit_cost({"unit": "mul", "fmt": "e4m3"}, 1000, cache=cache, n_ops=500)
    assert len(r["tried"]) >= 2 and r["cost"]["module"] == r["module"]
    assert sum(built.values()) == len(r["tried"]) and set(built.values()) == {1}, built
    # choose_design (reproduce's clocked rows) hands back the chosen candidate's design
    from macforge.costmodel.pipelining import choose_design
    ch, design = choose_design({"unit": "mul", "fmt": "e4m3"}, 1000, cache=cache)
    assert design.top == ch["module"] == r["module"] and design.manifest["latency"] == ch["stages"]


def test_unit_at_clock_unreachable_says_so(cache):
    r = unit_at_clock({"unit": "mul", "fmt": "e4m3"}, 5000, cache=cache)
    assert not r["met"] and r["reached_mhz"] < 5000
    _assert_fastest_fewest(r)


def _assert_fastest_fewest(r):
    """Nothing met: the fastest candidate, or within 0.1 % of it the fewest registers."""
    top = max(t["reached_mhz"] for t in r["tried"])
    near = [t for t in r["tried"] if t["reached_mhz"] * 1.001 >= top]
    assert r["reached_mhz"] * 1.001 >= top
    assert r["registers"] == min(t["registers"] for t in near)


def test_cli_clock_errors(capsys):
    from macforge.cli import main
    for argv, msg in [
        (["cost", "-f", "e4m3", "--clock-mhz", "500", "--stages", "2"],
         "--clock-mhz chooses --stages and --loop-stages; give one or the other"),
        (["cost", "-f", "e4m3", "--clock-mhz", "500", "-t", "xilinx"],
         "--clock-mhz is measured on asic, ice40 or ecp5 (nextpnr), not xilinx"),
        (["cost", "--verilog", "x.v", "--top", "x", "--clock-mhz", "500"],
         "--clock-mhz chooses a macforge unit's pipeline; it does not apply to --verilog"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].endswith(msg), err
    assert main(["verilog", "-f", "e4m3", "--clock-mhz", "fast"]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "clock-mhz must be a number of MHz, not 'fast'")


def test_cli_cost_at_clock_json(capsys, tmp_path, monkeypatch):
    from macforge.cli import main
    monkeypatch.setenv("MACFORGE_CACHE", str(tmp_path))
    assert main(["cost", "-u", "mul", "-f", "e4m3", "--clock-mhz", "300", "-n", "2000",
                 "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    p = res["pipeline"]
    assert p["met"] and p["stages"] == 0 and res["clock_ps"] == pytest.approx(1e6 / 300, abs=1)
    assert res["module"] == p["module"] and res["energy_pj"] > 0


def test_contributions_add_up():
    """The two steps of the split add up to the change of the ratio, and a step that changes
    nothing contributes nothing."""
    from macforge.costmodel.reproduce import contributions
    old_fp, old_int = {"a": 1000.0, "r": 100.0}, {"a": 1200.0, "r": 150.0}
    new_fp, new_int = {"a": 3000.0, "r": 1300.0}, {"a": 1300.0, "r": 300.0}
    c = contributions(old_fp, old_int, new_fp, new_int, "a", "r")
    assert c["old"] == pytest.approx(100 * (1000 / 1200 - 1), abs=0.05)
    assert c["new"] == pytest.approx(100 * (3000 / 1300 - 1), abs=0.05)
    assert c["old"] + c["registers"] + c["mapping"] == pytest.approx(c["new"], abs=0.15)
    # same logic, only registers added: all of the change is the registers'
    same = contributions(old_fp, old_int, {"a": 1000.0 + 500, "r": 600.0},
                         {"a": 1200.0, "r": 150.0}, "a", "r")
    assert same["mapping"] == 0.0 and same["registers"] == same["new"] - same["old"]


def test_reproduce_clock_section_text():
    """The equal-clock part of `macforge reproduce fp8-vs-int8`: a clock some unit cannot reach
    says so and has no contribution rows; the others print their choice and contributions."""
    from macforge.cli.reproduce import _format_clocks
    ch = {"module": "imac_s1", "met": True, "stages": 1, "loop_stages": 0, "registers": 51,
          "reached_mhz": 799.0}
    unit = {"area_um2": 1200.0, "energy_pj": 0.6}
    rep = {"clocks": {250: {"reachable": True, "choice": {"int8": ch, "fp": {**ch, "module": "f"}},
                            "units": {"int8": unit, "fp": unit}},
                      1000: {"reachable": False, "choice": {"int8": {**ch, "met": False}},
                             "units": {}}},
           "contributions": [{"unit": "fp", "clock_mhz": 250, "metric": "area", "old": 10.0,
                              "registers": 5.0, "mapping": -2.0, "new": 13.0}]}
    text = _format_clocks(rep)
    assert "cannot reach 1000 MHz" in text and "zero-delay" in text
    assert " +10.0%" in text and "+13.0%" in text and "imac_s1" in text


def test_search_goes_past_a_bank_that_buys_nothing(cache):
    """The e5m2 adder's first cut (after decode) does not shorten its path; its second (after
    align and add) does: the search measures past one idle bank and prices the fastest."""
    r = unit_at_clock({"unit": "add", "fmt": "e5m2"}, 5000, cache=cache)
    by = {t["stages"]: t["reached_mhz"] for t in r["tried"]}
    assert set(by) == {0, 1, 2, 3}
    assert by[2] > max(by[0], by[1]) * 1.1
    assert not r["met"] and r["stages"] >= 2
    _assert_fastest_fewest(r)


def test_cli_cost_at_clock_builds_each_candidate_once(monkeypatch, capsys, tmp_path):
    """`macforge cost --clock-mhz` prices the design the search built: no candidate's Verilog
    is generated twice (the chosen one included)."""
    from collections import Counter
    from macforge.cli import main
    built, real = Counter(), hw.generate

    def counting(unit):
        built[unit.module_name] += 1
        return real(unit)
    monkeypatch.setattr(hw, "generate", counting)
    monkeypatch.setenv("MACFORGE_CACHE", str(tmp_path))
    assert main(["cost", "-f", "e4m3", "--unit", "mul", "--clock-mhz", "1000", "-n", "500",
                 "--timed-samples", "0"]) == 0
    out = capsys.readouterr().out
    assert "clock 1000 MHz" in out and built and set(built.values()) == {1}, built
