"""Verifying anyone's RTL (issue #16): file lists, include directories, packages, defines; cache
keys on every file the tools read; ports checked before any vector; per-run scratch (#15).

Each design is built here from a correct macforge unit (or one with a deliberate flaw) inside
small hand-written wrappers, so the verdict is known: the golden model is the reference.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from macforge import hw
from macforge.cli import main
from macforge.toolchain.sources import RtlSources, RtlSourcesError
from _simutil import simulate

pytestmark = pytest.mark.filterwarnings("ignore:.*created but never used")   # manifests only

ROOT = Path(__file__).resolve().parent.parent / "build" / "test_sim_rtl"
MUL = "fmul_e4m3fn_e4m3fn_rne_s0"


def unit_text(rounding="rne", **kw):
    """The e4m3 multiplier's Verilog, its modules renamed to the RNE unit's names (so a
    flawed variant drops into the place of the correct one)."""
    unit = hw.make_unit("mul", "e4m3", rounding=rounding, **kw)
    text, man = hw.generate(unit)
    return text.replace(man["module"], MUL)


# -- sources and file lists (no tools) --------------------------------------------------------
def test_filelist_resolves_relative_to_the_list(tmp_path):
    (tmp_path / "rtl" / "inc").mkdir(parents=True)
    (tmp_path / "rtl" / "sub").mkdir()
    for f in ("pkg.sv", "top.sv", "sub/leaf.v"):
        (tmp_path / "rtl" / f).write_text("// x\n")
    (tmp_path / "rtl" / "sub.f").write_text("sub/leaf.v  # nested\n")
    (tmp_path / "rtl" / "design.f").write_text(
        "// a comment\n/* a block\n comment */\n+incdir+inc\n-I inc\n+define+W=8+FAST\n"
        "-DSEED=3\npkg.sv\ntop.sv\n-F sub.f\n")
    src = RtlSources.from_options(filelist=[str(tmp_path / "rtl" / "design.f")],
                                  define=["X"], cwd=tmp_path)
    r = (tmp_path / "rtl").resolve()
    assert src.files == (r / "pkg.sv", r / "top.sv", r / "sub" / "leaf.v")
    assert src.include_dirs == (r / "inc",)
    assert src.defines == (("X", None), ("W", "8"), ("FAST", None), ("SEED", "3"))
    args = src.verilator_args()
    assert args[:3] == [f"-I{r / 'inc'}", f"-I{r}", f"-I{r / 'sub'}"]
    assert args[-3:] == [str(f) for f in src.files] and "-DW=8" in args and "-DX" in args


@pytest.mark.parametrize("text, msg", [
    ("-y lib\n", r"design\.f:1: option '-y' is not accepted in a file list; accepted: files, "
                 r"-I DIR, \+incdir\+DIR, -D NAME\[=VAL\], \+define\+NAME\[=VAL\], -f/-F LIST$"),
    ("nofile.v\n", r"design\.f:1: source file 'nofile\.v' does not exist$"),
    ("+incdir+nodir\n", r"design\.f:1: include directory 'nodir' does not exist$"),
    ("-D 9x=1\n", r"design\.f:1: define '9x=1' is not NAME or NAME=VALUE"),
])
def test_filelist_errors_are_one_line(tmp_path, text, msg):
    (tmp_path / "design.f").write_text(text)
    with pytest.raises(RtlSourcesError, match=msg):
        RtlSources.from_options(filelist=[str(tmp_path / "design.f")], cwd=tmp_path)


def test_cli_refuses_bad_sources(tmp_path, capsys):
    assert main(["sim", "--verilog", str(tmp_path)]) == 2
    assert re.search(r"^macforge: error: --verilog file '.*' is a directory, not a file$",
                     capsys.readouterr().err, re.M)
    assert main(["sim", "--include", "x"]) == 2
    assert "give --verilog FILE... or --filelist LIST.f too" in capsys.readouterr().err


# -- with Verilator ---------------------------------------------------------------------------
def _design_with_include(d: Path, rounding: str):
    (d / "inc").mkdir(parents=True, exist_ok=True)
    (d / "inc" / "impl.vh").write_text(unit_text(rounding))
    (d / "top.v").write_text('`include "impl.vh"\n')
    return d / "top.v", d / "inc"


@pytest.mark.rtl
@pytest.mark.parametrize("mode", ["fast", pytest.param("cocotb", marks=pytest.mark.slow)])
def test_editing_an_included_file_rebuilds(tmp_path, mode):
    """The false PASS of #16: the top `include`s its implementation; after the included file
    is edited (an RTZ multiplier in place of the RNE one), the rerun must fail."""
    top, inc = _design_with_include(tmp_path, "rne")
    kw = dict(format="e4m3", unit="mul", n=0, mode=mode, waves=False, build_root=str(ROOT),
              verilog=(str(top),), include=(str(inc),))
    res, lines = simulate(**kw)
    assert res.ok and res.vectors == 65536, "\n".join(lines)
    _design_with_include(tmp_path, "rtz")
    res, lines = simulate(**kw)
    assert not res.ok and res.mismatches > 1000, "\n".join(lines)
