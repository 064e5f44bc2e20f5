"""One bounded pool of worker processes, and the small helpers every long job shares.

:func:`run_pool` runs a function over many tasks in ``jobs`` spawned worker processes and hands
each result to a callback in the calling process as it arrives. Both exhaustive sweeps
(:func:`macforge.sim.stream.stream`) and design-space sweeps (``macforge sweep``) use it. It is
built for jobs that take hours:

- **bounded**: at most ``2 * jobs`` tasks are taken from ``tasks`` and not yet finished (one
  running in each worker, up to ``jobs`` waiting), so ``tasks`` can be a lazy iterable of any
  length;
- **a dead worker is replaced**, not the pool: when a worker dies while running a task
  (``kill -9``, a crash in C code, the kernel's out-of-memory killer), only that worker is
  restarted and only its task is queued again; the others keep running. A task that has killed
  ``max_crashes`` workers is reported as failed (:class:`WorkerDied`) instead of being retried
  forever. Every other task's result arrives exactly once;
- **Ctrl-C** is the caller's: workers do not react to SIGINT, so one Ctrl-C raises
  :class:`KeyboardInterrupt` in the calling process only; the pool then stops its workers and
  drops the queued tasks, and the caller prints one line -- no worker tracebacks;
- **no orphans**: every worker leads its own process group, which the tools it runs (Yosys,
  nextpnr, Verilator builds) join. When the driver dies -- ``kill -9`` included -- the kernel
  tells the worker (Linux: ``prctl(PR_SET_PDEATHSIG, SIGTERM)``) and a watchdog thread sees
  its parent change (everywhere, within a second); either way the worker kills its whole
  group. Stopping the pool kills each worker's group too. Tools that must run in a session
  of their own call :func:`die_with_parent` as they start. Being in their own group, workers
  and their tools never see a terminal's Ctrl-C: only the driver does.

:func:`atomic_write_json` writes a progress file so that a crash leaves the old or the new
file, never a part; :func:`hms` is the one duration format of progress lines.

This module imports nothing of macforge: every layer may use it.

Examples
--------
>>> import math
>>> from macforge import jobs
>>> roots = {}
>>> jobs.run_pool(math.sqrt, [1.0, 4.0, 9.0], 2, roots.__setitem__)   # doctest: +SKIP
>>> sorted(roots.items())                                             # doctest: +SKIP
[(1.0, 1.0), (4.0, 2.0), (9.0, 3.0)]
>>> jobs.hms(3725)
'1h02m05s'
"""
from __future__ import annotations

import collections
import contextlib
import ctypes
import json
import math
import multiprocessing
import multiprocessing.connection
import multiprocessing.resource_tracker
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable

__all__ = ["run_pool", "WorkerDied", "die_with_parent", "atomic_write_json", "hms"]

#: Seconds a worker gets to exit after the pool asks it to (then it is terminated).
_STOP_GRACE = 5.0


class WorkerDied(RuntimeError):
    """A worker process died while it ran a task (or, with no task, while it started).

    Parameters
    ----------
    message : str
    exitcode : int or None
        The worker's exit status as :attr:`multiprocessing.Process.exitcode` gives it:
        negative for a signal (``-9``: SIGKILL).
    crashes : int
        How many workers this task has killed so far.
    """

    def __init__(self, message: str, exitcode: int | None = None, crashes: int = 0):
        super().__init__(message)
        self.exitcode = exitcode
        self.crashes = crashes

    def __reduce__(self):
        return type(self), (self.args[0], self.exitcode, self.crashes)

    @property
    def how(self) -> str:
        """The exit status in words: ``killed by SIGKILL``, ``exit code 3``."""
        return _how(self.exitcode)


def _how(exitcode) -> str:
    if exitcode is None:
        return "exit status unknown"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker (set as its ``__cause__``)."""

    def __init__(self, tb: str):
        super().__init__(tb)
        self.tb = tb

    def __str__(self):
        return self.tb


# -- the worker side ------------------------------------------------------------------------------
def _ignore_sigint(signum, frame):
    pass


def _detach_from_ctrl_c() -> None:
    """Ctrl-C in a terminal signals the whole foreground process group; it is the driver's to
    handle. A no-op handler, not SIG_IGN: a handler is reset by ``exec``, so the tools a task
    runs (Yosys, nextpnr) still stop on Ctrl-C, as they would outside a pool."""
    signal.signal(signal.SIGINT, _ignore_sigint)
    if hasattr(signal, "pthread_sigmask"):           # blocked by the driver while it spawned us
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _kill_own_group(signum=None, frame=None) -> None:
    """SIGKILL this process's group: the process and every tool it started in it."""
    try:
        os.killpg(os.getpgid(0), signal.SIGKILL)
    finally:
        os._exit(1)


