"""Module names from users, checked before any tool command is built.

A ``--top`` (or any module name) reaches Yosys scripts, Verilator and nextpnr command lines.
Two checks stand between the user's text and those tools:

- :func:`check_module_name` -- the text is a Verilog identifier (IEEE 1364-2005 section 3.7.1
  and 3.7.2): a *simple* identifier (a letter or ``_``, then letters, digits, ``_`` or ``$``)
  or an *escaped* one (``\\`` then printable ASCII up to white space). Characters the Yosys
  command language gives a meaning to (``;`` ends a command, ``#`` starts a comment, ``"``
  quotes, ``*?[]`` are selection patterns) are refused even in escaped names, and so is ``/``
  (module names become file and directory names), so a valid name is always one token of a
  Yosys command, one argv entry of a tool and one path component.
- :func:`modules_in` -- the modules the Verilog parser (Verilator's ``--json-only`` output)
  read from the files: a module named only in a comment or a string is not there.
  :func:`require_module` joins the two and names the modules there are when one is missing.

Names are returned without the escape backslash (``\\a+b`` -> ``a+b``), as Verilator and
Yosys' ``stat`` report them; :func:`yosys_id` gives the form to write into a Yosys command.

>>> check_module_name("fmac_e4m3")
'fmac_e4m3'
>>> check_module_name("\\\\a+b")
'a+b'
>>> check_module_name("foo; exec -- touch /tmp/PWNED")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
macforge.toolchain.names.ModuleNameError: module name 'foo; exec -- touch /tmp/PWNED' is not ...
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

from macforge.errors import MacforgeError

from .verilator import verilator_bin

__all__ = ["ModuleNameError", "VerilogSourceError", "MAX_NAME_LEN", "check_module_name",
           "yosys_id", "check_source_file", "modules_in", "require_module"]

#: the longest identifier accepted (IEEE 1364-2005 3.7: implementations may limit it; 1024 is
#: the least limit the standard lets a tool have)
MAX_NAME_LEN = 1024

_SIMPLE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
# printable ASCII without white space, minus what Yosys' command language interprets
_ESCAPED = re.compile(r"\\([!$%&()+,\-.0-9:<=>@A-Z^_`a-z{|}~]+)\Z")

_ACCEPTED = ("accepted: a Verilog identifier (a letter or _, then letters, digits, _ or $) or "
             "an escaped one (\\ then printable ASCII without spaces or ;#\"'*?[]/\\)")


class ModuleNameError(ValueError, MacforgeError):
    """A module name that is not a Verilog identifier, or no such module in the sources."""


class VerilogSourceError(ValueError, MacforgeError):
    """A Verilog source that is not a readable text file, or that the parser rejects."""


def check_module_name(name) -> str:
    """``name`` as a Verilog identifier, without the escape backslash; else ModuleNameError."""
    if not isinstance(name, str) or not name:
        raise ModuleNameError(f"module name {name!r} is empty; {_ACCEPTED}")
    if len(name) > MAX_NAME_LEN:
        raise ModuleNameError(f"module name {name[:40]!r}... is {len(name)} characters long; "
                              f"at most {MAX_NAME_LEN} are accepted")
    if _SIMPLE.match(name):
        return name
    m = _ESCAPED.match(name)
    if m and m.group(1).strip("."):          # not "." or "..": names become path components
        return m.group(1)
    raise ModuleNameError(f"module name {name!r} is not a Verilog identifier; {_ACCEPTED}")


def yosys_id(name: str) -> str:
    """``name`` (as :func:`check_module_name` returns it) as one Yosys command token."""
    plain = isinstance(name, str) and (_SIMPLE.match(name) or name.startswith("\\"))
    name = check_module_name(name if plain else "\\" + name)
    return name if _SIMPLE.match(name) else "\\" + name


def check_source_file(path, what="Verilog file") -> Path:
    """``path`` as an absolute Path of a readable UTF-8 text file; else VerilogSourceError."""
    p = Path(os.path.abspath(os.fspath(path)))
    if p.is_dir():
        raise VerilogSourceError(f"{what} {path} is a directory; give a file")
    if not p.is_file():
        raise VerilogSourceError(f"{what} {path} does not exist" if not p.exists()
                                 else f"{what} {path} is not a regular file")
    try:
        with open(p, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise VerilogSourceError(f"cannot read {what} {path}: {exc.strerror}") from None
    if b"\0" in data:
        raise VerilogSourceError(f"{what} {path} is binary (has NUL bytes); give Verilog text")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VerilogSourceError(f"{what} {path} is not UTF-8 text (byte {exc.start}); "
                                 "give Verilog text") from None
    return p


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("%Error"):
            return line.strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else "no message"


def modules_in(files, include_dirs=(), timeout=120.0, extra_args=()) -> list:
    """The names of the modules Verilator's parser reads from ``files`` (sorted).

    ``files``: Verilog/SystemVerilog paths; ``include_dirs``: further ``include`` directories
    (each file's own directory is searched too). Runs ``verilator --json-only`` as an argv list
    in a scratch directory (``extra_args``, e.g. ``-D`` defines, go before the files); raises
    VerilogSourceError when a file is not text or does not parse (the message is Verilator's
    first ``%Error`` line)."""
    paths = [check_source_file(f) for f in ([files] if isinstance(files, (str, Path))
                                             else files)]
    if not paths:
        raise VerilogSourceError("no Verilog files given")
    dirs = []
    for d in [*(p.parent for p in paths), *(Path(os.path.abspath(d)) for d in include_dirs)]:
        if d not in dirs:
            dirs.append(d)
    with tempfile.TemporaryDirectory(prefix="macforge-names-") as wd:
        out = os.path.join(wd, "tree.json")
        argv = [str(verilator_bin()), "--json-only", "--json-only-output", out,
                "--json-only-meta-output", os.path.join(wd, "meta.json"), "--Mdir",
                os.path.join(wd, "obj"), "-Wno-fatal", "-Wno-lint", "-Wno-style",
                "-Wno-MULTITOP", *(f"-I{d}" for d in dirs), *extra_args, *map(str, paths)]
        try:
            proc = subprocess.run(argv, cwd=wd, capture_output=True, text=True,
                                  errors="replace", timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise VerilogSourceError(f"Verilator did not parse {paths[0]} within "
                                     f"{timeout:.0f} s") from None
        if proc.returncode != 0 or not os.path.exists(out):
            raise VerilogSourceError(f"Verilator cannot parse {', '.join(map(str, paths))}: "
                                     + _first_error(proc.stderr + proc.stdout))
        with open(out) as f:
            tree = json.load(f)
    names = {n.get("name", "") for n in tree.get("modulesp", []) if n.get("type") == "MODULE"}
    return sorted(n for n in names if n and not n.startswith("@"))


def require_module(name, files, include_dirs=(), timeout=120.0, extra_args=()) -> str:
    """Check ``name`` (:func:`check_module_name`) and that the parser read such a module from
    ``files``; return it, else ModuleNameError ``no module X in FILE (modules: ...)``."""
    top = check_module_name(name)
    found = modules_in(files, include_dirs, timeout, extra_args)
    if top not in found:
        where = files if isinstance(files, (str, Path)) else ", ".join(map(str, files))
        listed = ", ".join(found[:20]) + (f", ... ({len(found)} in all)" if len(found) > 20
                                          else "")
        raise ModuleNameError(f"no module {top} in {where} (modules: {listed or 'none'})")
    return top
