"""cocotb bench, generic over units: the manifest says which ports to drive and read.

Structure as in cocotb's examples: a driver applies one input vector per cycle (or per
settle step for combinational units), a monitor samples the output port into a queue with
the unit's latency, and an in-order checker compares the queue with the reference model
(:mod:`sim.model`, the golden model) once the run ends; the queue must then hold exactly one
output per input vector. The run is configured by the JSON file named in ``MACFORGE_BENCH``
(written by :mod:`sim.runner`), so configuration lives in one place: the manifest.
"""
from __future__ import annotations

import json
import os

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, Timer

from macforge.sim import model
from macforge.sim._lanes import (HANDSHAKE_OUT, ints_to_words, pack_ints, result_ports,
                                 result_words)

__all__ = ["unit_vectors"]

_IDLE_ROLES = ("enable", "first", "clear", "valid_in")   # go low after the last vector
HANDSHAKE_CYCLES, HANDSHAKE_SLACK = 16, 4096                 # as sim._fast_harness


class Driver:
    """Applies stimulus vector i to the input ports (idle values past the end)."""

    def __init__(self, dut, manifest, stim):
        self.ports = [p["name"] for p in manifest["ports"]
                      if p["dir"] == "in" and p["name"] not in (manifest.get("clock"), manifest.get("reset"))]
        missing = [p for p in self.ports if p not in stim]
        if missing:
            raise ValueError(f"stimulus has no values for input ports {missing}")
        self.handles = [getattr(dut, p) for p in self.ports]
        by_name = {p["name"]: p for p in manifest["ports"]}
        # any width: lane codes (n, lanes) or uint64 word rows -> one integer per vector
        self.columns = [pack_ints(stim[p], by_name[p]) for p in self.ports]
        self.idle = [0 if by_name[p]["role"] in _IDLE_ROLES else None for p in self.ports]
        self.n = len(self.columns[0])

    def apply(self, i):
        if i < self.n:
            for h, col in zip(self.handles, self.columns):
                h.value = col[i]
        else:
            for h, idle in zip(self.handles, self.idle):
                if idle is not None:       # control inputs go idle; data inputs hold
                    h.value = idle


class Monitor:
    """Samples the result (every output port but the handshake's, concatenated in manifest
    order, the first at bit 0: :func:`sim._lanes.result_ports`) into an in-order queue."""

    def __init__(self, dut, manifest):
        self.ports = result_ports(manifest)
        self.handles = [getattr(dut, p["name"]) for p in self.ports]
        self.words = result_words(self.ports)
        self.queue: list[int] = []

    def sample(self):
        value, off = 0, 0
        for p, h in zip(self.ports, self.handles):
            value |= h.value.to_unsigned() << off
            off += p["width"]
        self.queue.append(value)

    def observed(self) -> np.ndarray:
        """(n,) uint64, or (n, words64) uint64 rows for a wide result."""
        if self.words:
            return ints_to_words(self.queue, 64 * self.words)
        return np.array(self.queue, dtype=np.uint64)


@cocotb.test()
async def unit_vectors(dut):
    """Drive every stimulus vector, then check all outputs against the golden model."""
    with open(os.environ["MACFORGE_BENCH"]) as fh:
        cfg = json.load(fh)
    manifest = cfg["manifest"]
    with np.load(cfg["stimulus"]) as npz:
        stim = {k: npz[k] for k in npz.files}
    lo, hi = cfg.get("window") or (0, len(stim["a"]))
    stim = {k: v[lo:hi] for k, v in stim.items()}
    driver = Driver(dut, manifest, stim)
    monitor = Monitor(dut, manifest)
    n, latency = driver.n, int(manifest["latency"])
    clock = manifest.get("clock")
    if clock is None:
        if latency != 0:
            raise ValueError("a unit without a clock must have latency 0")
        for i in range(n):
            driver.apply(i)
            await Timer(1, unit="ns")
            monitor.sample()
    else:
        clk = getattr(dut, clock)
        cocotb.start_soon(Clock(clk, 10, unit="ns").start(start_high=False))
        driver.apply(n)                                  # idle controls during reset
        rst = getattr(dut, manifest["reset"]) if manifest.get("reset") else None
        if rst is not None:
            on = 0 if manifest.get("reset_active") == "low" else 1
            rst.value = on
            for _ in range(2):
                await FallingEdge(clk)
            rst.value = 1 - on
        await FallingEdge(clk)
        hs = {p["role"]: getattr(dut, p["name"]) for p in manifest["ports"]
              if p["role"] in HANDSHAKE_OUT}
        if "valid_out" in hs:
            # handshake: vector i is held until a rising edge where ready_in is high (read
            # once the inputs settled: the value the edge sees); an output is taken after
            # every rising edge where valid_out is high
            i = 0
            for _ in range(HANDSHAKE_CYCLES * n + HANDSHAKE_SLACK):
                if len(monitor.queue) >= n:
                    break
                driver.apply(i)
                await ReadOnly()
                take = i < n and ("ready_in" not in hs or int(hs["ready_in"].value))
                await RisingEdge(clk)
                i += int(take)
                await FallingEdge(clk)
                if int(hs["valid_out"].value):
                    monitor.sample()
        else:
            # The vector applied at falling edge i is taken by the next rising edge; its
            # result is visible at falling edge i + latency.
            for i in range(n + latency - 1):
                driver.apply(i)
                await FallingEdge(clk)
                if i >= latency - 1:
                    monitor.sample()
    observed = monitor.observed()
    assert len(observed) == n, f"monitor queue holds {len(observed)} outputs for {n} vectors"
    expected, bad = model.compare(manifest, stim, observed)
    np.savez(cfg["result"], observed=observed, expected=expected.astype(np.uint64),
             mismatches=bad + lo)
    dut._log.info("checked %d vectors, %d mismatches", n, bad.size)
    assert bad.size == 0, f"{bad.size} of {n} vectors mismatch the golden model (first at vector {bad[0] + lo})"
