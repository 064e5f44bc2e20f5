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
