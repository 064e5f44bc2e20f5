"""cocotb test: the simulated board. A UART model on the harness' ``rx``/``tx`` pins is the
link of the same :class:`fpga.protocol.Session` that ``macforge hwtest`` drives over a serial
port. Configured by the JSON file named in ``MACFORGE_HWTEST`` (written by
:func:`fpga.hwtest.simulate`): manifest, vectors, bit time, bytes to corrupt, result path.
"""
import json
import os

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Event, FallingEdge, First, Timer

from macforge.fpga.protocol import PortLayout, Session

__all__ = ["harness_vectors"]

CLOCK_NS = 10


class CocotbUartLink:
    """Host end of a UART wired to the DUT: bit-banged ``rx``, a sampler on ``tx``.

    ``corrupt_to_board`` / ``corrupt_from_board``: indices (counted over the whole run) of
    bytes to flip bit 4 of on the way to / from the board; each flip is logged.
    """

    def __init__(self, dut, divisor, timeout_bytes, corrupt_to_board=(), corrupt_from_board=()):
        self.dut, self.bit_ns = dut, divisor * CLOCK_NS
        self.timeout_ns = timeout_bytes * 10 * self.bit_ns
        self.to_board, self.from_board = set(corrupt_to_board), set(corrupt_from_board)
        self.sent = self.received = 0
        self.buf = bytearray()
        self.event = Event()
        self.flips = []
        dut.rx.value = 1

    def start(self):
        cocotb.start_soon(self._receiver())

    async def _receiver(self):
        tx = self.dut.tx
        while True:
            await FallingEdge(tx)
            await Timer(self.bit_ns * 3 // 2, unit="ns")
            v = 0
            for i in range(8):
                v |= int(tx.value) << i
                await Timer(self.bit_ns, unit="ns")
            if not int(tx.value):          # stop bit low: framing error, the byte is lost
                continue
            if self.received in self.from_board:
                self.flips.append(f"board->host byte {self.received}: {v:#04x} -> {v ^ 0x10:#04x}")
                v ^= 0x10
            self.received += 1
            self.buf.append(v)
            self.event.set()

    async def write(self, data: bytes):
        rx = self.dut.rx
        for b in data:
            if self.sent in self.to_board:
                self.flips.append(f"host->board byte {self.sent}: {b:#04x} -> {b ^ 0x10:#04x}")
                b ^= 0x10
            self.sent += 1
            for bit in [0] + [(b >> i) & 1 for i in range(8)] + [1]:
                rx.value = bit
                await Timer(self.bit_ns, unit="ns")

    async def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer if none arrives for the timeout."""
        while len(self.buf) < n:
            self.event.clear()
            await First(self.event.wait(), Timer(self.timeout_ns, unit="ns"))
            if not self.event.is_set():
                break
        out, self.buf[:] = bytes(self.buf[:n]), self.buf[n:]
        return out

    async def drain(self):
        """Discard input until the line has been quiet for the timeout."""
        while True:
            self.event.clear()
            await First(self.event.wait(), Timer(self.timeout_ns, unit="ns"))
            if not self.event.is_set():
                break
        self.buf.clear()


@cocotb.test()
async def harness_vectors(dut):
    """INFO, then every vector through the UART harness; results saved for the host check."""
    with open(os.environ["MACFORGE_HWTEST"]) as fh:
        cfg = json.load(fh)
    layout = PortLayout.from_manifest(cfg["manifest"])
    with np.load(cfg["stimulus"]) as npz:
        stim = {k: npz[k] for k in npz.files}
    cocotb.start_soon(Clock(dut.clk, CLOCK_NS, unit="ns").start(start_high=False))
    link = CocotbUartLink(dut, cfg["divisor"], cfg["host_timeout_bytes"],
                          cfg.get("corrupt_to_board", ()), cfg.get("corrupt_from_board", ()))
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 4)
    link.start()
    session = Session(link)
    info = await session.info()
    observed = await session.run_vectors(layout, stim, split_every=cfg.get("split_every", 0))
    with open(cfg["result"] + ".json", "w") as fh:
        json.dump({"info": info, "events": session.events, "flips": link.flips,
                   "sim_ns": int(cocotb.utils.get_sim_time(unit="ns"))}, fh)
    np.save(cfg["result"], observed)
