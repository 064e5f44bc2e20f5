"""The Makefile's variables are the CLI's options (macforge.cli.make): derived from the parser,
checked (unknown names, one token per value, flags 1/0), never pasted into a shell."""
from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

import pytest

from macforge.cli import build_parser
from macforge.cli import make as mk
from macforge.cli._vocab import rewrite_argv
from macforge.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]


def test_every_long_option_is_a_make_variable():
    p = build_parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    for cmd, sp in sub.choices.items():
        names = mk.variables(cmd)
        for a in sp._actions:
            longs = [o for o in a.option_strings if o.startswith("--") and not o.startswith("--no-")]
            if longs and longs[0] != "--help":
                assert longs[0][2:].upper().replace("-", "_") in names, (cmd, longs[0])
        assert cmd in mk.GOALS, f"subcommand {cmd} has no make goal"


def test_values_become_joined_options():
    argv, notes = mk.argv_for("verilog", {"FORMAT": "e4m3", "ROUNDING": "rtz", "UNIT": "mul",
                                          "SATURATE": "1", "FUSED": "0", "STAGES": "2"})
    assert argv[0] == "verilog" and notes == []
    assert {"--format=e4m3", "--rounding=rtz", "--unit=mul", "--saturate", "--no-fused",
            "--stages=2"} <= set(argv)
    argv, _ = mk.argv_for("sim", {"N": "2000", "SATURATE": "no", "VERILOG": ""})
    assert "-n=2000" in argv and "--saturate" not in argv and not any("verilog" in a for a in argv)


def test_deprecated_make_variables_note_and_map():
    argv, notes = mk.argv_for("verilog", {"ROUND": "rtz", "SAT": "1", "OUT": "o"})
    assert "--rounding=rtz" in argv and "--saturate" in argv and "--output=o" in argv
    assert len(notes) == 3 and all("deprecated" in n for n in notes)


@pytest.mark.parametrize("given, needle", [
    ({"ROUNDNG": "rtz"}, "unknown variable ROUNDNG for make sim; did you mean ROUNDING?"),
    ({"FORMAT": "e4m3 --unit fma"}, "is not a single value"),
    ({"FORMAT": "e4m3;\ntouch x"}, "is not a single value"),
    ({"SATURATE": "maybe"}, "SATURATE='maybe': accepted values are 1 or 0"),
    ({"SAT": "maybe"}, "SAT='maybe'"),
    ({"FUSED": "2"}, "FUSED='2'"),
])
def test_bad_variables_are_one_line_errors(given, needle):
    with pytest.raises(UsageError, match=None) as e:
        mk.argv_for("sim", given)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_a_value_cannot_become_an_option():
    argv, _ = mk.argv_for("verilog", {"FORMAT": "--help"})
    assert "--format=--help" in argv           # argparse reads it as the format's value


def test_other_goals_of_the_command_line_are_not_unknown():
    argv, _ = mk.argv_for("sim", {"OUTPUT": "o"}, other_goals=["verilog"])
    assert not any(a.startswith("--output") for a in argv)


def test_makeflags_names_the_command_line_variables():
    env = {"MAKEFLAGS": r"s -j2 -- FORMAT=e4m3 NAME=a\ b;\ c EMPTY=", "FORMAT": "e4m3",
           "NAME": "a b; c", "EMPTY": ""}
    assert mk.cmdline_variables(env) == {"FORMAT": "e4m3", "NAME": "a b; c", "EMPTY": ""}


def test_deprecated_flags_rewrite_with_a_note():
    argv, notes = rewrite_argv(["sim", "--round=rtz", "--unfused"])
    assert argv == ["sim", "--rounding=rtz", "--no-fused"] and len(notes) == 2
    argv, notes = rewrite_argv(["error-stats", "--out", "e5m2"])
    assert argv == ["error-stats", "--acc", "e5m2"]


def test_options_table_is_current():
    text = (ROOT / "docs" / "options.md").read_text()
    assert text == mk.table(), "regenerate: python -m macforge.cli.make --table > docs/options.md"


def _make(*args, tmp):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args],
                          capture_output=True, text=True, env=env, cwd=tmp, timeout=300)


@pytest.mark.skipif(not (ROOT / ".venv" / ".installed").exists(), reason="needs the repo's .venv")
def test_make_injection_creates_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    r = _make("verilog", f"FORMAT=e4m3; touch {marker}", f"OUTPUT={tmp_path}/o", tmp=tmp_path)
    assert r.returncode == 2 and not marker.exists()
    assert "is not a single value" in r.stderr
    r = _make("verilog", f"FORMAT=e4m3;touch${{IFS}}{marker}", f"OUTPUT={tmp_path}/o", tmp=tmp_path)
    assert r.returncode != 0 and not marker.exists()
    r = _make("sim", "ROUNDNG=rtz", tmp=tmp_path)
    assert r.returncode == 2 and "did you mean ROUNDING?" in r.stderr


@pytest.mark.skipif(not (ROOT / ".venv" / ".installed").exists(), reason="needs the repo's .venv")
def test_make_rounding_reaches_the_unit(tmp_path):
    r = _make("verilog", "FORMAT=e4m3", "UNIT=mul", "ROUNDING=rtz", f"OUTPUT={tmp_path}/o",
              tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o" / "fmul_e4m3fn_e4m3fn_rtz_s0.v").exists()
