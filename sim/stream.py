"""Huge co-simulation runs in chunks: resumable, in parallel, with progress.

:func:`stream` verifies every vector of a :class:`sim.sweeps.Sweep` on the fast harness
(:class:`sim.fast.FastSim`): it generates a chunk, simulates it, compares it with the golden
model and records the result in a small JSON progress file, written atomically after every
chunk. Ctrl-C (or a lost machine) loses no finished chunk: the next run with the same RTL,
sweep and checker resumes where it stopped. With ``jobs > 1`` the chunks are checked on worker
processes (:func:`macforge.jobs.run_pool`), each with its own model instance; a MAC's chunks are
each checked from the state its own model held (:class:`sim.continuation.Continuation`).

Examples
--------
>>> from macforge import hw
>>> from macforge.sim import stream, sweeps
>>> r = stream.stream(hw.make_unit("mul", "bf16").manifest(), "fmul_bf16.v",
...                   sweeps.pair_sweep("bf16"), jobs=2, out=print)     # doctest: +SKIP
>>> print(stream.format_rows(manifest, r.first))                       # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from macforge import golden
from macforge.jobs import atomic_write_json, hms, run_pool
from macforge.sim import model
from macforge.sim._fast_harness import FastSimError, _tool_versions
from macforge.sim._lanes import format_lanes
from macforge.sim.continuation import Continuation, state_before
from macforge.sim.fast import FastSim
from macforge.sim.sweeps import Sweep

__all__ = ["StreamResult", "stream", "format_rows"]


def _silent(line: str) -> None:
    pass


@dataclass
class StreamResult:
    """Outcome of :func:`stream` (cumulative over resumed sessions where it says so)."""
    sweep: str
    module: str
    total: int
    vectors: int                    # checked so far (all sessions)
    mismatches: int                 # so far (all sessions)
    first: list                     # the first mismatches: dicts of index, inputs, expected, got
    complete: bool
    seconds: float                  # this session, wall
    session_vectors: int            # checked in this session
    timing: dict                    # this session: stimulus / sim / golden seconds
    progress_file: str | None

    @property
    def ok(self) -> bool:
        return self.complete and self.mismatches == 0 and self.vectors > 0

    @property
    def rate(self) -> float:
        """Vectors verified per second in this session (stimulus + sim + golden)."""
        return self.session_vectors / self.seconds if self.seconds > 0 else 0.0


def _mismatch_rows(manifest, stim, observed, expected, bad, base, state, limit):
    rows = []
    for i in bad[:limit]:
        i = int(i)
        row = {"index": base + i,
               "inputs": {k: np.asarray(v)[i].tolist() for k, v in stim.items()},
               "expected": int(expected[i]), "got": int(observed[i])}
        acc = state_before(manifest, observed, state, i)
        if acc is not None:
            row["acc_before"] = acc
        rows.append(row)
    return rows


def format_rows(manifest: dict, rows: list) -> str:
    """The first mismatches, inputs and outputs in hex and decoded (as the runner prints)."""
    f = manifest["formats"]
    fo = model.output_format(manifest)
    fmts = {"a": golden.parse(f["a"]), "b": golden.parse(f["b"]), "c": fo}
    if "scale" in f:                                   # block dot units: scale codes
        fmts["sa"] = fmts["sb"] = golden.parse(f["scale"])
    lane_bits = {p["name"]: p["lane_bits"] for p in manifest["ports"] if "lane_bits" in p}

    def code(fmt, c):
        val = float(fmt.decode(np.array([c]).astype(fmt.dtype))[0])
        return f"0x{int(c):0{(fmt.bits + 3) // 4}x} ({val:.9g})"

    lines = []
    for r in rows:
        ins = [f"{p}={format_lanes(v, lane_bits.get(p, 8))}" if isinstance(v, list)
               else f"{p}={code(fmts[p], v)}" if p in fmts else f"{p}={v}"
               for p, v in r["inputs"].items()]
        if "acc_before" in r:
            ins.append(f"acc_before={code(fo, r['acc_before'])}")
        lines.append(f"  vector {r['index']}: " + " ".join(ins))
        lines.append(f"      expected {code(fo, r['expected'])}   got {code(fo, r['got'])}")
    return "\n".join(lines)


def _checker_digest() -> str:
    """Hash of what a verdict depends on besides the RTL: the golden model, the reference
    model, this harness, numpy, Verilator and the compiler. A progress file made by other
    code or tools is not resumed."""
    h = hashlib.sha256(json.dumps([np.__version__, _tool_versions()], sort_keys=True).encode())
    files = sorted(Path(golden.__file__).parent.glob("*.py"))
    here = Path(__file__).parent
    files += [here / f for f in ("model.py", "_fast_harness.py", "_lanes.py", "fast.py",
                                 "continuation.py", "sweeps.py", "stimulus.py", "stream.py")]
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _merge(ranges):
    out = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


def _covered(ranges) -> int:
    return sum(hi - lo for lo, hi in ranges)


class _ChunkChecker:
    """Simulates and checks chunks of a sweep; in-process or in a worker process."""

    def __init__(self, manifest, verilog, top, build_root, sweep, report_rows, info=None):
        self.manifest, self.sweep, self.report_rows = manifest, sweep, report_rows
        self.dut = FastSim(manifest, verilog, top=top, build_root=build_root, info=info)
        self.cont = Continuation(manifest)     # this model's state between its chunks
        self.hook = None                       # in-process: called with every checked chunk

    def __call__(self, lo, hi):
        t0 = time.perf_counter()
        stim = self.sweep.chunk(lo, hi)
        t1 = time.perf_counter()
        observed = self.dut.run(stim)
        t2 = time.perf_counter()
        acc_before = self.cont.state
        expected, bad = self.cont.compare(stim, observed)
        t3 = time.perf_counter()
        if self.hook is not None:            # may drop mismatches it accepts (--nan any)
            bad = self.hook(lo, stim, observed, expected, bad)
        rows = _mismatch_rows(self.manifest, stim, observed, expected, bad, lo, acc_before,
                              self.report_rows)
        return lo, hi, int(bad.size), rows, {"stimulus": t1 - t0, "sim": t2 - t1,
                                             "golden": t3 - t2}


_WORKER: _ChunkChecker | None = None       # a worker process's own model (jobs > 1)


def _worker_init(*args):
    global _WORKER
    _WORKER = _ChunkChecker(*args)


def _worker_chunk(task):
    return _WORKER(*task)


def stream(manifest: dict, verilog, sweep: Sweep, *, top: str | None = None,
           build_root="build/sim", chunk: int = 1 << 22, jobs: int = 1, progress=None,
           resume: bool = True, limit: int | None = None, report_rows: int = 10,
           every: float = 10.0, out=None, info=None, on_chunk=None) -> StreamResult:
    """Verify every vector of ``sweep`` in chunks: generate, simulate, compare, accumulate.

    Parameters
    ----------
    chunk : int
        Vectors per chunk (2^22 = 4 Mi: tens of MB of columns and golden temporaries).
    jobs : int
        Worker processes (:func:`macforge.jobs.run_pool`), each with its own model instance,
        checking chunks in parallel (1: in this process, one core). A MAC stays correct under
        any split: each chunk is checked from the accumulator its own model held before it (a
        posit MAC: by replaying the sum its own model left open). A worker that dies (a crash
        in the model, out of memory) is replaced and its chunk checked again; a chunk that
        kills three workers stops the run with :class:`macforge.jobs.WorkerDied`.
    progress : path, optional
        JSON progress file (default ``<build_root>/<top>/fast/<sweep.name>.progress.json``),
        written atomically after every chunk: the vector ranges done, the mismatch count, the
        first mismatches and the time spent. With ``resume`` a run skips what a previous run
        finished with the same RTL, manifest, sweep and chunk size and the same golden model
        and harness code (their sources are hashed into the file's key); a finished file is
        reported, not re-run.
    limit : int, optional
        Stop after about this many vectors in this session (timing samples); progress is kept.
    every : float
        Seconds between progress lines (rate, mismatches so far, ETA).
    info : RtlInfo, optional
        :func:`sim._rtl.inspect` of ``verilog`` when the caller has it (``verilog`` may be a
        path or a :class:`macforge.toolchain.sources.RtlSources`).
    on_chunk : callable, optional
        ``on_chunk(lo, stim, observed, expected, bad)`` after every chunk checked in this
        process (``jobs`` = 1), returning the mismatches that count (``bad`` or fewer): how
        :mod:`sim.runner` writes the CSV and the diagnosis of a streamed run without holding
        it, and accepts any NaN code under ``--nan any``. Its policy must be part of
        ``progress`` 's name or the sweep's, so sessions under other policies do not mix.
    out : callable, optional
        Called with each progress line (what is resumed, the plan, progress, a worker
        restarted, an interruption); by default nothing is printed. ``out=print`` shows them.

    Returns
    -------
    StreamResult

    Ctrl-C stops after saving the progress of every finished chunk; the result then has
    ``complete=False`` and the next run resumes where it stopped.

    Examples
    --------
    >>> from macforge import hw
    >>> from macforge.sim.stream import stream
    >>> from macforge.sim.sweeps import pair_sweep
    >>> r = stream(hw.make_unit("mul", "bf16").manifest(), "fmul_bf16.v", pair_sweep("bf16"),
    ...            jobs=2, out=print)                                  # doctest: +SKIP
    >>> r.ok, r.vectors                                                # doctest: +SKIP
    (True, 4294967296)
    """
    top = top or manifest["module"]
    out = out or _silent
    if not isinstance(jobs, int) or jobs < 1:
        raise FastSimError(f"jobs must be a positive integer, not {jobs!r}")
    if on_chunk is not None and jobs != 1:
        raise FastSimError("on_chunk sees the chunks checked in this process: give jobs=1")
    args = (manifest, verilog, top, build_root, sweep, report_rows)
    local = _ChunkChecker(*args, info=info)   # builds (or finds) the harness first, here
    local.hook = on_chunk
    # the harness' cache key covers every file Verilator read (includes too) and the tools
    ident = {"format": 3, "sweep": sweep.name, "total": sweep.total, "chunk": chunk, "top": top,
             "rtl": local.dut.library.parent.name,
             "checker": _checker_digest(),
             "manifest": {k: manifest[k] for k in sorted(manifest) if k != "multiplier"}}
    key = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]
    pfile = Path(progress) if progress else (Path(build_root) / top / "fast" /
                                             f"{sweep.name}.progress.json")
    pfile.parent.mkdir(parents=True, exist_ok=True)
    lock = open(pfile.with_name(pfile.name + ".lock"), "w")
    try:
        import fcntl
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        local.dut.close()
        raise FastSimError(f"another run is using the progress file {pfile}") from None
    except ImportError:                 # no flock (Windows): no protection against two runs
        pass
    try:
        return _stream_locked(manifest, sweep, top, chunk, jobs, pfile, key, resume, limit,
                              report_rows, every, out, local, args)
    finally:
        local.dut.close()
        lock.close()


def _stream_locked(manifest, sweep, top, chunk, jobs, pfile, key, resume, limit, report_rows,
                   every, out, local, args) -> StreamResult:
    state = {"key": key, "sweep": sweep.name, "module": manifest["module"], "total": sweep.total,
             "chunk": chunk, "done": [], "mismatches": 0, "first": [], "seconds": 0.0}
    if resume and pfile.exists():
        try:
            saved = json.loads(pfile.read_text())
        except (OSError, ValueError):
            saved = None
        if saved and saved.get("key") == key:
            state = saved
            done = _covered(state["done"])
            if done < sweep.total:
                out(f"resuming {sweep.name}: {done:,} of {sweep.total:,} vectors done "
                    f"({state['mismatches']:,} mismatches so far) per {pfile}")
            else:
                out(f"{sweep.name}: all {sweep.total:,} vectors already checked "
                    f"({state['mismatches']:,} mismatches) per {pfile}")
    done_chunks = {start // chunk for lo, hi in state["done"] for start in range(lo, hi, chunk)}
    pending = [(k * chunk, min(sweep.total, (k + 1) * chunk))
               for k in range(-(-sweep.total // chunk)) if k not in done_chunks]
    if limit is not None:
        keep, n = [], 0
        for lo, hi in pending:
            if n >= limit:
                break
            keep.append((lo, hi))
            n += hi - lo
        pending = keep
    timing = {"stimulus": 0.0, "sim": 0.0, "golden": 0.0, "build": 0.0}
    session = 0
    t_start = time.perf_counter()
    if pending:
        todo = sum(hi - lo for lo, hi in pending)
        timing["build"] = local.dut.build_seconds
        out(f"{sweep.describe or sweep.name} on {top}: {todo:,} vectors to check in "
            f"{len(pending):,} chunks of {chunk:,}"
            + (f" on {jobs} worker processes" if jobs > 1 else "")
            + (" (harness from cache)" if local.dut.cached
               else f" (harness built in {local.dut.build_seconds:.1f} s)"))
        t_start = time.perf_counter()
        last_print = t_start

        def record(result):
            nonlocal session, last_print
            lo, hi, nbad, rows, tm = result
            for k, v in tm.items():
                timing[k] += v
            state["done"] = _merge(state["done"] + [[lo, hi]])
            state["mismatches"] += nbad
            if rows:
                state["first"] = sorted(state["first"] + rows,
                                        key=lambda r: r["index"])[:report_rows]
            state["seconds"] += sum(tm.values())
            session += hi - lo
            atomic_write_json(pfile, state)
            now = time.perf_counter()
            if now - last_print >= every or session >= todo:
                last_print = now
                rate = session / (now - t_start)
                left = sweep.total - _covered(state["done"])
                eta = left / rate if rate > 0 else float("inf")
                out(f"  {100 * (sweep.total - left) / sweep.total:6.2f}%  "
                    f"{sweep.total - left:,} / {sweep.total:,}  {rate / 1e6:.2f} M vectors/s  "
                    f"{state['mismatches']:,} mismatches  ETA {hms(eta)}")

        try:
            if jobs == 1:
                for lo, hi in pending:
                    record(local(lo, hi))
            else:
                local.dut.close()

                def restarted(task, exc):
                    out(f"  a worker process died ({exc.how}) checking vectors {task[0]:,}.."
                        f"{task[1] - 1:,}; checking them again on a new one")

                run_pool(_worker_chunk, pending, jobs, lambda task, result: record(result),
                         initializer=_worker_init, initargs=args, on_restart=restarted)
        except KeyboardInterrupt:
            out(f"interrupted: {_covered(state['done']):,} of {sweep.total:,} vectors done; "
                f"progress saved in {pfile} -- run again to resume")
        finally:
            local.dut.close()
    seconds = time.perf_counter() - t_start
    checked = _covered(state["done"])
    return StreamResult(sweep.name, manifest["module"], sweep.total, checked,
                        state["mismatches"], state["first"], checked >= sweep.total, seconds,
                        session, timing, str(pfile))
