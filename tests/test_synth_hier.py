"""Hierarchical ASIC synthesis of repeated lane logic (costmodel.synth.shared_modules/asic_flow)."""
import numpy as np
import pytest

from macforge import hw
from macforge.costmodel.netlist import GateNetlist
from macforge.costmodel.synth import (HIER_MIN_INPUT_BITS, Design, asic_flow, shared_modules,
                                      synth_asic)

_W = HIER_MIN_INPUT_BITS                  # leaf input bits: just enough to be kept

_LEAF = """module \\top.l{i} (y, \\port${n}$0 );
  input [{hi}:0] \\port${n}$0 ;
  output y;
  assign y = {op} \\port${n}$0 ;
endmodule
"""


def _design(ops, w=_W):
    inst = "".join(f"  \\top.l{i}  l{i} (.y(y[{i}]), .\\port${100 + i}$0 (a[{w * i + w - 1}:{w * i}]));\n"
                   for i in range(len(ops)))
    top = (f"module top(y, a);\n  input [{w * len(ops) - 1}:0] a;\n  output [{len(ops) - 1}:0] y;\n"
           + inst + "endmodule\n")
    return "// head\n" + top + "".join(_LEAF.format(i=i, n=100 + i, op=op, hi=w - 1)
                                       for i, op in enumerate(ops)) + "// tail\n"


def test_identical_modules_become_one_with_generated_port_names_renamed():
    text, keep = shared_modules(_design(["&"] * 4 + ["|"]))
    assert keep == ("\\top.l0",)
    assert text.count("\nmodule ") + text.startswith("module ") == 3     # top, l0, l4
    assert text.count("\\top.l0  l") == 4 and "\\top.l4  l4" in text
    assert ".\\port$100$0 (a[47:36])" in text                # l3's port, now l0's name
    assert text.startswith("// head") and text.rstrip().endswith("// tail")


def test_nothing_repeated_often_enough_is_the_flat_flow():
    v = _design(["&", "&", "&", "|"])
    assert shared_modules(v) == (v, ())
    d = Design(v, "top")
    text, script, keep = asic_flow(d)
    assert text == v and keep == () and not any("keep_hierarchy" in c for c in script)


def test_a_repeated_module_with_few_input_bits_is_flattened():
    assert shared_modules(_design(["&"] * 5, w=_W - 1))[1] == ()
    assert shared_modules(_design(["&"] * 5))[1] == ("\\top.l0",)
    assert asic_flow(Design(_design(["&"] * 5), "top"), hierarchical=False)[2] == ()


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


def test_kept_modules_are_mapped_once_and_flattened_after():
    d = Design(_design(["&"] * 4 + ["|"]), "top")
    hier, flat = synth_asic(d), synth_asic(d, hierarchical=False)
    assert hier["hier_modules"] == ["\\top.l0"] and flat["hier_modules"] == []
    assert any("keep_hierarchy" in c for c in hier["script"])
    # one flat netlist of library cells either way; a 12-input AND / OR maps alike
    assert hier["cells"] == flat["cells"] and hier["area_um2"] == flat["area_um2"]


@pytest.mark.slow
def test_hierarchical_netlist_computes_what_the_flat_one_does():
    d = Design.from_unit(hw.make_unit(unit="dot", fmt="mxint8", acc="fp32", lanes=4))
    hier, flat = synth_asic(d), synth_asic(d, hierarchical=False)
    assert len(hier["hier_modules"]) == 2 and flat["hier_modules"] == []
    a, b = (GateNetlist(r["netlist"], top=d.top) for r in (hier, flat))
    assert set(a.inputs) == set(b.inputs) and a.inputs.keys() >= {"a", "b", "sa", "sb"}
    oa, ob = _random_run(a), _random_run(b)
    assert np.any(oa["acc"]) and np.array_equal(oa["acc"], ob["acc"])


@pytest.mark.slow
@pytest.mark.parametrize("fmt,kept", [("mxfp8", 2), ("nvfp4", 0)])
def test_hierarchical_area_within_5_percent_of_flat_at_8_lanes(fmt, kept):
    # nvfp4's lanes (8-9 input bits) are flattened: kept, they cost +5.2..5.8 % (2026-12-02)
    d = Design.from_unit(hw.make_unit(unit="dot", fmt=fmt, acc="fp32", lanes=8))
    hier, flat = synth_asic(d), synth_asic(d, hierarchical=False)
    assert len(hier["hier_modules"]) == kept
    assert abs(hier["area_um2"] / flat["area_um2"] - 1) < 0.05
