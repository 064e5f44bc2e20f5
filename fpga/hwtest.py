"""``macforge hwtest``: stream vectors through the UART harness and check them against golden.

The same :class:`fpga.protocol.Session` runs over a serial port to a board (:func:`on_board`)
or over the cocotb UART model to the harness simulated by Verilator (:func:`simulate`); both
check the results with the co-simulation's reference model (:func:`sim.model.compare`) and
give the same report, line by line, to their ``out`` callable (``macforge hwtest`` prints it),
including every link error the protocol detected.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from macforge.errors import MacforgeError
from macforge.sim.model import compare
from macforge.sim.stimulus import make_stimulus

from .protocol import TIMEOUT_BYTES, LinkError, PortLayout, Session

__all__ = ["HwTestError", "HwTestResult", "check_drivable", "hwtest_stimulus", "simulate", "on_board", "report",
           "SerialLink"]


class HwTestError(MacforgeError, RuntimeError):
    """A hardware test could not run (no such port, wrong bitstream, link failure)."""


@dataclass
class HwTestResult:
    module: str
    vectors: int
    mismatches: int
    events: list = field(default_factory=list)      # link errors the protocol detected
    flips: list = field(default_factory=list)       # bytes the simulated link corrupted
    seconds: float = 0.0
    summary: str = ""

    @property
    def ok(self) -> bool:
        return self.vectors > 0 and self.mismatches == 0


def _silent(msg):
    pass


def check_drivable(manifest: dict) -> None:
    """HwTestError unless the harness can drive the unit: it packs one scalar code per port
    into a frame, so units with lane ports (dot) are refused before anything is built."""
    lanes = [p for p in manifest["ports"] if p.get("lanes")]
    if lanes:
        p = lanes[0]
        raise HwTestError(f"hwtest cannot drive {manifest['module']}: port {p['name']} has "
                          f"{p['lanes']} lanes of {p['lane_bits']} bits and the UART harness "
                          "packs one scalar code per port; verify dot units with "
                          "`macforge sim --unit dot` instead")


def hwtest_stimulus(manifest: dict, n: int, seed: int) -> dict:
    """``n`` vectors for a board run: for accumulating units the ``n`` random MAC steps of
    :func:`sim.stimulus.make_stimulus` (sums of random length, idle cycles, clears); for the
    others ``n`` vectors drawn (seeded) from its exhaustive or corner + random set."""
    stim = make_stimulus(manifest, n, seed)
    stim.pop("meta")
    total = len(stim["a"])
    if "first" in stim:
        sel = np.arange(total - n, total)
    else:
        rng = np.random.default_rng(seed)
        sel = np.sort(rng.choice(total, size=min(n, total), replace=False))
    return {k: v[sel] for k, v in stim.items()}


def report(manifest, stim, observed, events, flips, seconds, where, out=None) -> HwTestResult:
    """Check ``observed`` against the golden model; give the summary and any link events, one
    line each, to ``out`` (None: silent; ``macforge hwtest`` passes print)."""
    out = out or _silent
    from macforge.sim.runner import _mismatch_table
    expected, bad = compare(manifest, stim, observed)
    n = int(observed.size)
    for f in flips:
        out(f"  injected: {f}")
    for e in events:
        out(f"  link: {e}")
    link = (f"; {len(events)} link error(s) detected and recovered" if events else
            "; no link errors")
    if bad.size == 0:
        summary = (f"PASS {manifest['module']} on {where}: {n:,} vectors, 0 mismatches vs golden"
                   f" ({seconds:.1f} s{link})")
        out(summary)
    else:
        summary = (f"FAIL {manifest['module']} on {where}: {bad.size:,} of {n:,} vectors mismatch "
                   f"the golden model{link}")
        out(summary)
        out(_mismatch_table(manifest, stim, {"mismatches": bad, "observed": observed,
                                             "expected": expected}, 10))
    return HwTestResult(manifest["module"], n, int(bad.size), list(events), list(flips),
                        seconds, summary)


def _check_info(info: dict, layout: PortLayout, where: str):
    want = (layout.in_bits, layout.out_bits, layout.latency, layout.module)
    got = (info["in_bits"], info["out_bits"], info["latency"], info["module"])
    if got != want:
        raise HwTestError(f"{where} runs {info['module']} ({info['in_bits']} input bits, "
                          f"latency {info['latency']}), not {layout.module}; build its bitstream "
                          f"with `make fpga BOARD=... ` for the same unit arguments")


# -- simulation ----------------------------------------------------------------------------

def simulate(unit, n: int = 200, seed: int = 1, divisor: int = 8, corrupt_to_board=(),
             corrupt_from_board=(), split_every: int = 7, build_root: str = "build/fpga-sim",
             out=None) -> HwTestResult:
    """Run the harness of ``unit`` in Verilator under cocotb, the host session over the
    cocotb UART model, ``divisor`` clock cycles per bit; optionally corrupt the given byte
    indices (counted over the run) in either direction. The report goes to ``out`` (None:
    silent)."""
    from macforge import hw
    from amaranth.back import verilog
    from cocotb_tools.runner import get_runner

    from macforge.toolchain.verilator import ensure_verilator_on_path

    from .harness import HarnessCore

    manifest = unit.manifest()
    check_drivable(manifest)
    layout = PortLayout.from_manifest(manifest)
    core = HarnessCore(manifest, divisor)
    workdir = (Path(build_root) / f"{manifest['module']}_d{divisor}").resolve()
    paths = hw.write(unit, workdir / "rtl")
    harness_v = workdir / "rtl" / f"{core.top_name}.v"
    text = verilog.convert(core, name=core.top_name, emit_src=False)
    if not harness_v.exists() or harness_v.read_text() != text:
        harness_v.write_text(text)
    stim = hwtest_stimulus(manifest, n, seed)
    np.savez(workdir / "vectors.npz", **stim)
    result = workdir / "observed.npy"
    for stale in (result, Path(str(result) + ".json")):
        stale.unlink(missing_ok=True)
    cfg = {"manifest": manifest, "stimulus": str(workdir / "vectors.npz"), "divisor": divisor,
           "host_timeout_bytes": 4 * TIMEOUT_BYTES, "corrupt_to_board": list(corrupt_to_board),
           "corrupt_from_board": list(corrupt_from_board), "split_every": split_every,
           "result": str(result)}
    cfg_path = workdir / "hwtest.json"
    cfg_path.write_text(json.dumps(cfg, indent=1))
    ensure_verilator_on_path()
    runner = get_runner("verilator")
    t0 = time.time()
    log = workdir / "sim.log"
    try:
        runner.build(sources=[Path(paths["verilog"]), harness_v], hdl_toplevel=core.top_name,
                     build_dir=workdir / "obj", build_args=["-Wno-fatal", "--output-split", "0"],
                     log_file=workdir / "build.log")
    except (SystemExit, RuntimeError) as exc:
        raise HwTestError(f"Verilator could not build {core.top_name} ({exc}); see "
                          f"{workdir / 'build.log'}") from None
    t1 = time.time()
    try:
        runner.test(test_module="macforge.fpga._harness_bench", hdl_toplevel=core.top_name,
                    build_dir=workdir / "obj", test_dir=workdir,
                    extra_env={"MACFORGE_HWTEST": str(cfg_path)},
                    results_xml=str(workdir / "results.xml"), log_file=log)
    except SystemExit:
        pass
    if not result.exists():
        raise HwTestError(f"the harness simulation produced no result; see {log}")
    observed = np.load(result)
    meta = json.loads(Path(str(result) + ".json").read_text())
    _check_info(meta["info"], layout, "the simulated harness")
    where = (f"the simulated harness (Verilator, {divisor} clocks/bit, "
             f"{meta['sim_ns'] / 1e6:.2f} ms simulated; build {t1 - t0:.1f} s)")
    res = report(manifest, stim, observed, meta["events"], meta["flips"], time.time() - t1,
                 where, out)
    res.info = meta["info"]
    return res


# -- a real board --------------------------------------------------------------------------

class SerialLink:
    """The protocol's link over pyserial; ``read`` returns what arrived before the timeout."""

    def __init__(self, ser):
        self.ser = ser

    async def write(self, data: bytes):
        self.ser.write(data)
        self.ser.flush()

    async def read(self, n: int) -> bytes:
        return self.ser.read(n)

    async def drain(self):
        while self.ser.read(256):
            pass
        self.ser.reset_input_buffer()


