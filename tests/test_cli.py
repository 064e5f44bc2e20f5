"""The command line: tables, Verilog generation, and one-line errors (exit status 2)."""
import json
import re
import subprocess
import sys

import pytest

from macforge import provenance
from macforge.cli import COMMANDS, main


def run_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "macforge", *args], capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def test_formats_table_lists_every_known_format(capsys):
    assert main(["formats"]) == 0
    out = capsys.readouterr().out
    for name, canonical, mx in [("e4m3", "e4m3fn", "448"), ("e5m2", "e5m2", "57344"),
                                ("e2m1", "e2m1fn", "6"), ("bf16", "bf16", "3.38953e+38"),
                                ("int8", "int8", "127")]:
        assert re.search(rf"^{name}\s+{canonical}\s+\d+\s+\S+\s+{re.escape(mx)}\s", out, re.M), name


def test_formats_json(capsys):
    assert main(["formats", "e4m3", "fp16", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["macforge"] == provenance.stamp()
    rows = doc["formats"]
    assert [r["canonical"] for r in rows] == ["e4m3fn", "fp16"]
    e4m3, fp16 = rows
    assert fp16["max"] == {"value": 65504.0, "hex": "0x1.ffcp+15", "fraction": "65504"}
    assert e4m3["min_subnormal"] == {"value": 2.0 ** -9, "hex": "0x1p-9", "fraction": "1/512"}
    assert (e4m3["fields"], e4m3["bias"], e4m3["specials"]) == (
        {"sign": 1, "exponent": 4, "mantissa": 3}, 7, "fn")
    assert (e4m3["nan_codes"], e4m3["inf_code"], fp16["inf_code"], fp16["nan_code"]) == (
        [0x7F, 0xFF], None, 0x7C00, 0x7E00)
    assert all(isinstance(r["bits"], int) for r in rows)


def test_version_and_bare_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert re.match(r"^macforge \d+\.\d+\.\d+\S*( \(git [0-9a-f]{12}(\+dirty)?\))?$", out.strip()), out
    assert out.strip() == f"macforge {provenance.describe()}"
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: macforge") and all(c.__name__.rsplit(".", 1)[1].replace("_", "-") in out
                                                     for c in COMMANDS)


@pytest.mark.parametrize("args,pattern", [
    (["formats", "e4m9x"], r"^macforge: error: unknown format 'e4m9x'; accepted: int<N>/uint<N> .*$"),
    (["formats", "int64"], r"^macforge: error: unknown format 'int64' \(integer width must be 2\.\.32, not 64\); accepted: .*$"),
    (["formats", "e12m3"], r"^macforge: error: unknown format 'e12m3' \(exponent bits must be 1\.\.11 and mantissa bits 0\.\.52, not E=12, M=3\); accepted: .*$"),
    (["verilog", "--format", "e4m3", "--stages", "-1"], r"^macforge: error: argument --stages: stages must be an integer 0\.\.32 \(pipeline registers of a unit\), not -1$"),
    (["verilog", "--format", "e4m3", "--unit", "div"], r"^macforge: error: argument --unit/-u: invalid choice: 'div' .*$"),
    (["sim", "--format", "nosuch"], r"^macforge: error: unknown format 'nosuch'; accepted: .*$"),
])
def test_bad_input_is_one_line_exit_2(args, pattern):
    code, out, err = run_cli(*args)
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.match(pattern, lines[0]), lines[0]


def test_verilog_writes_verilog_and_manifest(tmp_path):
    code, out, err = run_cli("verilog", "--unit", "mac", "--format", "e4m3", "--acc", "fp32",
                             "--stages", "2", "-o", str(tmp_path))
    assert code == 0, err
    man = json.loads((tmp_path / "fmac_e4m3fn_fp32_rne_s2.json").read_text())
    assert man["latency"] == 3 and man["stages"] == 2
    assert man["formats"]["a"] == "e4m3fn" and man["formats"]["acc"] == "fp32"
    text = (tmp_path / "fmac_e4m3fn_fp32_rne_s2.v").read_text()
    assert "module fmac_e4m3fn_fp32_rne_s2" in text
    assert text.startswith("//") or text.startswith("/*")


@pytest.mark.parametrize("argv,message", [
    (["verilog", "--format", "mxfp8"],
     r"^macforge: error: mxfp8 operands take unit dot or dequantize, not 'mac'; accepted for "
     r"mxfp8 \(block format\): dot \(k-lane dot-product-accumulate\), dequantize \(one block\) "
     r"\(--unit dot, make UNIT=dot\)$"),
    (["verilog", "--format", "nvfp4", "--unit", "mul"],
     r"^macforge: error: nvfp4 operands take unit dot or dequantize, not 'mul'; accepted for "
     r"nvfp4 .*UNIT=dot\)$"),
    (["verilog", "--format", "lns8", "--unit", "fma"],
     r"^macforge: error: lns8f3 operands take unit lnsmul, lnsmac or lnsadd, not 'fma'; accepted "
     r"for lns8f3 \(lns format\): mul \(lnsmul: .*\), mac \(lnsmac: .*\), add \(lnsadd: .*\) "
     r"\(--unit mul, make UNIT=mul\)$"),
    (["verilog", "--format", "hif8", "--unit", "lmul"],
     r"^macforge: error: unit 'lmul' takes two operands of one minifloat format, not hif8 x hif8; "
     r"accepted for hif8 \(hif8 format\): mul \(.*\), fma \(.*\), mac \(.*\), dot \(.*\) "
     r"\(--unit mul, make UNIT=mul\)$"),
])
def test_unit_format_errors_name_the_units_of_the_format(capsys, argv, message):
    """A unit/format pair that does not exist names the units that exist for that format."""
    assert main(argv + ["-o", "/nonexistent/never-written"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and len(err) < 400 and re.match(message, err), err


def test_missing_cxx_compiler_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CXX", "/nonexistent/c++")
    assert main(["sim", "--format", "e2m1", "--unit", "mul", "--build-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert re.match(r"^macforge: error: a C\+\+ compiler \(c\+\+ or g\+\+\) is required: Verilator "
                    r"compiles every simulation with it \(Debian/Ubuntu: apt-get install g\+\+\)$", err), err
