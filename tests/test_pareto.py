"""Pareto front vs brute force; the report is well-formed HTML whose images exist."""
import json
import os
from html.parser import HTMLParser

import numpy as np
import pytest

from macforge.costmodel.pareto import pareto_front


def _brute(points, maximize):
    s = np.where(maximize, 1.0, -1.0)
    out = []
    for i, p in enumerate(points):
        a = np.asarray(p) * s
        if not any(np.all(np.asarray(q) * s >= a) and np.any(np.asarray(q) * s > a)
                   for j, q in enumerate(points) if j != i):
            out.append(i)
    return out


@pytest.mark.parametrize("seed", range(30))
def test_front_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    dims = int(rng.integers(2, 4))
    pts = rng.integers(0, 6, (n, dims)).astype(float)      # small grid: many ties
    pts = [tuple(p) for p in pts]
    maximize = tuple(bool(x) for x in rng.integers(0, 2, dims))
    got = pareto_front(pts, maximize)
    assert got == _brute(pts, maximize)
    assert got                                              # a non-empty set has a front


def test_front_skips_missing():
    assert pareto_front([(1.0, None), (0.5, 2.0), (float("nan"), 1.0)]) == [1]


class _Checker(HTMLParser):
    VOID = {"meta", "img", "source", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.refs, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "srcset", "href"):
            if a.get(k):
                self.refs.append(a[k])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def _check_html(path):
    c = _Checker()
    with open(path) as f:
        c.feed(f.read())
    c.close()
    assert not c.errors and not c.stack, (c.errors, c.stack)
    return c


def test_report_is_well_formed(tmp_path):
    from macforge.costmodel import report
    from macforge.costmodel.pareto import run
    res = run("digits", ["int8", "int4"], progress=lambda m: None)
    paths = report.write_report(res, str(tmp_path))
    c = _check_html(paths["report"])
    imgs = [r for r in c.refs if r.endswith((".png", ".svg"))]
    assert {f"{n}.{e}" for n in ("accuracy_vs_energy", "accuracy_vs_area", "energy_breakdown")
            for e in ("png", "svg")} <= set(imgs)
    for r in imgs:
        assert os.path.getsize(tmp_path / r) > 1000, r
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [r["format"] for r in rows] == ["int8", "int4"]
    assert all(r["energy_nj"] > 0 and r["area_mm2"] > 0 and r["latency_us"] > 0 for r in rows)
    # int4 moves half the bits and its products switch fewer gates: cheaper per inference
    assert rows[1]["energy_nj"] < rows[0]["energy_nj"]
    for r in rows:
        # the breakdown (MAC array + every memory level of tpu_like) sums to the total
        parts = r["energy_breakdown_nj"]
        assert list(parts) == ["MAC array", "rf_128B", "rf_2B", "sram_2MB", "dram"]
        assert sum(parts.values()) == pytest.approx(r["energy_nj"], rel=1e-12)
        assert parts["MAC array"] == pytest.approx(17024 * r["energy_pj_per_mac"] / 1000)
        lo, hi = r["ci"]                                   # bootstrap interval around top-1
        assert lo <= r["top1"] <= hi and hi - lo > 0
    text = (tmp_path / "results.csv").read_text()
    assert text.splitlines()[1].startswith("format,description,top1")
    html_text = open(paths["report"]).read()
    assert "Every format is priced on the same basis" in html_text
    assert "{" not in html_text.split("<body>")[1]                     # no dicts printed
    # every unit priced at the one default clock by the fewest-register pipeline meeting it
    from macforge.costmodel.pareto import DEFAULT_CLOCK_MHZ
    prm = res["params"]
    assert prm["clock_mhz"] == DEFAULT_CLOCK_MHZ and f"{DEFAULT_CLOCK_MHZ:g} MHz" in html_text
    for r in rows:
        assert r["meets_clock"] is (r["fmax_mhz"] >= DEFAULT_CLOCK_MHZ)
        assert r["latency_us"] == pytest.approx(r["latency_cycles"] / r["array_clock_mhz"])
    # a clock no pipeline reaches: flagged, the array runs at what the unit reaches
    fast = run("digits", ["int8"], clock_mhz=9000, progress=lambda m: None)
    f = fast["rows"][0]
    assert f["meets_clock"] is False and f["fmax_mhz"] < 9000
    assert f["latency_us"] == pytest.approx(f["latency_cycles"] / f["fmax_mhz"])
    fast_html = open(report.write_report(fast, str(tmp_path / "fast"))["report"]).read()
    assert "do not reach 9000 MHz" in fast_html


