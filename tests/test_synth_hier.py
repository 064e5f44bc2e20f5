"""Hierarchical ASIC synthesis of repeated lane logic (costmodel.synth.shared_modules/asic_flow)."""
import numpy as np
import pytest

from macforge import hw
from macforge.costmodel.netlist import GateNetlist
from macforge.costmodel.synth import Design, asic_flow, shared_modules, synth_asic

_LEAF = """module \\top.l{i} (y, \\port${n}$0 );
  input [1:0] \\port${n}$0 ;
  output y;
  assign y = {op} \\port${n}$0 ;
endmodule
"""


def _design(ops):
    inst = "".join(f"  \\top.l{i}  l{i} (.y(y[{i}]), .\\port${100 + i}$0 (a[{2 * i + 1}:{2 * i}]));\n"
                   for i in range(len(ops)))
    top = (f"module top(y, a);\n  input [{2 * len(ops) - 1}:0] a;\n  output [{len(ops) - 1}:0] y;\n"
           + inst + "endmodule\n")
    return "// head\n" + top + "".join(_LEAF.format(i=i, n=100 + i, op=op)
                                       for i, op in enumerate(ops)) + "// tail\n"


def test_identical_modules_become_one_with_generated_port_names_renamed():
    text, keep = shared_modules(_design(["&"] * 4 + ["|"]))
    assert keep == ["\\top.l0"]
    assert text.count("\nmodule ") + text.startswith("module ") == 3     # top, l0, l4
    assert text.count("\\top.l0  l") == 4 and "\\top.l4  l4" in text
    assert ".\\port$100$0 (a[7:6])" in text                  # l3's port, now l0's name
    assert text.startswith("// head") and text.rstrip().endswith("// tail")


def test_nothing_repeated_often_enough_is_the_flat_flow():
    v = _design(["&", "&", "&", "|"])
    assert shared_modules(v) == (v, [])
    d = Design(v, "top")
    assert asic_flow(d)[0] == v and not any("keep_hierarchy" in c for c in asic_flow(d)[1])


def _random_run(net, seed=3, cycles=24, streams=64):
    rng = np.random.default_rng(seed)
    ins = {}
    for name, nets in net.inputs.items():
        if name == "clk":
            continue
        w = len(nets)
        ins[name] = rng.integers(0, 1 << min(w, 63), size=(cycles, streams), dtype=np.uint64)
    ins["rst"] = np.zeros((cycles, streams), dtype=np.uint64)
    ins["clear"] = (rng.random((cycles, streams)) < 0.1).astype(np.uint64)
    ins["en"] = np.ones((cycles, streams), dtype=np.uint64)
    return net.run_seq(ins, cycles, streams)[0]


def test_hierarchical_netlist_computes_what_the_flat_one_does():
    d = Design.from_unit(hw.make_unit(unit="dot", fmt="nvfp4", acc="fp32", lanes=4))
    hier, flat = synth_asic(d), synth_asic(d, hierarchical=False)
    assert len(hier["hier_modules"]) == 2 and flat["hier_modules"] == []
    a, b = (GateNetlist(r["netlist"], top=d.top) for r in (hier, flat))
    assert set(a.inputs) == set(b.inputs) and a.inputs.keys() >= {"a", "b", "sa", "sb"}
    oa, ob = _random_run(a), _random_run(b)
    assert np.any(oa["acc"]) and np.array_equal(oa["acc"], ob["acc"])


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["mxfp8", pytest.param("nvfp4", marks=pytest.mark.xfail(
    strict=True, reason="measured +10.4 % at 8 lanes: no constant propagation across the "
                        "kept lane boundary (2026-12-02)"))])
def test_hierarchical_area_within_5_percent_of_flat_at_8_lanes(fmt):
    d = Design.from_unit(hw.make_unit(unit="dot", fmt=fmt, acc="fp32", lanes=8))
    hier, flat = synth_asic(d), synth_asic(d, hierarchical=False)
    assert hier["hier_modules"]
    assert abs(hier["area_um2"] / flat["area_um2"] - 1) < 0.05