def die_with_parent(parent_pid: int | None = None, poll: float = 1.0) -> None:
    """Kill this process's group as soon as its parent (``parent_pid``, default the current
    one) is gone: a parent-death signal on Linux (``prctl(PR_SET_PDEATHSIG, SIGTERM)`` with a
    handler that kills the group) and, everywhere, a daemon thread that checks the parent
    every ``poll`` seconds. Call it early in a process that leads its own group or session
    (a pool worker, a tool started with ``start_new_session=True``); from the main thread."""
    parent_pid = os.getppid() if parent_pid is None else parent_pid
    signal.signal(signal.SIGTERM, _kill_own_group)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1                                    # <linux/prctl.h>
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):                           # no libc prctl: the thread
            pass
    if os.getppid() != parent_pid:              # died before the request took effect
        _kill_own_group()

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(poll)
        _kill_own_group()
    threading.Thread(target=watch, name="macforge-die-with-parent", daemon=True).start()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _error_reply(kind: str, tid, exc: BaseException) -> tuple:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (kind, tid, _portable(exc), tb)


def _worker_main(conn, fn, initializer, initargs, parent_pid) -> None:
    """A worker: set up, say ``ready``, then run ``(tid, task)`` messages until ``None``."""
    _detach_from_ctrl_c()
    try:
        os.setpgid(0, 0)                        # our group: we and our tools, no terminal's ^C
    except OSError:                             # not permitted here: the driver's group, then
        pass
    die_with_parent(parent_pid)
    try:
        if initializer is not None:
            initializer(*initargs)
    except BaseException as exc:
        _send(conn, _error_reply("init-error", None, exc))
        return
    if not _send(conn, ("ready", None, None, None)):
        return
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):                 # the driver is gone
            return
        if msg is None:
            return
        tid, task = msg
        try:
            reply = ("ok", tid, fn(task), None)
        except BaseException as exc:                # the task's failure, reported; we go on
            reply = _error_reply("error", tid, exc)
        try:
            if not _send(conn, reply):
                return
        except Exception as exc:                    # a result that does not pickle
            if not _send(conn, _error_reply("error", tid, exc)):
                return


def _send(conn, msg) -> bool:
    """Send ``msg`` to the driver; False if it is gone."""
    try:
        conn.send(msg)
        return True
    except (BrokenPipeError, ConnectionError, EOFError):
        return False


