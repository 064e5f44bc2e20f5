"""Board harness: protocol, CRC gateware, and the whole harness (UART rx/tx, framing, unit,
result path) in cocotb + Verilator, driven by the same host Session as `macforge hwtest`,
with corrupted bytes in both directions that the host must report (and recover from)."""
import numpy as np
import pytest
from amaranth import Module, Signal
from amaranth.sim import Simulator

from macforge import golden
from macforge import hw
from macforge.fpga.harness import crc8_step
from macforge.fpga.hwtest import report, simulate
from macforge.fpga.protocol import (SYNC_REQ, Cmd, PortLayout, Status, crc8, crc8_table, encode_request,
                           encode_response)


def test_crc8_reference_values():
    assert crc8(b"123456789") == 0xF4            # CRC-8 (poly 0x07, init 0) check value
    assert crc8(b"") == 0
    t = crc8_table()
    assert t[1] == 0x07 and t[0x80] == 0x89
    frame = encode_request(Cmd.EXEC, 7, b"\x01\x02\x03")
    assert frame[0] == SYNC_REQ and frame[1:4] == bytes([Cmd.EXEC, 7, 3])
    assert crc8(frame[1:-1]) == frame[-1]
    # every single-byte corruption of a frame's body changes its CRC
    body = frame[1:-1]
    for i in range(len(body)):
        for flip in range(1, 256):
            bad = bytearray(body)
            bad[i] ^= flip
            assert crc8(bytes(bad)) != frame[-1]


def test_crc8_gateware_matches_host():
    crc, byte = Signal(8), Signal(8)
    m = Module()
    out = Signal(8)
    m.d.comb += out.eq(crc8_step(crc, byte))
    rng = np.random.default_rng(3)
    pairs = [(0, 0), (0xFF, 0xFF), (0x80, 0)] + [tuple(int(v) for v in p)
                                                for p in rng.integers(0, 256, (300, 2))]
    sim = Simulator(m)
    checked = []

    async def bench(ctx):
        for c, b in pairs:
            ctx.set(crc, c)
            ctx.set(byte, b)
            checked.append((ctx.get(out), crc8(bytes([b]), c)))

    sim.add_testbench(bench)
    sim.run()
    assert len(checked) == len(pairs) and all(a == b for a, b in checked)


def test_port_layout_packing():
    unit = hw.make_unit("mac", "e4m3")
    L = PortLayout.from_manifest(unit.manifest())
    assert [n for n, _, _ in L.inputs] == ["a", "b", "en", "first", "clear"]
    assert (L.in_bits, L.in_bytes, L.out_bits, L.out_bytes) == (19, 3, 32, 4)
    stim = {"a": np.array([0x38, 0xFF]), "b": np.array([0x01, 0x80]), "en": np.array([1, 0]),
            "first": np.array([1, 1]), "clear": np.array([0, 1])}
    v = L.pack_inputs(stim)
    assert v[0] == (0x38 | 0x01 << 8 | 1 << 16 | 1 << 17).to_bytes(3, "little")
    assert v[1] == (0xFF | 0x80 << 8 | 1 << 17 | 1 << 18).to_bytes(3, "little")
    assert L.unpack_outputs((0x3F800000).to_bytes(4, "little")) == {"acc": 0x3F800000}
    info = L.info_payload()
    assert info[1:3] == (19).to_bytes(2, "little") and info[6:] == unit.module_name.encode()
    rsp = encode_response(Status.OK, Cmd.INFO, 1, info)
    assert crc8(rsp[1:-1]) == rsp[-1]


def test_report_flags_a_wrong_result():
    unit = hw.make_unit("mul", "e4m3")
    man = unit.manifest()
    fa = golden.parse("e4m3")
    a = np.arange(0, 256, 3, dtype=np.uint8)
    b = a[::-1].copy()
    obs = golden.mul(a, b, fa, fa).astype(np.uint64)
    lines = []
    assert report(man, {"a": a, "b": b}, obs, [], [], 0.1, "test", lines.append).ok
    obs[5] ^= 1
    res = report(man, {"a": a, "b": b}, obs, [], [], 0.1, "test", lines.append)
    assert res.mismatches == 1 and not res.ok and lines[-2].startswith("FAIL")


def test_harness_simulation_with_corrupted_bytes(tmp_path):
    """150 MAC steps (random sums with idle cycles and clears) through the simulated UART
    harness with three corrupted bytes, each reported by the host and recovered from:

    - to-board byte 16, the LEN byte of vector 1's EXEC (INFO is bytes 0..4, EXEC requests 8
      bytes): the board waits for payload that never comes, drops the request after its
      timeout, the host times out and repeats it;
    - from-board byte 60, a result byte of vector 2's answer (INFO's answer is 35 bytes, an
      EXEC answer 10): the host's CRC check fails and it repeats the request, which the board
      answers without stepping the MAC again (same seq);
    - to-board byte 50, a payload byte of vector 3's EXEC (after the two repeats): the board
      answers BAD_CRC and does not execute it.
    """
    unit = hw.make_unit("mac", "e4m3")
    lines = []
    res = simulate(unit, n=150, seed=2, corrupt_to_board=[16, 50], corrupt_from_board=[60],
                   build_root=str(tmp_path), out=lines.append)
    assert res.ok, "\n".join(lines)
    assert res.vectors == 150 and res.info["module"] == unit.module_name
    assert len(res.flips) == 3
    assert len(res.events) == 3, res.events
    assert "EXEC seq 3 (attempt 1): no response (timeout)" in res.events[0]
    assert "EXEC seq 4 (attempt 1): response checksum mismatch" in res.events[1]
    assert res.events[2] == ("EXEC seq 5 (attempt 1): the board reported a request checksum "
                             "error: a byte was corrupted on the way to the board")
    assert "3 link error(s) detected and recovered" in res.summary


@pytest.mark.slow
@pytest.mark.parametrize("kind,fmt,stages", [("mac", "int8", 0), ("mac", "e4m3", 2),
                                             ("mul", "e5m2", 0)])
def test_harness_simulation_units(tmp_path, kind, fmt, stages):
    unit = hw.make_unit(kind, fmt, stages=stages)
    lines = []
    res = simulate(unit, n=400, seed=5, build_root=str(tmp_path), out=lines.append)
    assert res.ok and not res.events, "\n".join(lines)
