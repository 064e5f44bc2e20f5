"""Verilator co-simulation of MAC units vs golden (every rounding mode, pipelined, integer).

The pipelined unfused MAC runs under the cocotb bench; the rounding-mode sweep and the integer
MACs run in fast mode (the same Verilated RTL in the bulk harness, proven output-identical to
the cocotb bench by tests/test_sim_fast.py), which keeps `make test` within its time budget:
a cocotb build costs ~40 s, a fast-mode build ~5 s.
"""
import pytest

from _simutil import simulate

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize("rounding", ["rne", "rtz", "rna", "rup", "rdn", "sr"])
def test_e4m3_mac_fp32_every_rounding(rounding):
    res, lines = simulate(format="e4m3", unit="mac", acc="fp32", rounding=rounding, n=20_000,
                          mode="fast")
    assert res.vectors == 65536 + 20_000
    assert res.ok, "\n".join(lines)


def test_e4m3_mac_pipelined_unfused():
    res, lines = simulate(format="e4m3", unit="mac", acc="fp16", stages=2, fused=False, n=20_000)
    assert res.ok, "\n".join(lines)


@pytest.mark.parametrize("saturate", [False, True])
def test_int8_mac_int32(saturate):
    res, lines = simulate(format="int8", unit="mac", acc="int32" if not saturate else "int16",
                          saturate=saturate, n=50_000, mode="fast")
    assert res.vectors == 65536 + 50_000
    assert res.ok, "\n".join(lines)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["e4m3", "e5m2", "int8", "bf16", "e2m1"])
def test_make_sim_defaults(fmt):
    """What `make sim FORMAT=...` runs: 1M random MAC steps after the exhaustive pairs."""
    res, lines = simulate(format=fmt, mode="auto")
    assert res.ok and res.vectors >= 1_000_000, "\n".join(lines)
