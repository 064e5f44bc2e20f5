"""The sweep driver: plan, skip what is finished, run the rest locally or on Dask, record.

Only this process writes the results store; workers (local processes or Dask workers) run
:func:`costmodel.sweep._point.evaluate` and return plain dicts. Each result is recorded the
moment it arrives, so stopping the driver at any point -- Ctrl-C, ``kill -9``, a lost machine
-- loses at most the points in flight.
"""
from __future__ import annotations

import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field

from macforge import progress
from macforge.jobs import WorkerDied, run_pool

from ._point import code_digest, evaluate, worker_identity
from ._spec import SweepError, load_spec, with_clock
from ._store import FILE, Store, load_results, read_planned

__all__ = ["SweepReport", "run_sweep", "plan_sweep", "default_jobs", "dask_security",
           "TLS_FIELDS"]

#: A local worker process that dies this many times while a point runs fails the point.
MAX_CRASHES = 3


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                       # not Linux
        return os.cpu_count() or 1


@dataclass
class SweepReport:
    """What one ``run_sweep`` call did."""
    name: str
    outdir: str
    points: int                  # in the sweep file
    finished_before: int         # measured by earlier runs (ok), skipped
    failed_before: int           # failed in earlier runs, skipped (no --retry-failed)
    ran: int = 0                 # measured now
    ok: int = 0
    failed: int = 0
    reused: int = 0              # same Verilog and settings as a finished point: not re-run
    interrupted: bool = False
    seconds: float = 0.0
    workers: str = ""
    rows: list = field(default_factory=list)      # load_results(include_failed=True)

    @property
    def complete(self) -> bool:
        return not self.interrupted and len(self.rows) == self.points


def _run_local(tasks, jobs, handle, err):
    """The points on ``jobs`` local worker processes (:func:`macforge.jobs.run_pool`)."""
    def failed(t, exc):
        if isinstance(exc, WorkerDied):
            handle(t, _failed(f"worker process died {exc.crashes} times while measuring this "
                              "point (a crash in a tool or the simulator, or out of memory)"))
        else:                                   # e.g. a result that does not unpickle
            handle(t, _failed(f"{type(exc).__name__}: {exc}"))

    def restarted(t, exc):
        err.write(f"macforge sweep: a worker process died ({exc.how}); restarting it "
                  "(the point it was measuring is re-queued)\n")

    run_pool(evaluate, tasks, jobs, handle, on_error=failed, max_crashes=MAX_CRASHES,
             on_restart=restarted)


def _failed(error):
    return {"key": None, "status": "failed", "module": None, "metrics": {}, "error": error,
            "trace": None, "seconds": 0.0, "host": None}


#: TLS settings of a Dask connection: sweep-file key / CLI option -> distributed.Security field.
TLS_FIELDS = {"tls_ca_file": "tls_ca_file", "tls_cert": "tls_client_cert",
              "tls_key": "tls_client_key"}


def dask_security(tls: dict | None):
    """A ``distributed.Security`` for mutual TLS from ``{tls_ca_file, tls_cert, tls_key}``
    (each a readable file; ``tls_key`` may be left out when the certificate file holds the
    key), or None for no TLS. Encryption is then required on every connection."""
    tls = {k: v for k, v in (tls or {}).items() if v is not None}
    if not tls:
        return None
    unknown = [k for k in tls if k not in TLS_FIELDS]
    if unknown:
        raise SweepError(f"unknown TLS setting {unknown[0]!r}; accepted: " + ", ".join(TLS_FIELDS))
    for k in ("tls_ca_file", "tls_cert"):
        if k not in tls:
            raise SweepError(f"TLS needs tls_ca_file (the CA that signed the scheduler's "
                             f"certificate) and tls_cert (this driver's); {k} is missing")
    for k, v in tls.items():
        if not os.path.isfile(v) or not os.access(v, os.R_OK):
            raise SweepError(f"{k} {v}: no such readable file")
    from distributed.security import Security
    return Security(require_encryption=True, **{TLS_FIELDS[k]: v for k, v in tls.items()})


def _check_address(address, security):
    scheme, sep, rest = address.partition("://")
    if not sep or scheme not in ("tcp", "tls") or not rest:
        raise SweepError(f"scheduler address {address!r}: give tcp://HOST:PORT or "
                         "tls://HOST:PORT")
    if security is not None and scheme != "tls":
        raise SweepError(f"TLS settings need a tls:// scheduler address, not {address}")
    if security is None and scheme == "tls":
        raise SweepError(f"{address} is a TLS scheduler: give --tls-ca-file and --tls-cert "
                         "(and --tls-key), or the sweep file's dask: settings")


def _connect_dask(address, tls=None):
    try:
        from distributed import Client
    except ImportError:
        raise SweepError("--scheduler needs dask.distributed: pip install 'dask[distributed]'") \
            from None
    security = dask_security(tls)
    _check_address(address, security)
    try:
        return Client(address, timeout="20s", security=security)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise SweepError(f"cannot reach the Dask scheduler at {address}: {msg}") from None


