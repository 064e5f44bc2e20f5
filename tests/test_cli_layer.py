"""The command-line layer: every subcommand lives in macforge/cli/, and no library module
parses arguments, prints or exits (docs/conventions.md, "The command line is the only place
that talks to a user")."""
import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from macforge.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "macforge" / "cli"
LIBRARY = ("golden", "hw", "sim", "costmodel", "fpga", "macforge")
#: `python -m macforge`: the one entry point outside macforge/cli/ that exits with main()'s status.
ENTRY_POINTS = {ROOT / "macforge" / "__main__.py"}
SUBCOMMANDS = ("formats", "verilog", "sim", "error-stats", "cost", "calibrate", "reproduce",
               "workload", "sweep", "pareto", "fpga", "hwtest")


def _subparsers(parser):
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _leaves(parser, path=()):
    """(command path, parser) of every runnable (sub)subcommand."""
    for name, p in _subparsers(parser).choices.items():
        nested = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            yield from _leaves(p, path + (name,))
        else:
            yield path + (name,), p


def test_every_subcommand_is_a_cli_module():
    parser = build_parser()
    assert tuple(_subparsers(parser).choices) == SUBCOMMANDS
    leaves = list(_leaves(parser))
    assert len(leaves) == len(SUBCOMMANDS) + 1          # workload list / show
    for path, p in leaves:
        func = p.get_default("func")
        assert func is not None, path
        mod = sys.modules[func.__module__]
        assert func.__module__.startswith("macforge.cli.") and \
            Path(mod.__file__).resolve().parent == CLI, (path, func.__module__)
        assert mod in COMMANDS, (path, func.__module__)
    for mod in COMMANDS:                                   # the uniform interface
        assert callable(mod.add_parser) and callable(mod.run), mod.__name__


def _library_files():
    for top in LIBRARY:
        for path in sorted((ROOT / top).rglob("*.py")):
            if CLI in path.parents or path in ENTRY_POINTS:
                continue
            yield path


def _main_guard(node) -> bool:
    """``if __name__ == "__main__":`` -- a module's script entry, not library code."""
    t = node.test
    return (isinstance(node, ast.If) and isinstance(t, ast.Compare)
            and isinstance(t.left, ast.Name) and t.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in t.comparators))


def _violations(tree):
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _main_guard(node):
            guarded |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "argparse" for a in node.names):
            yield node.lineno, "imports argparse"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "argparse":
            yield node.lineno, "imports argparse"
        elif isinstance(node, ast.ImportFrom) and node.module == "sys" and \
                any(a.name == "exit" for a in node.names):
            yield node.lineno, "imports sys.exit"
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in ("print", "exit", "quit"):
                yield node.lineno, f"calls {f.id}()"
            elif isinstance(f, ast.Attribute) and f.attr == "exit" and \
                    isinstance(f.value, ast.Name) and f.value.id == "sys":
                yield node.lineno, "calls sys.exit()"


def test_library_modules_do_not_parse_print_or_exit():
    files = list(_library_files())
    assert len(files) > 50                                 # the scan saw the packages
    bad = [f"{path.relative_to(ROOT)}:{line}: {what}"
           for path in files for line, what in _violations(ast.parse(path.read_text(), str(path)))]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("source,found", [
    ("import argparse\n", ["imports argparse"]),
    ("def f():\n    from argparse import Namespace\n", ["imports argparse"]),
    ("def f(x):\n    print(x)\n", ["calls print()"]),
    ("import sys\ndef f():\n    sys.exit(2)\n", ["calls sys.exit()"]),
    ("def f(out=print):\n    out('x')\n", []),                 # a default, the caller decides
    ("if __name__ == '__main__':\n    print(1)\n", []),        # a script entry
    ("DRIVER = 'print(1); sys.exit(3)'\n", []),                # text run in a subprocess
])
def test_the_scan_itself(source, found):
    assert [what for _, what in _violations(ast.parse(source))] == found


def test_help_lists_every_subcommand():
    proc = subprocess.run([sys.executable, "-m", "macforge", "--help"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    listed = re.findall(r"^    (\S+)", proc.stdout, re.M)  # "    name   help"; wraps go deeper
    assert tuple(listed) == SUBCOMMANDS, proc.stdout
