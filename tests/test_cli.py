"""The command line: tables, Verilog generation, and one-line errors (exit status 2)."""
import json
import re
import subprocess
import sys

import pytest

from macforge.cli import main


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
    rows = json.loads(capsys.readouterr().out)
    assert [r["canonical"] for r in rows] == ["e4m3fn", "fp16"]
    assert rows[1]["max"] == "65504"


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