def _check_workers(client, address):
    """Every worker must import macforge and run the same sources and tools as the driver."""
    try:
        client.wait_for_workers(1, timeout=120)
    except TimeoutError:
        raise SweepError(f"no Dask worker joined the scheduler at {address} within 120 s "
                         f"(start one: dask worker {address})") from None
    try:
        ids = client.run(worker_identity)
    except Exception as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise SweepError("the Dask workers cannot run macforge (start `dask worker` from the "
                         f"project's environment, e.g. .venv/bin/dask worker): {msg}") from None
    me = worker_identity()
    for addr, ident in sorted(ids.items()):
        if ident["code"] != me["code"] or ident["tools"] != me["tools"]:
            what = "sources" if ident["code"] != me["code"] else \
                f"tools ({ident['tools']} vs {me['tools']})"
            raise SweepError(f"Dask worker {addr} on {ident['host']} runs other macforge "
                             f"{what} than this driver; results would differ")
    return len(ids)


def _run_dask(tasks, client, handle):
    from distributed import as_completed
    by_key = {}
    futures = []
    for t in tasks:
        f = client.submit(evaluate, t, pure=False,
                          key=f"macforge-point-{t['param_key'][:20]}-{uuid.uuid4().hex[:8]}")
        by_key[f.key] = t
        futures.append(f)
    try:
        for f in as_completed(futures):
            t = by_key[f.key]
            try:
                r = f.result()
            except Exception as exc:           # KilledWorker: the cluster gave up on it
                msg = " ".join(str(exc).split()) or ""
                r = _failed(f"dask: {type(exc).__name__}: {msg}")
            handle(t, r)
    finally:
        client.cancel([f for f in futures if not f.done()])


def _count(planned, pkeys, retry_failed) -> tuple:
    """(finished ok, failed, to run) of ``pkeys`` given :meth:`Store.planned`."""
    done = sum(1 for s in planned.values() if s[1] == "ok")
    failed = sum(1 for s in planned.values() if s[1] == "failed")
    todo = sum(1 for pk in pkeys if pk not in planned
               or (retry_failed and planned[pk][1] == "failed"))
    return done, failed, todo


def _plan_line(spec, n_points, done, failed_before, todo, retry_failed, workers, where) -> str:
    """The one line that says what a run will do (and what a dry run would)."""
    skipped = (f", {failed_before} failed before (kept; --retry-failed runs them again)"
               if failed_before and not retry_failed else "")
    return (f"macforge sweep {spec.name}: {n_points} points"
            + (f" ({spec.excluded} excluded" if spec.excluded else "")
            + (f"{', ' if spec.excluded else ' ('}{len(spec.invalid)} not buildable, "
               "skipped" if spec.invalid else "")
            + (")" if spec.excluded or spec.invalid else "")
            + f"; {done} finished before{skipped}; {todo} to run"
            + (f" on {workers}" if workers else "") + f"; results in {where}\n")


def _param_keyer(measure, code, tools):
    """A point's parameter key from its axes: ``key("sweep-param", axes, measure, code,
    tools)``, the same for a run and a dry run."""
    from macforge.costmodel.cache import keyer
    return keyer(("sweep-param",), (measure, code, tools))


def plan_sweep(path: str, outdir: str = "results", retry_failed: bool = False, err=None,
               progress=None, clock_mhz: float | None = None) -> SweepReport:
    """What :func:`run_sweep` of the sweep file ``path`` into ``outdir`` would do, writing
    nothing (no store, no lock; an existing store is read read-only), in memory that does
    not grow with the number of points: each point is planned and dropped.

    Each point's parameter key is computed as a run computes it, and looked up in batches;
    ``clock_mhz``: as ``macforge sweep --clock-mhz`` (:func:`with_clock`).
    """
    from macforge.toolchain.versions import tool_versions
    err = err if err is not None else sys.stderr
    code, tools = code_digest(), tool_versions()
    param_key = None
    store = os.path.join(outdir, FILE)
    counts = [0, 0, 0]                  # finished ok, failed, to run
    batch = []

    def flush():
        for i, n in enumerate(_count(read_planned(store, batch), batch, retry_failed)):
            counts[i] += n
        batch.clear()

    def on_point(spec, p):
        nonlocal param_key
        if param_key is None:
            measure = with_clock(spec, clock_mhz).measure if clock_mhz else spec.measure
            param_key = _param_keyer(measure, code, tools)
        batch.append(param_key(p.axes))
        if len(batch) >= 2000:
            flush()

    spec = load_spec(path, progress=progress, on_point=on_point)
    flush()
    done, failed, todo = counts
    err.write(_plan_line(spec, spec.n_points, done, failed, todo, retry_failed, "", store))
    return SweepReport(spec.name, outdir, spec.n_points, done, 0 if retry_failed else failed)


