"""The ``macforge`` command line: one module per subcommand, each with ``add_parser(sub)``
(which sets ``func``) and ``run(args)`` returning the exit status.

Strings from the command line are parsed here, once, into format objects and enums; bad input
gives one line on stderr naming what was wrong and what is accepted, and exit status 2
(:class:`macforge.errors.UsageError`, and every typed library error: the
:class:`macforge.errors.MacforgeError` family, which ``golden.FormatError`` and the toolchain's
errors belong to).
Ctrl-C gives ``macforge: interrupted`` and 130. A reader that stops reading (``macforge
formats --json | head -1``) ends the command quietly with 0. A file-system error that reaches
here (a file where a directory is needed, no permission, a full disk) is one line naming the
file, exit 2. Library modules return data and raise; only this package prints, parses
arguments and chooses exit codes.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

from macforge.errors import MacforgeError, UsageError

from ._common import ignore_further_interrupts
from . import (calibrate, cost, error_stats, formats, fpga, hwtest, pareto, reproduce, sim,
               sweep, verilog, workload)

__all__ = ["main", "build_parser", "COMMANDS", "UsageError"]

#: The subcommand modules, in ``macforge --help`` order.
COMMANDS = (formats, verilog, sim, error_stats, cost, calibrate, reproduce, workload, sweep,
            pareto, fpga, hwtest)


class _Parser(argparse.ArgumentParser):
    def error(self, message):          # one line, exit 2 (argparse prints usage otherwise)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="macforge", description="Hardware-arithmetic lab: formats, RTL generators, co-simulation.")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def main(argv=None) -> int:
    previous = _first_ctrl_c_only()
    try:
        return _main(argv)
    finally:
        if previous is not None and signal.getsignal(signal.SIGINT) is _interrupt:
            signal.signal(signal.SIGINT, previous)      # not interrupted: as we found it


def _interrupt(signum, frame):
    """The first Ctrl-C interrupts; the command then ends, and later ones are ignored so
    that they cannot cut into its clean-up (workers stopped, results recorded) or exit."""
    ignore_further_interrupts()
    raise KeyboardInterrupt


def _first_ctrl_c_only():
    try:
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.default_int_handler:
            signal.signal(signal.SIGINT, _interrupt)
            return previous
    except ValueError:                  # not the main thread
        pass
    return None


def _main(argv) -> int:
    from ._vocab import rewrite_argv
    try:
        argv, notes = rewrite_argv(sys.argv[1:] if argv is None else argv)
        for note in notes:
            print(f"macforge: note: {note}", file=sys.stderr)
        args = build_parser().parse_args(argv)
        status = args.func(args)
        sys.stdout.flush()              # a closed pipe shows here, not at interpreter exit
        return status
    except MacforgeError as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        ignore_further_interrupts()
        print("macforge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except OSError as exc:              # the file system said no: one line naming the file
        where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        return _error(f"{where}: {exc.strerror or exc}" if where else
                      (exc.strerror or str(exc) or type(exc).__name__))


def _error(message: str) -> int:
    text = " ".join(message.split())    # one line, whatever a library message holds
    try:
        print(f"macforge: error: {text}", file=sys.stderr)
    except BrokenPipeError:
        pass
    return 2


def _quiet_stdout():
    """The reader is gone: point stdout at /dev/null so the interpreter's final flush does
    not fail again (the Python documentation's recipe for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):      # no real stdout (tests): nothing to do
        pass


if __name__ == "__main__":
    sys.exit(main())
