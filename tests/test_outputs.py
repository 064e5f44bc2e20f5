"""Every file and JSON document macforge writes loads with the csv/json modules, carries its
provenance (version, commit, command) and has numeric columns that are numbers."""
import csv
import json
import math
from fractions import Fraction

import pytest

from macforge import golden, provenance
from macforge.cli import main
from macforge.costmodel.report import write_sweep_report
from macforge.costmodel.sweep import export

ROWS = [  # a sweep's rows, as costmodel.sweep.load_results gives them; floats with noise
    {"format": "e4m3", "area_um2": 0.1 + 0.2, "energy_pj": 0.33893720000000005, "cells": 41,
     "top1": 0.91},
    {"format": "int8", "area_um2": 282.0, "energy_pj": 0.2, "cells": 57, "top1": 0.93},
]


def _csv_rows(path):
    with open(path, newline="") as f:
        first = f.readline()
        assert first == f"# {provenance.line()}\n"
        return list(csv.DictReader(f))


@pytest.mark.parametrize("writer", ["export", "sweep_report"])
def test_csv_and_json_outputs_are_typed_and_stamped(tmp_path, writer):
    if writer == "export":
        paths = export([dict(r) for r in ROWS], str(tmp_path), ["csv", "json"])
        csv_path, json_path = paths
    else:
        paths = write_sweep_report([dict(r) for r in ROWS], str(tmp_path), "test.yaml")
        csv_path, json_path = paths["csv"], paths["json"]
        html = (tmp_path / "report.html").read_text()
        assert f'<meta name="generator" content="macforge {provenance.describe()}">' in html
    raw = _csv_rows(csv_path)
    assert [r["format"] for r in raw] == ["e4m3", "int8"]
    for r in raw:                   # numeric columns are numbers, without float noise
        assert int(r["cells"]) > 0 and float(r["area_um2"]) > 0
        assert len(r["energy_pj"]) <= 14, r
    assert raw[0]["area_um2"] == "0.3" and raw[0]["energy_pj"] == "0.3389372"
    assert provenance.read_csv(csv_path)[0]["cells"] == 41
    doc = json.loads(open(json_path).read())
    assert doc["macforge"] == provenance.stamp()
    assert doc["macforge"]["version"] == provenance.version()
    rows = doc["rows"]
    assert [type(rows[0][k]) for k in ("format", "area_um2", "energy_pj", "cells")] == [
        str, float, float, int]
    assert rows[0]["energy_pj"] == 0.3389372


def test_tidy_rounds_noise_only():
    assert provenance.tidy({"a": [0.1 + 0.2, 3, "x", float("nan")]}) == {"a": [0.3, 3, "x", None]}
    assert provenance.tidy(29.6) == 29.6 and provenance.tidy(5314.0) == 5314.0