def on_board(unit, board: str, port: str, n: int, seed: int = 1, baud: int | None = None,
             out=None) -> HwTestResult:
    """Stream ``n`` vectors through the harness on ``board`` at serial ``port``; progress and
    the report go to ``out`` (None: silent)."""
    out = out or _silent
    from .harness import BOARDS, DEFAULT_BAUD
    baud = DEFAULT_BAUD if baud is None else baud
    check_drivable(unit.manifest())
    if not os.path.exists(port):
        raise HwTestError(f"serial port {port} does not exist (is the {board} plugged in? "
                          "`python -m serial.tools.list_ports` lists the ports)")
    try:
        BOARDS[board].divisor(baud)
    except ValueError as exc:
        raise HwTestError(str(exc)) from None
    import serial
    manifest = unit.manifest()
    layout = PortLayout.from_manifest(manifest)
    stim = hwtest_stimulus(manifest, n, seed)
    # 0.1 s: well above the board's 16 byte-time request timeout and USB-serial latency
    try:
        ser = serial.Serial(port, baud, timeout=0.1)
    except (serial.SerialException, OSError) as exc:
        raise HwTestError(f"cannot open serial port {port}: {exc}") from None
    t0 = time.time()
    last = [0.0]

    def progress(done, total):
        if time.time() - last[0] > 2 or done == total:
            last[0] = time.time()
            out(f"  {done:,}/{total:,} vectors")

    async def session():
        s = Session(SerialLink(ser))
        await s.link.drain()
        info = await s.info()
        _check_info(info, layout, f"the board at {port}")
        return await s.run_vectors(layout, stim, progress), s.events

    try:
        with ser:
            observed, events = asyncio.run(session())
    except LinkError as exc:
        raise HwTestError(f"link to the {board} at {port} failed: {exc}") from None
    return report(manifest, stim, observed, events, [], time.time() - t0,
                  f"the {board} at {port} ({baud} baud)", out)
