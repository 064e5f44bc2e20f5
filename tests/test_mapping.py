"""ZigZag mapping: access counts against a hand count, what a format change hands to ZigZag,
the energy breakdown, and mapping reuse across formats with equal precisions."""
import pytest

from macforge.costmodel import Cache, workloads
from macforge.costmodel.accuracy import unit_spec
from macforge.costmodel import mapping

pytest.importorskip("zigzag")

# one dense layer: 4 tokens x 64 inputs -> 32 outputs (8192 MACs)
M, K, N = 4, 64, 32


def _graph():
    return workloads.from_layers("one-dense", [{"op": "matmul", "M": M, "K": K, "N": N,
                                                 "bias": False}])


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    cache = Cache(str(tmp_path_factory.mktemp("zz") / "c.sqlite"))
    p = mapping.precisions(unit_spec("int8"))
    return cache, mapping.map_workload(_graph(), "tpu_like", p, 0.2, 300.0, cache=cache)


def test_dram_accesses_match_hand_count(mapped):
    """The old "every weight read once, every activation read once and written once" count,
    in 64-bit DRAM words, is what ZigZag counts at the DRAM level of tpu_like for a layer
    whose operands fit on chip."""
    _, m = mapped
    (L,) = m["layers"]
    assert L["macs"] == M * K * N
    dram = {op: next(a for a in L["accesses"][op] if a["level"] == "dram")
            for op in ("W", "I", "O")}
    assert dram["W"]["rd_out_to_low"] == K * N * 8 // 64         # every weight once
    assert dram["I"]["rd_out_to_low"] == M * K * 8 // 64         # every input once
    assert dram["O"]["wr_in_by_low"] == M * N * 8 // 64          # every output once, 8 bits
    assert dram["W"]["wr_in_by_high"] == dram["I"]["wr_in_by_high"] == 0
    # DRAM energy is those words at tpu_like's r_cost 700 / w_cost 750 pJ
    assert L["memory_energy_pj"]["dram"] == pytest.approx(
        700 * (K * N + M * K) * 8 / 64 + 750 * M * N * 8 / 64)


def test_format_change_moves_only_precisions_and_unit_cost():
    g = _graph()
    data, _, mp = mapping.arch_data("tpu_like")
    p8, p4, pe = (mapping.precisions(unit_spec(f)) for f in ("int8", "int4", "e4m3"))
    l8, l4 = mapping.layers(g, p8), mapping.layers(g, p4)
    strip = [{k: v for k, v in L.items() if k != "operand_precision"} for L in l8]
    assert strip == [{k: v for k, v in L.items() if k != "operand_precision"} for L in l4]
    assert l8[0]["operand_precision"] == {"W": 8, "I": 8, "O": 32, "O_final": 8}
    assert l4[0]["operand_precision"] == {"W": 4, "I": 4, "O": 32, "O_final": 4}
    assert mapping.layers(g, pe) == l8                       # e4m3 and int8: same precisions
    a8, _ = mapping.accelerator(data, 0.2, 300.0, p8, mp)
    ae, _ = mapping.accelerator(data, 0.37, 410.0, pe, mp)
    diff = {k for k in a8["operational_array"] if a8["operational_array"][k]
            != ae["operational_array"][k]}
    assert diff == {"unit_energy", "unit_area"}
    assert {k: v for k, v in a8.items() if k != "operational_array"} == \
        {k: v for k, v in ae.items() if k != "operational_array"}


def test_fractional_precisions_scale_exactly():
    p = mapping.precisions(unit_spec("mxfp4"))
    assert (p.weight, mapping.precision_scale(p)) == (4.25, 4)
    (L,) = mapping.layers(_graph(), p)
    assert L["operand_precision"] == {"W": 17, "I": 17, "O": 128, "O_final": 17}
    data, _, mp = mapping.arch_data("tpu_like")
    acc, _ = mapping.accelerator(data, 0.1, 100.0, p, mp)
    assert acc["memories"]["dram"]["size"] == 4 * data["memories"]["dram"]["size"]
    assert acc["memories"]["dram"]["ports"][0]["bandwidth_max"] == 4 * 64


def test_breakdown_sums_to_total_and_mapping_is_shared(mapped):
    cache, m = mapped
    pr = mapping.price(m, 0.2, 300.0, clock_mhz=500.0)
    assert pr["energy_pj"] == pytest.approx(pr["mac_energy_pj"]
                                            + sum(pr["memory_energy_pj"].values()), rel=1e-12)
    assert pr["mac_energy_pj"] == pytest.approx(M * K * N * 0.2)
    assert list(pr["memory_energy_pj"]) == ["rf_128B", "rf_2B", "sram_2MB", "dram"]
    assert pr["latency_us"] == pytest.approx(pr["latency_cycles"] / 500.0)
    assert pr["array_area_mm2"] == pytest.approx(32 * 32 * 300.0e-6)
    # another unit with the same precisions (e4m3): no new ZigZag run
    again = mapping.map_workload(_graph(), "tpu_like", mapping.precisions(unit_spec("e4m3")),
                                 0.5, 900.0, cache=cache)
    assert again["cached"] == 1 and again["layers"] == m["layers"]


def test_unknown_architecture_is_one_line():
    with pytest.raises(mapping.MappingError,
                       match=r"^unknown architecture 'tpu'; accepted: .*tpu_like.*, or a ZigZag "
                             r"accelerator YAML file$"):
        mapping.arch_data("tpu")


def test_prefetch_in_two_processes_equals_in_process(tmp_path):
    """Layers mapped by worker processes are the ones map_workload computes itself."""
    g = workloads.from_layers("two-dense", [{"op": "matmul", "M": 2, "K": 32, "N": 16},
                                            {"op": "matmul", "M": 2, "K": 16, "N": 8}])
    p = mapping.precisions(unit_spec("int4"))
    c1, c2 = Cache(str(tmp_path / "a.sqlite")), Cache(str(tmp_path / "b.sqlite"))
    assert mapping.prefetch(g, "tpu_like", [p], cache=c1, workers=2) == 2
    pre = mapping.map_workload(g, "tpu_like", p, 0.1, 100.0, cache=c1)
    own = mapping.map_workload(g, "tpu_like", p, 0.1, 100.0, cache=c2)
    assert pre["cached"] == 2 and own["cached"] == 0
    assert pre["layers"] == own["layers"]
