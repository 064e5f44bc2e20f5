"""Progress for the user, on stderr, through tqdm: lines, bars and a live status line.

A leaf module (it imports nothing of macforge). Library functions take a ``progress`` callable
that defaults to None (silent); the command line passes :func:`say`, or :func:`prefixed` for a
subcommand that labels its lines, and runs every subcommand inside :func:`task`, a status line
with the elapsed time and the latest message that tqdm redraws in place. Loops with a known
length (a sweep's points) draw a :func:`bar`; a library loop that reports ``(done, total)``
(an activity simulation's operations, a fast co-simulation's vectors) is given a
:func:`meter`, a callable that draws the bar. A library phase with no progress callable
threaded through to it (a Yosys synthesis deep under the cost model) names itself on the
command's status line with :func:`status`, which does nothing outside a :func:`task` (a
Python caller sees nothing). On a terminal only: when stderr is not a TTY (a log file, CI)
bars and status lines stay silent and messages are plain lines (a meter with ``every`` says
a plain ``desc: done/total`` line at most that often there). :func:`set_quiet` (the command
line's ``--quiet``) silences all of it; errors still print.

Examples
--------
>>> from macforge import progress
>>> progress.say("macforge: costing fmul_e4m3fn_e4m3fn_rne_s0 on asic")   # doctest: +SKIP
>>> with progress.bar(3, "points") as b:                                  # doctest: +SKIP
...     for _ in range(3):
...         b.update(1)
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time

__all__ = ["say", "prefixed", "set_quiet", "is_quiet", "bar", "meter", "status", "task"]

_QUIET = False
_TASKS: list = []                # the live status lines (tqdm objects), innermost last


def set_quiet(quiet: bool = True) -> None:
    """Silence (or restore) every message, bar and status line."""
    global _QUIET
    _QUIET = bool(quiet)


def is_quiet() -> bool:
    return _QUIET


def _live(stream) -> bool:
    return not _QUIET and hasattr(stream, "isatty") and stream.isatty()


def say(msg: str) -> None:
    """Write ``msg`` and a newline to stderr (above the status line, if one is drawn)."""
    if _QUIET:
        return
    if _TASKS:
        from tqdm import tqdm
        tqdm.write(msg, file=sys.stderr)
        _TASKS[-1].set_postfix_str(msg.strip()[-60:], refresh=True)
        return
    sys.stderr.write(f"{msg}\n")
    sys.stderr.flush()


def prefixed(prefix: str):
    """A progress callable that says every message after ``prefix``."""
    return lambda msg: say(f"{prefix}{msg}")


def bar(total: int, desc: str, unit: str = "it", stream=None):
    """A tqdm bar of ``total`` steps on ``stream`` (stderr), drawn on a terminal only; use
    as a context manager and call ``update(n)``."""
    from tqdm import tqdm
    stream = stream or sys.stderr
    return tqdm(total=total, desc=desc, unit=unit, file=stream, disable=not _live(stream),
                dynamic_ncols=True, leave=True)


def meter(desc: str, unit: str = "it", every: float | None = None):
    """A progress callable ``(done, total)`` for a library loop: on a terminal it draws a
    :func:`bar` of ``total`` (a new one when ``total`` changes, as when one callable follows
    a zero-delay and then a timed simulation) and closes it at ``done == total``; elsewhere
    it is silent, or with ``every`` says ``  desc: done/total`` at most every ``every``
    seconds and at the end."""
    state = {"bar": None, "total": None, "said": float("-inf")}   # the first call says

    def update(done: int, total: int) -> None:
        if _QUIET:
            return
        if not _live(sys.stderr):
            now = time.monotonic()
            if every is not None and (now - state["said"] >= every or done >= total):
                state["said"] = now
                say(f"  {desc}: {done}/{total}")
            return
        b = state["bar"]
        if b is None or state["total"] != total:
            if b is not None:
                b.close()
            b = state["bar"] = bar(total, desc, unit)
            state["total"] = total
        b.update(done - b.n)
        if done >= total:
            b.close()
            state["bar"] = state["total"] = None
    return update


def metered(items, meter=None):
    """Yield ``items``, telling ``meter`` (a :func:`meter` callable, or None: silent)
    ``(done, total)`` before the first and after each: a library loop's one progress hook."""
    items = list(items)
    for i, item in enumerate(items):
        if meter:
            meter(i, len(items))
        yield item
    if meter:
        meter(len(items), len(items))


def status(msg: str) -> None:
    """Show ``msg`` as the latest message of the live status line (:func:`task`), without a
    line of its own; nothing when no status line is drawn (off a terminal, ``--quiet``, a
    Python caller)."""
    if _TASKS and not _QUIET:
        _TASKS[-1].set_postfix_str(msg.strip()[-60:], refresh=True)


class _StdoutAbove:
    """stdout that clears the status line before writing, so results do not run into it."""

    def __init__(self, real):
        self._real = real

    def write(self, text):
        from tqdm import tqdm
        with tqdm.external_write_mode(file=sys.stderr):
            return self._real.write(text)

    def __getattr__(self, name):
        return getattr(self._real, name)


@contextlib.contextmanager
def task(desc: str, delay: float = 1.0):
    """A status line ``desc: <elapsed> <latest message>`` redrawn every half second while
    the block runs (after ``delay`` seconds, so quick commands show nothing); on a terminal
    only."""
    if not _live(sys.stderr):
        yield
        return
    from tqdm import tqdm
    line = tqdm(total=None, desc=desc, file=sys.stderr, delay=delay, leave=False,
                bar_format="{desc}: {elapsed}{postfix}", dynamic_ncols=True)
    stop = threading.Event()

    def tick():
        if stop.wait(delay):
            return
        while True:
            line.refresh()
            if stop.wait(0.5):
                return
    ticker = threading.Thread(target=tick, daemon=True)
    _TASKS.append(line)
    real = sys.stdout
    if hasattr(real, "isatty") and real.isatty():
        sys.stdout = _StdoutAbove(real)
    ticker.start()
    try:
        yield line
    finally:
        stop.set()
        ticker.join()
        sys.stdout = real
        _TASKS.remove(line)
        line.close()