def run_sweep(spec, outdir: str = "results", jobs: int | None = None,
              scheduler: str | None = None, retry_failed: bool = False, dry_run: bool = False,
              err=None, tls: dict | None = None) -> SweepReport:
    """Run every point of ``spec`` not yet finished in ``outdir``; return what happened.

    ``jobs`` local worker processes (default: one per core), or the workers of the Dask
    scheduler at ``scheduler`` (``tcp://HOST:PORT``). Progress goes to ``err`` (stderr).
    Ctrl-C returns with ``interrupted=True`` after recording everything finished.
    ``tls``: ``{tls_ca_file, tls_cert, tls_key}`` for a ``tls://`` scheduler
    (:func:`dask_security`; the sweep file's ``dask:`` block gives the defaults of
    ``scheduler`` and ``tls``). ``dry_run``: say what would run and write nothing (:func:`plan_sweep` does the same from
    the file, without holding the points).
    """
    from macforge.costmodel.cache import key
    from macforge.toolchain.versions import tool_versions
    err = err if err is not None else sys.stderr
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise SweepError(f"jobs must be a positive integer, not {jobs!r}")
    jobs = jobs or default_jobs()
    dask = getattr(spec, "dask", None) or {}
    scheduler = scheduler or dask.get("scheduler")
    tls = {**{k: v for k, v in dask.items() if k in TLS_FIELDS}, **(tls or {})}
    if scheduler:                            # a bad address or TLS file: before any work
        _check_address(scheduler, dask_security(tls))
    elif tls:
        raise SweepError("TLS settings are for a Dask scheduler; give --scheduler "
                         "tls://HOST:PORT (or dask: scheduler: in the sweep file)")
    code, tools = code_digest(), tool_versions()
    param_key = _param_keyer(spec.measure, code, tools)
    pkeys = [param_key(p.axes) for p in spec.points]
    if dry_run:
        planned = read_planned(os.path.join(outdir, FILE), pkeys)
        done, failed_before, todo = _count(planned, pkeys, retry_failed)
        err.write(_plan_line(spec, len(spec.points), done, failed_before, todo, retry_failed,
                             "", os.path.join(outdir, FILE)))
        return SweepReport(spec.name, outdir, len(spec.points), done,
                           0 if retry_failed else failed_before)
    try:
        store = Store(outdir)
    except OSError as exc:
        raise SweepError(str(exc)) from None
    try:
        measure_json = json.dumps(spec.measure, sort_keys=True)
        sid = store.begin(
            key("sweep", pkeys), spec.name, spec.path, spec.text, spec.measure,
            [(pk, p.module, p.axes) for pk, p in zip(pkeys, spec.points)])
        planned = store.planned(pkeys)
        done, failed_before, _ = _count(planned, pkeys, retry_failed)
        todo = [(pk, p) for pk, p in zip(pkeys, spec.points)
                if pk not in planned or (retry_failed and planned[pk][1] == "failed")]
        rep = SweepReport(spec.name, outdir, len(spec.points), done,
                          0 if retry_failed else failed_before)
        client = None
        if todo:
            if scheduler:
                client = _connect_dask(scheduler, tls)
                n = _check_workers(client, scheduler)
                rep.workers = f"{n} Dask worker(s) at {scheduler}"
            else:
                rep.workers = f"{min(jobs, len(todo))} local worker process(es)"
        err.write(_plan_line(spec, len(spec.points), done, failed_before, len(todo),
                             retry_failed, rep.workers, store.path))
        if not todo:
            if client is not None:
                client.close()
            rep.rows = load_results(store.path, sid, include_failed=True)
            return rep
        session = uuid.uuid4().hex[:12]
        tasks = [{"param_key": pk, "index": i, "kwargs": p.kwargs, "axes": p.axes,
                  "measure": spec.measure, "known": store.known(p.module, measure_json)}
                 for i, (pk, p) in enumerate(todo)]
        bar = progress.bar(len(tasks), f"macforge sweep {spec.name}", unit="point", stream=err)

        def handle(t, r):
            store.record(t["param_key"], r, measure_json, session)
            rep.ran += 1
            if r["status"] == "known":
                rep.reused += 1
            elif r["status"] == "ok":
                rep.ok += 1
            else:
                rep.failed += 1
            bar.set_postfix_str(f"{rep.failed} failed", refresh=False)
            bar.update(1)

        t0 = time.perf_counter()
        try:
            if client is not None:
                try:
                    _run_dask(tasks, client, handle)
                finally:
                    client.close()
            else:
                _run_local(tasks, jobs, handle, err)
        except KeyboardInterrupt:
            rep.interrupted = True
        finally:
            rep.seconds = time.perf_counter() - t0
            bar.close()
        if rep.interrupted:
            err.write(f"macforge sweep: interrupted; {done + rep.ok} of {len(spec.points)} "
                      f"points finished and recorded in {store.path} -- run again to resume\n")
        rep.rows = load_results(store.path, sid, include_failed=True)
        return rep
    finally:
        store.close()
