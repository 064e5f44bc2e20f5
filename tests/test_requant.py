"""costmodel.requant (issue 19 item 6): the cast of every MAC layer's fp32 outputs into the
format, priced with the measured flow of ``macforge cost --unit convert`` / ``--unit quantize``
and multiplied by each layer's output elements."""
import re

import pytest

from macforge import hw
from macforge.costmodel import Design, asic_cost
from macforge.costmodel.requant import QUANT_LANES, cast_unit, layer_cast_energy, requant_fields
from macforge.costmodel.workloads import from_layers


def _graph():
    return from_layers("two-dense", [{"op": "matmul", "M": 2, "K": 32, "N": 16},
                                     {"op": "matmul", "M": 2, "K": 16, "N": 8}])


def test_cast_units():
    u, n = cast_unit("e4m3")
    assert (u.module_name, n) == ("cvt_fp32_e4m3fn_rne_s0", 1)
    u, n = cast_unit("int8")                        # integers: the saturating cast
    assert u.module_name == "cvt_fp32_int8_rne_sat_s0" and n == 1
    u, n = cast_unit("mxfp8")                       # block formats: the quantiser, per block
    assert n == QUANT_LANES and u.module_name.startswith("quant_fp32_mxfp8")


def test_layer_cast_energy_e4m3():
    g = _graph()
    r = layer_cast_energy(g, "e4m3", n_ops=2000)
    # the unit is the one `macforge cost --format fp32 --unit convert --acc e4m3` prices
    a = asic_cost(Design.from_unit(hw.make_unit("convert", "fp32", acc="e4m3")), n_ops=2000)
    assert r["energy_pj_per_cast"] == a["energy_pj"] > 0
    assert [(L["name"], L["elements"]) for L in r["layers"]] == \
        [(n, d["act_out_elems"]) for n, d in g.nodes(data=True)]
    assert [L["elements"] for L in r["layers"]] == [32, 16]          # M x N of each layer
    assert r["total_nj"] == pytest.approx(48 * a["energy_pj"] / 1000)
    assert r["meets_clock"] is None


def test_requant_fields_unpriced_format():
    f = requant_fields(_graph(), "e8m0")             # unsigned scale format: not a cast result
    assert set(f) == {"requant_not_priced"}
    assert re.fullmatch(r"[^\n]+", f["requant_not_priced"])