def test_cli_rejects_bad_format(capsys):
    from macforge.cli import main
    assert main(["pareto", "--formats", "int8,int99"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("macforge: error: unknown format 'int99'; accepted: fp32, int8,")
    assert err.count("\n") == 1


def test_cli_unknown_workload_lists_every_kind(capsys):
    from macforge.cli import main
    assert main(["pareto", "--workload", "resnet99"]) == 2
    err = capsys.readouterr().err
    assert err == ("macforge: error: unknown workload 'resnet99'; accepted: digits, minilm, "
                   "resnet18, resnet50, mobilenetv2, bert-base, llama2-7b, zigzag:<name> "
                   "(alexnet, mobilenetv2, resnet18) or a path to an .onnx file\n")


def test_cli_clock_mhz_uses_the_shared_parser(capsys):
    from macforge.cli import main
    for text, why in (("0", "must be in (0, 10000] MHz, not '0'"),
                      ("fast", "must be a number of MHz, not 'fast'")):
        assert main(["pareto", "--clock-mhz", text]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].endswith(f"clock-mhz {why}"), err


def test_minilm_keep_reaches_the_mapping():
    """minilm's emulated layers (``layer0.q``) are not its graph's node names
    (``encoder.layer.0.attention.query``): ``keep=`` must still put the first and last graph
    layer on the kept format, and only those."""
    from macforge.costmodel import workloads
    from macforge.costmodel.accuracy import unit_spec
    from macforge.costmodel.accuracy.minilm import MiniLM
    from macforge.costmodel.accuracy.run import layer_specs
    from macforge.costmodel.mapping import MappingError
    from macforge.costmodel.pareto import graph_layer_specs
    from macforge.costmodel.workloads import MAC_OPS
    g = workloads.get("minilm", seq=12)
    nodes = [n for n, d in g.nodes(data=True) if d["op"] in MAC_OPS]
    spec = unit_spec("int4/keep=int8")
    lspecs = layer_specs(spec, MiniLM.layer_names)
    got = graph_layer_specs(MiniLM.layer_names, lspecs, nodes, spec, "minilm")
    assert list(got) == nodes and len(nodes) == 48
    kept = [n for n, s in got.items() if s.name == "int8"]
    assert kept == ["encoder.layer.0.attention.query", "encoder.layer.5.output"]
    assert {s.name for n, s in got.items() if n not in kept} == {spec.name}
    # attention products sit where the graph has them
    ops = {n: g.nodes[n]["op"] for n in nodes}
    assert [ops[n] for n, m in zip(nodes, MiniLM.layer_names) if m.endswith(".score")] == \
        ["attn_score"] * 6
    with pytest.raises(MappingError, match=r"^minilm: 48 emulated layers but 47 MAC layers"):
        graph_layer_specs(MiniLM.layer_names, lspecs, nodes[:-1], spec, "minilm")


@pytest.mark.slow
def test_unknown_fmax_is_not_zero_mhz(tmp_path, monkeypatch):
    """A unit whose Fmax is unknown (no timing; an unmapped FPGA target) does not crash the
    report, is not counted as meeting the clock, gets no latency and never reads 0 MHz."""
    from macforge.costmodel import pareto, report
    real = pareto.unit_at_clock_cost

    def no_timing(*a, **k):
        return {**real(*a, **k), "fmax_mhz": None, "met": False}
    monkeypatch.setattr(pareto, "unit_at_clock_cost", no_timing)
    res = pareto.run("digits", ["int8"], progress=lambda m: None, workers=1)
    r = res["rows"][0]
    assert r["fmax_mhz"] is None and r["meets_clock"] is False
    assert r["latency_us"] is None and r["array_clock_mhz"] is None and r["energy_nj"] > 0
    paths = report.write_report(res, str(tmp_path))
    text = open(paths["report"]).read()
    assert " 0 MHz" not in text and ">0<" not in text
    assert "int8 is unknown" in text                       # said, not invented
    import csv
    (row,) = csv.DictReader((tmp_path / "results.csv").read_text().splitlines()[1:])
    assert row["fmax_mhz"] == "" and row["latency_us"] == "" and row["meets_clock"] == "False"


@pytest.mark.slow
def test_cli_requant(tmp_path):
    """--requant adds the cast of every layer's outputs (costmodel.requant), per inference,
    and the report says what it is."""
    import csv
    from macforge.cli import main
    from macforge.costmodel.accuracy import get_model
    from macforge.costmodel.requant import layer_cast_energy
    out = tmp_path / "rq"
    assert main(["pareto", "--formats", "int8", "--requant", "-o", str(out)]) == 0
    lines = (out / "results.csv").read_text().splitlines()
    rows = {r["format"]: r for r in csv.DictReader(lines[1:])}
    want = layer_cast_energy(get_model("digits").graph(), "int8", 500.0)["total_nj"]
    assert float(rows["int8"]["requant_nj"]) == pytest.approx(want, rel=1e-11) and want > 0
    text = (out / "report.html").read_text()
    assert "requantisation" in text and "not included in the energy column" in text


@pytest.mark.slow
def test_worker_count_changes_no_figure():
    """The units are costed in a process pool: one process or two, every row is the same
    (each costing lands on its own format)."""
    from macforge.costmodel.pareto import run
    fmts = ["int8", "int4", "e4m3"]
    one, two = (run("digits", fmts, progress=lambda m: None, workers=w)["rows"] for w in (1, 2))
    strip = ("zigzag_cached_layers", "unit_costs")
    for a, b in zip(one, two):
        assert {k: v for k, v in a.items() if k not in strip} == \
            {k: v for k, v in b.items() if k not in strip}
    assert len({r["energy_pj_per_mac"] for r in one}) == 3


def test_architecture_adjustments_name_their_formats():
    """A per-MAC register widened to each format's own element width is one sentence per width,
    naming the formats it holds for; one made for every format names none."""
    from macforge.costmodel import report
    rows = [{"format": "int8", "arch_notes": ["rf widened from 16 to 32 bits", "common"]},
            {"format": "e4m3", "arch_notes": ["rf widened from 16 to 32 bits", "common"]},
            {"format": "posit8", "arch_notes": ["rf widened from 16 to 128 bits", "common"]},
            {"format": "int4", "arch_notes": ["common"]}]
    assert report._arch_notes(rows) == (
        "common; rf widened from 16 to 128 bits for posit8; "
        "rf widened from 16 to 32 bits for int8, e4m3")
    assert report._arch_notes([{"format": "int8"}]) == ""
