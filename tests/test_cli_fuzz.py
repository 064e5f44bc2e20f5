"""Property-based fuzz of the command line (issue #15): generated argv over every subcommand.

Each example calls :func:`macforge.cli.main` in process, in a scratch working directory with
HOME and MACFORGE_CACHE pointing into it. Options get invalid or tiny values, and the
functions that would start long work (synthesis, simulation, builds, sweeps, reports) are
replaced by one that raises :class:`Reached`: an example passes when the command either
refuses its input in one line with exit status 2, or gets past all of its checks to the
work, or finishes with 0 -- never a traceback, never another status, never a file written
outside the scratch directory.
"""
import argparse
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from macforge.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parent.parent


class Reached(Exception):
    """The command got past every check to the long-running work."""


def _reached(*args, **kwargs):
    raise Reached


#: (module, attribute) of everything long a command would start; see the module docstring
HEAVY = [("macforge.costmodel", "cost"), ("macforge.sim.runner", "run"),
         ("macforge.fpga.flow", "build"), ("macforge.fpga.flow", "build_board"),
         ("macforge.fpga.flow", "sweep"), ("macforge.fpga.hwtest", "simulate"),
         ("macforge.fpga.hwtest", "on_board"), ("macforge.costmodel.pareto", "run"),
         ("macforge.costmodel.report", "write_sweep_report"),
         ("macforge.costmodel.sweep", "run_sweep"),
         ("macforge.costmodel.calibrate", "calibration_table"),
         ("macforge.costmodel.reproduce", "reproduce"), ("macforge.golden", "error_stats"),
         ("macforge.golden._presetstats", "preset_stats"), ("macforge.hw", "write"),
         ("macforge.costmodel.workloads", "load")]

INTS = ["-1", "0", "1", "2", "3", "5", "33", "4097", "1e3", "abc", "", "0x10",
        "9" * 30, "1" + "0" * 5000]
FORMATS = ["e4m3", "e5m2", "int8", "fp32", "posit8", "lns8f4", "mxfp8", "nosuch", "",
           "e" + "9" * 5000 + "m3", "e4m3;rm -rf x"]
NAMES = ["foo", "fake", "foo; exec -- touch PWNED", "\\a+b", "\\..", "", "-x", "a" * 2000]
FILES = ["x.v", "bin.v", "adir", "nonexistent.v", "afile", "empty.onnx", "", "-",
         "/etc/passwd", "sweep.yaml", "bin.yaml", "act_obj.npy", "act_ports.npz"]
DIRS = ["out", "afile", "/etc/passwd", "adir", "afile/sub", ""]
WORDS = ["", "x", "zz", "-1", "0..9", "0..1", "0,2", "5..1", "1" + "0" * 40, "uniform",
         "tcp://127.0.0.1:1", "tls://x:1", "h100-fp8", "nosuch"]


def _value(dest: str, action):
    if action.choices is not None:
        return st.sampled_from(list(action.choices) + ["zz"])
    if dest in ("format", "format_b", "acc", "out") or dest == "names":
        return st.sampled_from(FORMATS)
    if dest == "top":
        return st.sampled_from(NAMES)
    if dest in ("verilog", "activity", "spec", "target", "from_dir", "tls_ca_file", "tls_cert",
                "tls_key", "port"):
        return st.sampled_from(FILES + (["uniform"] if dest == "activity" else []))
    if dest in ("output", "build_dir"):
        return st.sampled_from(DIRS)
    if action.type is not None and action.type not in (str,):
        return st.sampled_from(INTS + WORDS[:6])
    return st.sampled_from(WORDS)


def _subparsers(parser):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            return a.choices
    return {}


def _argv_strategy():
    subs = _subparsers(build_parser())
    per_command = []
    for name, sp in subs.items():
        nested = _subparsers(sp)
        targets = [([name, n], p) for n, p in nested.items()] if nested else [([name], sp)]
        for head, p in targets:
            opts, positional = [], []
            for a in p._actions:
                if isinstance(a, argparse._HelpAction):
                    continue
                if a.option_strings:
                    flag = st.just([a.option_strings[-1]])
                    opts.append(flag if a.nargs == 0 else
                                st.tuples(flag, _value(a.dest, a)).map(lambda t: t[0] + [t[1]]))
                else:
                    positional.append(_value(a.dest, a))
            chosen = st.lists(st.sampled_from(opts), max_size=5) if opts else st.just([])
            per_command.append(st.tuples(
                st.just(head), st.tuples(*positional) if positional else st.just(()),
                chosen.flatmap(lambda ss: st.tuples(*ss) if ss else st.just(())))
                .map(lambda t: t[0] + list(t[1]) + [x for o in t[2] for x in o]))
    return st.one_of(per_command)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    import numpy as np
    d = tmp_path_factory.mktemp("fuzz")
    (d / "x.v").write_text("// module fake\nmodule foo(input [7:0] a, input [7:0] b, "
                           "output [15:0] y); assign y = a * b; endmodule\n")
    (d / "bin.v").write_bytes(b"\x89PNG\0\xff" * 8)
    (d / "bin.yaml").write_bytes(b"\x89PNG\0\xff" * 8)
    (d / "adir").mkdir()
    (d / "afile").write_text("x")
    (d / "empty.onnx").write_bytes(b"")
    (d / "sweep.yaml").write_text("axes:\n  unit: mul\n  format: [e2m1]\n"
                                  "measure: {error_stats: {samples: 100}}\n")
    np.save(d / "act_obj.npy", np.array([{"a": 1}], dtype=object))
    np.savez(d / "act_ports.npz", nosuch=np.zeros(10, dtype=np.int64))
    (d / "home").mkdir()
    return d


def _status():
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                          capture_output=True, text=True).stdout


def test_cli_fuzz(scratch, monkeypatch, capsys):
    import importlib
    from amaranth._unused import MustUse
    for mod, attr in HEAVY:
        monkeypatch.setattr(importlib.import_module(mod), attr, _reached)
    # the units handed to the stand-ins above are never elaborated; Amaranth would warn about
    # each whenever it is collected, in some later example's stderr (test_hardening checks
    # that refused commands print no such warning)
    monkeypatch.setattr(MustUse, "_MustUse__silence", True)
    from macforge.costmodel.synth import Design
    monkeypatch.setattr(Design, "from_unit", staticmethod(_reached))   # Verilog generation
    monkeypatch.chdir(scratch)
    monkeypatch.setenv("HOME", str(scratch / "home"))
    monkeypatch.setenv("MACFORGE_CACHE", str(scratch / "cache"))
    before = _status()
    seen = set()

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(_argv_strategy())
    def run(argv):
        capsys.readouterr()
        try:
            code = main(argv)
        except Reached:
            code = "reached"
        except SystemExit as exc:            # argparse --help, never for bad input
            code = exc.code
        out, err = capsys.readouterr()
        seen.add(argv[0])
        assert "Traceback" not in err and "Traceback" not in out, (argv, err)
        assert code in (0, 2, "reached"), (argv, code, err)
        if code == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("macforge: error: "), (argv, err)
        assert not os.path.exists("PWNED") and not os.path.exists("/tmp/PWNED")

    run()
    assert _status() == before, "the fuzzed commands wrote into the source tree"
    assert len(seen) >= len(COMMANDS) - 2, seen
