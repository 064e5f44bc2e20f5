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