@contextlib.contextmanager
def _sigint_blocked_for_spawn():
    """SIGINT blocked in the driver while it spawns a child, so that the child boots with it
    blocked (until it installs its own handler) and the driver gets a Ctrl-C after the spawn."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    # the resource tracker starts with the first spawn and unblocks SIGINT once it runs: the
    # worker spawned after it booted unblocked. Started first, it leaves the mask alone.
    multiprocessing.resource_tracker.ensure_running()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# -- the driver side ------------------------------------------------------------------------------
class _Worker:
    def __init__(self, ctx, fn, initializer, initargs):
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, name="macforge-worker",
                                args=(child, fn, initializer, initargs, os.getpid()))
        # SIGINT stays blocked in the child until it has installed its own handler, so a
        # Ctrl-C while it boots gives no traceback (mostly: see docs/security.md)
        try:
            with _sigint_blocked_for_spawn():
                self.proc.start()
        except BaseException:           # a Ctrl-C delivered as the spawn ends: no orphan left
            if self.proc.pid is not None:
                self.proc.kill()
                self.proc.join()
            child.close()
            self.conn.close()
            raise
        child.close()
        self.ready = False
        self.dead = False                           # exited: being buried
        self.job = None                             # (tid, task) running here

    def give(self, job) -> bool:
        """Send ``job``; False if the worker is already gone (``job`` is not its)."""
        if self.dead:
            return False
        try:
            self.conn.send(job)
        except (BrokenPipeError, ConnectionError):
            return False
        self.job = job
        return True



def _kill_group(w: _Worker) -> None:
    """SIGKILL ``w``'s process group (the worker and the tools it runs), if it has its own."""
    try:
        if w.proc.pid is not None and os.getpgid(w.proc.pid) == w.proc.pid:
            os.killpg(w.proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _stop(workers: list[_Worker], force: bool) -> None:
    """Ask every worker to exit (``force``: kill their groups at once), wait, then kill."""
    for w in workers:
        if force:
            _kill_group(w)
            w.proc.terminate()
        else:
            try:
                w.conn.send(None)
            except OSError:
                pass
    deadline = time.monotonic() + _STOP_GRACE
    for w in workers:
        w.proc.join(max(0.0, deadline - time.monotonic()))
        if w.proc.is_alive():
            _kill_group(w)
            w.proc.kill()
            w.proc.join()
        w.conn.close()


def run_pool(fn: Callable[[Any], Any], tasks: Iterable, jobs: int,
             on_result: Callable[[Any, Any], None], *,
             on_error: Callable[[Any, BaseException], None] | None = None,
             initializer: Callable | None = None, initargs: tuple = (),
             max_crashes: int = 3,
             on_restart: Callable[[Any, WorkerDied], None] | None = None) -> None:
    """Run ``fn(task)`` for every task in ``jobs`` worker processes; return when all are done.

    Parameters
    ----------
    fn : callable
        ``fn(task) -> result``, run in a worker. It and ``initializer`` must be importable
        module-level functions; tasks, results and ``initargs`` must pickle (the workers are
        started with the ``spawn`` method: a fresh interpreter, no inherited state).
    tasks : iterable
        Taken lazily: at most ``2 * jobs`` are taken and not yet finished at any time.
    jobs : int
        Worker processes (started as they are needed, so never more than there are tasks).
    on_result : callable
        ``on_result(task, result)``, called in this process as each result arrives (in
        completion order), exactly once per task.
    on_error : callable, optional
        ``on_error(task, exc)`` for a task that raised ``exc`` in its worker (the worker goes
        on; the remote traceback is ``exc.__cause__``), whose result could not be sent back,
        or that killed ``max_crashes`` workers (``exc`` is a :class:`WorkerDied`). Without it,
        the first such error stops the pool and is raised here.
    initializer, initargs : optional
        ``initializer(*initargs)`` runs once in every worker before its first task (e.g. to
        build a simulator that the worker's tasks share through a module global). An exception
        there stops the pool and is raised here.
    max_crashes : int
        A task whose worker dies this many times (it is run again after each death) is failed.
    on_restart : callable, optional
        ``on_restart(task, exc)`` when a worker died running ``task`` and the task is queued
        again on a new worker; ``exc`` is a :class:`WorkerDied` (``exc.how``, ``exc.crashes``).

    Raises
    ------
    WorkerDied
        A task killed ``max_crashes`` workers and there is no ``on_error``; or workers died
        ``max_crashes`` times in a row while starting.
    KeyboardInterrupt
        Ctrl-C: the workers are stopped and the tasks not finished are dropped (nothing more is
        passed to ``on_result``).

    Notes
    -----
    A task running when its worker died is run again from the start, so a task may *run* more
    than once; its result is still delivered once. The workers ignore SIGINT and, on Linux,
    are killed by the kernel if the thread that called ``run_pool`` dies; so call it from a
    thread that outlives the pool (the main thread, typically).

    Examples
    --------
    >>> from macforge.jobs import run_pool
    >>> magnitudes = {}
    >>> run_pool(abs, [-3, -2, 1], 2, magnitudes.__setitem__)         # doctest: +SKIP
    >>> magnitudes                                                     # doctest: +SKIP
    {-3: 3, -2: 2, 1: 1}

    A task that may crash its worker, and failures reported rather than raised:

    >>> failed = []
    >>> run_pool(evaluate, points, 8, record, max_crashes=3,
    ...          on_error=lambda t, exc: failed.append((t, str(exc))))   # doctest: +SKIP
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, not {jobs!r}")
    if isinstance(max_crashes, bool) or not isinstance(max_crashes, int) or max_crashes < 1:
        raise ValueError(f"max_crashes must be a positive integer, not {max_crashes!r}")
    ctx = multiprocessing.get_context("spawn")
    source = iter(tasks)
    queue = collections.deque()             # (tid, task) taken from ``tasks``, not yet running
    exhausted = False
    next_tid = 0
    crashes: dict[int, int] = {}
    boot_deaths = 0                         # workers that died while starting, in a row
    workers: list[_Worker] = []

    def fill():
        nonlocal exhausted, next_tid
        while len(queue) < jobs and not exhausted:
            try:
                task = next(source)
            except StopIteration:
                exhausted = True
                break
            queue.append((next_tid, task))
            next_tid += 1

    def give(w: _Worker) -> None:
        if queue and w.give(queue[0]):      # else it died idle: its sentinel will tell
            queue.popleft()

    def failed(task, exc):
        if on_error is None:
            raise exc
        on_error(task, exc)

    def receive(w: _Worker) -> None:
        """One message from ``w`` (a dead worker's last words included)."""
        nonlocal boot_deaths
        try:
            kind, tid, value, tb = w.conn.recv()
        except (EOFError, OSError):
            raise EOFError from None
        except Exception as exc:            # a result that does not unpickle here
            if w.job is None:
                raise
            (_, task), w.job = w.job, None
            failed(task, exc)
            return
        if kind == "ready":
            w.ready = True
            boot_deaths = 0
            return
        if kind == "init-error":
            value.__cause__ = _RemoteTraceback(tb)
            raise value
        (_, task), w.job = w.job, None
        give(w)                             # keep the worker busy while we handle its result
        if kind == "ok":
            on_result(task, value)
        else:
            value.__cause__ = _RemoteTraceback(tb)
            failed(task, value)

    def buried(w: _Worker) -> None:
        """``w`` has exited: take what it sent, then re-queue or fail its task."""
        nonlocal boot_deaths
        w.dead = True
        while w.job is not None or not w.ready:
            try:
                if not w.conn.poll():
                    break
                receive(w)
            except EOFError:
                break
        w.proc.join()
        workers.remove(w)
        w.conn.close()
        code = w.proc.exitcode
        if w.job is not None:
            tid, task = w.job
            crashes[tid] = n = crashes.get(tid, 0) + 1
            if n >= max_crashes:
                failed(task, WorkerDied(f"worker process died {n} times running this task "
                                        f"(last: {_how(code)})", code, n))
            else:
                if on_restart is not None:
                    on_restart(task, WorkerDied(f"worker process died ({_how(code)}) running "
                                                f"this task; running it again ({n} of "
                                                f"{max_crashes} deaths)", code, n))
                queue.appendleft(w.job)
        elif not w.ready:
            boot_deaths += 1
            if boot_deaths >= max_crashes:
                raise WorkerDied(f"worker processes died {boot_deaths} times in a row while "
                                 f"starting (last: {_how(code)})", code, boot_deaths)

    clean = False
    try:
        while True:
            fill()
            for w in workers:
                if w.ready and w.job is None:
                    give(w)
            booting = sum(not w.ready for w in workers)
            while len(workers) < jobs and len(queue) > booting:
                workers.append(_Worker(ctx, fn, initializer, initargs))
                booting += 1
            if not queue and not any(w.job is not None for w in workers):
                break
            waitables = {}
            for w in workers:
                waitables[w.conn] = waitables[w.proc.sentinel] = w
            ready = multiprocessing.connection.wait(list(waitables))
            for w in {waitables[r] for r in ready}:
                if w.conn in ready and w.proc.sentinel not in ready:
                    try:
                        receive(w)
                        continue
                    except EOFError:        # it closed its end: it is exiting
                        pass
                buried(w)
        clean = True
    finally:
        _stop(workers, force=not clean)


# -- helpers --------------------------------------------------------------------------------------
def atomic_write_json(path, obj, *, indent: int | None = 1) -> None:
    """Write ``obj`` as JSON to ``path`` so that readers see the old file or the new one.

    The text goes to a temporary file in the same directory, is flushed to the disk
    (``fsync``) and renamed over ``path`` (``os.replace``, atomic on POSIX and Windows), so a
    crash or ``kill -9`` at any moment never leaves a partial ``path``.

    Examples
    --------
    >>> from macforge.jobs import atomic_write_json
    >>> atomic_write_json("build/progress.json", {"done": [[0, 4096]]})   # doctest: +SKIP
    """
    path = Path(path)
    text = json.dumps(obj, indent=indent)           # a value that does not serialise: no file
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)   # mode as open() gives
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def hms(seconds: float) -> str:
    """A duration for progress lines: ``5s``, ``1m05s``, ``1h02m05s``; ``?`` if not finite.

    Examples
    --------
    >>> from macforge.jobs import hms
    >>> hms(5), hms(65), hms(3725), hms(float("inf"))
    ('5s', '1m05s', '1h02m05s', '?')
    """
    if not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else (f"{m}m{s:02d}s" if m else f"{s}s")
