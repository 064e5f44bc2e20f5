"""The ``macforge`` command line: one module per subcommand, each with ``add_parser(sub)``
(which sets ``func``) and ``run(args)`` returning the exit status.

Strings from the command line are parsed here, once, into format objects and enums; bad input
gives one line on stderr naming what was wrong and what is accepted, and exit status 2
(:class:`macforge.errors.UsageError`, and every typed library error: the
:class:`macforge.errors.MacforgeError` family, which ``golden.FormatError`` and the toolchain's
errors belong to).
Ctrl-C gives ``macforge: interrupted`` and 130. Library modules return data and raise; only
this package prints, parses arguments and chooses exit codes.
"""
from __future__ import annotations

import argparse
import sys

from macforge.errors import MacforgeError, UsageError

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
    from ._vocab import rewrite_argv
    try:
        argv, notes = rewrite_argv(sys.argv[1:] if argv is None else argv)
        for note in notes:
            print(f"macforge: note: {note}", file=sys.stderr)
        args = build_parser().parse_args(argv)
        return args.func(args)
    except MacforgeError as exc:
        print(f"macforge: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("macforge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
