"""`macforge cost --verilog`: the costed text is what the tools read, includes inlined, so an
edit to an included file can never leave a stale cached cost (issue 16)."""
from __future__ import annotations

from macforge.costmodel.synth import Design

TOP = """`include "impl.vh"
module top(input [7:0] a, input [7:0] b, output [7:0] y);
  impl u(.a(a), .b(b), .y(y));
endmodule
"""


def test_editing_an_included_file_changes_the_costed_design(tmp_path):
    (tmp_path / "impl.vh").write_text(
        "module impl(input [7:0] a, input [7:0] b, output [7:0] y); assign y = a + b; endmodule\n")
    top = tmp_path / "top.v"
    top.write_text(TOP)
    d1 = Design.from_file(top, "top")
    assert "module impl" in d1.verilog and "`include" not in d1.verilog
    (tmp_path / "impl.vh").write_text(
        "module impl(input [7:0] a, input [7:0] b, output [7:0] y); assign y = a - b; endmodule\n")
    d2 = Design.from_file(top, "top")
    assert d1.digest("script") != d2.digest("script")
    assert "a - b" in d2.verilog
