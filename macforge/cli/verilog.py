"""``macforge verilog``: a unit's Verilog and JSON manifest."""
from __future__ import annotations

from macforge.progress import say

from ._common import check_output_dir
from ._units import add_clock_args, add_unit_args, clocked_unit_from_args

__all__ = ["add_parser", "run"]


def add_parser(sub):
    v = sub.add_parser("verilog", help="generate a unit's Verilog and JSON manifest")
    add_unit_args(v)
    v.add_argument("-o", "--output", default="out", help="output directory (default out/)")
    add_clock_args(v)
    v.set_defaults(func=run)
    return v


def run(args) -> int:
    from macforge import hw
    check_output_dir(args.output, "-o")
    unit = clocked_unit_from_args(args, say)
    paths = hw.write(unit, args.output)
    man = unit.manifest()
    print(f"{man['module']}: latency {man['latency']} cycle(s)")
    for kind, path in paths.items():
        print(f"  {kind}: {path}")
    return 0
