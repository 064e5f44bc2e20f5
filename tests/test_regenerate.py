"""Every generated unit names the ``macforge verilog`` command that rebuilds it (issue 20,
item 3): the command, parsed by the CLI's own parser and built by the CLI's own
``unit_from_args``, gives the same module; a unit built with a Python-only option says so."""
import json
import shlex

import pytest

from macforge.cli import build_parser
from macforge.cli._units import unit_from_args
from macforge.hw.build import generate, make_unit, regenerate

UNITS = [
    dict(unit="mac", fmt="int8"),                                       # imac
    dict(unit="mac", fmt="int4", fmt_b="int8", acc="int16", saturate=True, stages=1),
    dict(unit="mac", fmt="e4m3"),
    dict(unit="mac", fmt="e4m3", fmt_b="e5m2", acc="fp16", saturate=True),
    dict(unit="mac", fmt="e5m2", acc="bf16", fused=False, loop_stages=2, stages=1),
    dict(unit="mac", fmt="bf16", rounding="sr", rnd_bits=12),
    dict(unit="mul", fmt="e4m3", rounding="sr", rnd_bits=4),
    dict(unit="mul", fmt="e2m1", fmt_b="e4m3", acc="fp16", rounding="rtz"),
    dict(unit="fma", fmt="bf16", stages=2),
    dict(unit="mul", fmt="posit8"),                                     # pmul
    dict(unit="mac", fmt="posit16", stages=1),                          # pmac
    dict(unit="mul", fmt="lns8"),                                       # lnsmul
    dict(unit="mac", fmt="lns8", acc="int20"),                          # lnsmac
    dict(unit="lmul", fmt="e4m3"),
    dict(unit="lmulmac", fmt="e5m2", acc="fp16"),
    dict(unit="dot", fmt="mxfp8"),
    dict(unit="dot", fmt="nvfp4", stages=1),
    dict(unit="dot", fmt="e4m3", lanes=8, align=13, rounding="rtz"),
    dict(unit="dot", fmt="int8", lanes=4),                              # idot
    dict(unit="dot", fmt="e4m3", preset="h100-fp8"),
    dict(unit="add", fmt="bf16", acc="e4m3", saturate=True),
    dict(unit="convert", fmt="fp32", acc="e4m3", scale="e8m0", saturate=True),
    dict(unit="convert", fmt="bf16", acc="int8", rounding="rtz", saturate=True),
    dict(unit="quantize", fmt="fp32", acc="mxfp8"),
]


def _id(kw):
    return "-".join(f"{v}" for v in kw.values())


def _rebuild(command):
    argv = shlex.split(command)
    assert argv[:2] == ["macforge", "verilog"]
    args = build_parser().parse_args(argv[1:])
    return unit_from_args(args)


@pytest.mark.parametrize("kw", UNITS, ids=_id)
def test_command_rebuilds_the_unit(kw):
    unit = make_unit(**kw)
    manifest = unit.manifest()
    command, note = regenerate(manifest)
    assert command is not None and note is None
    again = _rebuild(command)
    for u in (unit, again):
        u._MustUse__silence = True
    assert again.module_name == unit.module_name
    assert again.manifest() == manifest


def test_header_and_manifest_carry_the_command():
    unit = make_unit("mac", "int8", stages=1)
    text, manifest = generate(unit)
    command = manifest["macforge"]["command"]
    assert command == "macforge verilog --unit mac --format int8 --acc int32 --stages 1"
    assert f"// regenerate: {command}\n" in text.split("module ", 1)[0]
    json.dumps(manifest)                        # the manifest stays JSON
    assert generate(make_unit("mac", "int8", stages=1)) == (text, manifest)


@pytest.mark.parametrize("kw", [dict(multiplier="array"), dict(unit="lmul", variant="intadd")],
                         ids=["multiplier", "variant"])
def test_python_only_option_is_named_not_a_wrong_command(kw):
    unit = make_unit(**{"unit": "mul", "fmt": "e4m3", **kw})
    unit._MustUse__silence = True
    command, note = regenerate(unit.manifest())
    assert command is None
    key = next(iter(k for k in kw if k != "unit"))
    assert f"{key}={kw[key]!r}" in note and "Python-only" in note


def test_lnsmac_table_bits_are_python_only():
    unit = make_unit("mac", "lns8", P=6)
    unit._MustUse__silence = True
    command, note = regenerate(unit.manifest())
    assert command is None and "P=6" in note
