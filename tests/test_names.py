"""macforge.toolchain.names: module names are Verilog identifiers and are looked up in what
Verilator's parser read, never in the raw text."""
import pytest

from macforge.toolchain.names import (ModuleNameError, VerilogSourceError, check_module_name,
                                      modules_in, require_module, yosys_id)

SRC = """// module in_a_comment
module foo(input a, output b); assign b = a; endmodule
module \\bar$x+y (input a, output b); assign b = a; endmodule
module baz(input a, output b); foo u(.a(a), .b(b)); endmodule
/* module in_block_comment(); endmodule */
"""


@pytest.mark.parametrize("name", ["foo", "_x", "a$b9", "\\a+b", "\\(x)"])
def test_identifiers_accepted(name):
    assert check_module_name(name) == name.lstrip("\\")


@pytest.mark.parametrize("name", ["", "1x", "a b", "foo; exec -- touch /tmp/PWNED", "\\a;b",
                                  "\\a#b", '\\a"b', "\\a*", "\\", "a\nb", "x" * 1025, "a-b"])
def test_non_identifiers_refused(name):
    with pytest.raises(ModuleNameError, match="module name"):
        check_module_name(name)


def test_yosys_id_is_one_token():
    assert yosys_id("foo") == "foo"
    assert yosys_id("a+b") == "\\a+b" == yosys_id("\\a+b")
    with pytest.raises(ModuleNameError):
        yosys_id("a;b")


def test_modules_from_the_parser(tmp_path):
    f = tmp_path / "x.v"
    f.write_text(SRC)
    assert modules_in([f]) == ["bar$x+y", "baz", "foo"]
    assert require_module("baz", f) == "baz"
    assert require_module("\\bar$x+y", f) == "bar$x+y"
    with pytest.raises(ModuleNameError, match=r"^no module in_a_comment in .*x\.v "
                                              r"\(modules: bar\$x\+y, baz, foo\)$"):
        require_module("in_a_comment", f)


def test_bad_sources(tmp_path):
    (tmp_path / "bin.v").write_bytes(b"module \0\xff")
    (tmp_path / "latin.v").write_bytes(b"// \xe9\nmodule m; endmodule\n")
    (tmp_path / "bad.v").write_text("module x(; endmodule\n")
    for name, msg in [("bin.v", "binary"), ("latin.v", "not UTF-8"), ("bad.v", "cannot parse"),
                      ("none.v", "does not exist"), (".", "is a directory")]:
        with pytest.raises(VerilogSourceError, match=msg) as e:
            modules_in([tmp_path / name])
        assert "\n" not in str(e.value)


# -- unit/format pairs that do not exist: the refusal names the units that do -----------------
# (issue 20 item 7). The pairs come from the registry (hw.build.UNITS x one format of every
# family, the pairs hw.build.units_for and the family's own units leave out), so a new unit or
# family is covered without editing this list.

import re

from macforge import golden
from macforge.cli import main
from macforge.hw.build import UNITS, units_for
from macforge.hw._families import hw_family, own_units


def _missing_pairs():
    seen, pairs = set(), []
    for name in golden.known_names():
        fmt = golden.parse(name)
        if fmt.family in seen:
            continue
        seen.add(fmt.family)
        exists = set(units_for(fmt)) | set(own_units(fmt).values())
        pairs += [(name, unit) for unit in UNITS if unit not in exists]
    return pairs


PAIRS = _missing_pairs()


def test_the_registry_gives_pairs_of_every_family():
    families = {golden.parse(n).family for n, _ in PAIRS}
    assert families >= {"integer", "minifloat", "posit", "lns", "hif8", "block", "takum"}
    assert ("mxfp8", "mul") in PAIRS and ("posit8", "dot") in PAIRS and ("lns8", "convert") in PAIRS
    assert ("int4", "lmul") in PAIRS and ("posit8", "quantize") in PAIRS


@pytest.mark.parametrize("command", ["sim", "verilog", "cost"])
@pytest.mark.parametrize("name,unit", PAIRS)
def test_a_missing_pair_names_the_units_of_the_format(capsys, tmp_path, command, name, unit):
    fmt = golden.parse(name)
    extra = {"verilog": ["--output", str(tmp_path)], "sim": ["--build-dir", str(tmp_path)],
             "cost": ["--no-cache"]}[command]
    assert main([command, "--format", name, "--unit", unit, *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("macforge: error: "), err
    assert f"accepted for {fmt.name} ({fmt.family} format): " in err, err
    for kind in units_for(fmt):
        assert re.search(rf"[:,] {kind} \(", err), (kind, err)
    assert not list(tmp_path.iterdir())             # refused before anything was built


def _one_per_family():
    seen = {}
    for name in golden.known_names():
        seen.setdefault(golden.parse(name).family, name)
    return sorted(seen.values())


@pytest.mark.parametrize("unit", ["running-sum", "lmul"])
@pytest.mark.parametrize("name", [n for n in _one_per_family()
                                  if golden.parse(n).family != "minifloat"])
def test_error_stats_units_off_their_formats(capsys, name, unit):
    """error-stats' running sum and L-Mul are minifloat statistics: any other family gets one
    line naming the format (a running sum of lns8 was an AttributeError traceback)."""
    argv = ["error-stats", "--format", name, "--unit", unit, "--samples", "2"]
    assert main(argv + (["--steps", "16"] if unit == "running-sum" else [])) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("macforge: error: "), err
    assert golden.parse(name).name in err and "minifloat" in err, err


SCALAR = [u for u in ("mul", "fma", "mac", "add") if u in UNITS]


@pytest.mark.parametrize("unit", SCALAR)
@pytest.mark.parametrize("name_b", [n for n in _one_per_family()
                                    if hw_family(golden.parse(n)).decoder is None])
def test_a_mixed_pair_names_the_units_of_the_odd_format(capsys, tmp_path, unit, name_b):
    """e4m3 x <a format without a shared decoder: LNS, block> on a shared unit: the line names
    what runs on the second format (posits decode into the shared datapath, so e4m3 x posit8
    builds and is verified like any mixed pair)."""
    fb = golden.parse(name_b)
    assert main(["verilog", "--format", "e4m3", "--format-b", name_b, "--unit", unit,
                 "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"accepted for {fb.name} ({fb.family} format): " in err, err