def test_formats_json_values_are_exact_for_every_listed_format(capsys):
    assert main(["formats", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["macforge"]["command"] == "macforge formats --json"
    recs = doc["formats"]
    assert [r["name"] for r in recs] == golden.known_names()
    checked = 0
    for r in recs:
        f = golden.parse(r["name"])
        assert isinstance(r["bits"], int) and r["bits"] == f.bits
        if r["family"] == "integer":
            assert (r["min"], r["max"]) == (f.min_int, f.max_int)
            continue
        for key in ("max", "min_normal", "min_subnormal", "min_positive"):
            v = r.get(key)
            if v is None:
                continue
            # value, hex and fraction are one number, the format's own (decode is exact)
            assert float.fromhex(v["hex"]) == v["value"] == float(getattr(f, key)), (r["name"], key)
            if v.get("exact", True):
                assert Fraction(v["fraction"]) == Fraction(v["value"])
            checked += 1
        if "fields" in r:
            assert sum(r["fields"].values()) == f.bits
        if r.get("has_nan") and "nan_codes" in r:
            assert r["nan_code"] in r["nan_codes"] and all(
                math.isnan(x) for x in f.decode(r["nan_codes"]))
    assert checked > 40


# -- every command's JSON and every written file carries the version and the command ---------

def _stamped(doc, command):
    assert doc["macforge"]["version"] == provenance.version()
    assert doc["macforge"]["command"].startswith(command), doc["macforge"]


@pytest.mark.parametrize("argv", [
    ["error-stats", "--format", "e4m3", "--unit", "running-sum", "--samples", "2", "--steps",
     "16", "--sr-bits", "8", "--json"],
    ["error-stats", "--format", "e4m3", "-n", "2000", "--dist", "uniform", "--json"],
    ["formats", "--json"],
    ["workload", "show", "resnet18", "--json"],
])
def test_json_of_every_command_is_stamped(capsys, argv):
    assert main(argv) == 0
    _stamped(json.loads(capsys.readouterr().out), "macforge " + " ".join(argv[:2]))


def test_sim_mismatch_csv_is_stamped(tmp_path):
    """The mismatch CSV of `macforge sim` (sim.diagnose.write_csv): provenance, then the header."""
    import numpy as np
    from macforge import hw
    from macforge.sim import diagnose, model
    unit = hw.make_unit("mul", "e4m3")
    unit._MustUse__silence = True
    manifest = unit.manifest()
    stim = {"a": np.array([0x38, 0x40, 0x44], np.uint64), "b": np.array([0x38, 0x38, 0x40],
                                                                       np.uint64)}
    expected, _ = model.compare(manifest, stim, np.zeros(3, np.uint64))
    observed = expected.copy()
    observed[1] ^= 1                                  # one vector off by one ulp
    bad = np.array([1])
    d = diagnose.diagnose(manifest, stim, expected, observed, bad)
    path = tmp_path / "mismatches.csv"
    assert diagnose.write_csv(path, manifest, stim, expected, observed, bad, d) == 1
    assert path.read_text().splitlines()[0] == f"# {provenance.line()}"
    rows = provenance.read_csv(path)
    assert [r["vector"] for r in rows] == [1] and rows[0]["class"] == "ulp"
    diagnose.write_csv(path, manifest, stim, expected, observed, bad, d, base=3, append=True)
    assert path.read_text().count("# macforge") == 1     # appended chunks: one stamp


def test_verilog_header_and_manifest_are_stamped(tmp_path):
    from macforge import hw
    paths = hw.write(hw.make_unit("mul", "e4m3"), tmp_path)
    head = open(paths["verilog"]).read().splitlines()[:3]
    assert head[1] == f"// macforge {provenance.version()}"
    assert head[2] == "// regenerate: macforge verilog --unit mul --format e4m3fn --acc e4m3fn"
    man = json.loads(open(paths["manifest"]).read())
    assert man["macforge"] == {"version": provenance.version(),
                               "command": "macforge verilog --unit mul --format e4m3fn --acc e4m3fn"}


def test_fpga_outputs_are_stamped(tmp_path, monkeypatch, capsys):
    """The sweep table (.md, .json), --json, a build's report.json, scan wrapper and Vivado
    script; synthesis and place and route faked (the test is about what is written)."""
    import macforge.fpga.flow as flow
    total = {"lut": 10, "ff": 2, "carry": 1, "dsp": 0, "bram": 0}
    monkeypatch.setattr(flow, "synth_fpga_hier",
                        lambda *a, **k: (dict(total), dict(total), dict(total)))
    argv = ["fpga", "--format", "e4m3", "--unit", "mul", "--target", "xilinx", "--output",
            str(tmp_path), "--json"]
    assert main(argv) == 0
    _stamped(json.loads(capsys.readouterr().out), "macforge fpga")
    wd = next(tmp_path.glob("**/report.json")).parent
    _stamped(json.loads((wd / "report.json").read_text()), "macforge fpga")
    wrapper = next(wd.glob("scan_*.v")).read_text().splitlines()
    assert wrapper[1] == f"// {provenance.line()}"
    assert f"# {provenance.line()}" in (wd / "vivado.tcl").read_text().splitlines()[:2]

    def fake_build(unit, target, root=None, seed=None, progress=None, **kw):
        unit._MustUse__silence = True            # never elaborated here
        m = unit.manifest()
        return {"module": m["module"], "unit": {"latency": m["latency"]}, "fmax_mhz": 50.0,
                "synth": {"unit": {"lut": 10, "ff": 0, "carry": 1, "dsp": 0}}, "notes": []}
    monkeypatch.setattr(flow, "build", fake_build)
    assert main(["fpga", "--format", "e4m3", "--unit", "mul", "--target", "ice40",
                 "--sweep-stages", "0,1", "--output", str(tmp_path / "s")]) == 0
    md = next((tmp_path / "s").glob("sweep_*.md"))
    assert md.read_text().splitlines()[0] == f"<!-- {provenance.line()} -->"
    _stamped(json.loads(md.with_suffix(".json").read_text()), "macforge fpga")


def test_sim_json_is_typed(capsys):
    """`macforge sim --json`: stdout is one stamped JSON document (the report lines go to
    stderr) with counts as integers and seconds as numbers; e4m3 mul is run whole."""
    from _simutil import BUILD
    argv = ["sim", "--format", "e4m3", "--unit", "mul", "--mode", "fast", "--build-dir",
            str(BUILD), "--json"]
    assert main(argv) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    _stamped(doc, "macforge sim")
    assert "PASS fmul_e4m3fn_e4m3fn_rne_s0" in out.err
    assert doc["module"] == "fmul_e4m3fn_e4m3fn_rne_s0" and doc["ok"] is True
    assert doc["vectors"] == 1 << 16 and doc["mismatches"] == 0
    assert doc["exhaustive"] is True and doc["complete"] is True
    assert doc["vector_classes"] == {"exhaustive": 1 << 16, "corner": 0, "random": 0}
    assert doc["mode"] == "fast" and doc["latency_cycles"] == 0 and doc["seed"] == 1
    for k in ("build_s", "simulation_check_s", "total_s", "vectors_per_s"):
        assert isinstance(doc[k], float) and doc[k] >= 0, k
    assert doc["total_s"] >= doc["build_s"] and doc["mismatches_csv"] is None
