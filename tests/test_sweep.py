"""Design-space sweeps: one-line errors with file:line, local pool == Dask cluster, a failed
point recorded while the sweep goes on, exports, and resumption after SIGKILL of the driver."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from macforge import provenance
from macforge.costmodel.sweep import export, load_results, parse_spec, run_sweep
from macforge.cli import main

ROOT = Path(__file__).resolve().parent.parent

# Cheap measurements: ASIC area of tiny multipliers (no energy) and error statistics. The
# second block is a mixed e2m1 x e2m3 multiplier, which make_unit builds but error statistics
# refuse (one operand format): a point that fails at run time.
CHEAP = """\
name: cheap
axes:
  - unit: mul
    format: [e2m1, e2m3]
    rounding: [rne, rtz]
  - unit: mul
    format: e2m1
    format_b: e2m3
    acc: e2m3
measure:
  asic: {energy: false}
  error_stats: {samples: 2000}
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cost-model cache (spawned workers inherit the environment)."""
    monkeypatch.setenv("MACFORGE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _cli_error(capsys, tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["sweep", str(path), "-o", str(tmp_path / "out"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err           # one line
    return err.rstrip("\n").replace(str(path), "F")


@pytest.mark.parametrize("text,pattern", [
    ("axes:\n  format: [e4m3\nmeasure: {asic: true}\n",
     r"^macforge: error: F:3: not valid YAML: .*$"),
    ("axes:\n  unit: mul\n  format:\n    - e4m3\n    - e4m9x\nmeasure: {asic: true}\n",
     r"^macforge: error: F:5: axes\.format: unknown format 'e4m9x'; accepted: .*$"),
    ("axes:\n  format: e4m3\n  rounding: [rne, nearest]\nmeasure: {asic: true}\n",
     r"^macforge: error: F:3: axes\.rounding: unknown rounding mode 'nearest'; accepted: .*$"),
    ("axes:\n  format: e4m3\n  stages: {from: 0, to: x}\nmeasure: {asic: true}\n",
     r"^macforge: error: F:3: axes\.stages\.to: range bounds are integers, not 'x'$"),
    ("axes:\n  format: e4m3\n  lanez: [2, 4]\nmeasure: {asic: true}\n",
     r"^macforge: error: F:3: axes\.lanez: unknown key; accepted: unit, format, format_b, .*$"),
    ("axes:\n  format: e4m3\n  unit: [mul, div]\nmeasure: {asic: true}\n",
     r"^macforge: error: F:3: axes\.unit: unknown unit 'div'; accepted: mul, fma, mac, .*$"),
    ("axes:\n  format: e4m3\nmeasure:\n  fpga: {targets: [xilinx], pnr: true}\n",
     r"^macforge: error: F:4: measure\.fpga\.pnr: place and route \(nextpnr\) runs for ice40, "
     r"ecp5 among the targets xilinx, not xilinx$"),
    ("axes:\n  unit: mul\n  format: e4m3\n  stages: [0, 1]\n  rnd_bits: [8, -2]\n"
     "measure: {asic: true}\n",
     r"^macforge: error: F:5: axes\.rnd_bits: must be a non-negative integer, not -2$"),
    ("axes:\n  format: e4m3\nmeasure:\n  spice: true\n",
     r"^macforge: error: F:4: measure\.spice: unknown key; accepted: asic, fpga, error_stats, "
     r"verify$"),
    ("axes:\n  format: [int8, e4m3]\n  unit: mac\n  acc: int32\nmeasure: {asic: true}\n",
     r"^macforge: error: F:2: axes: the point format=e4m3 \(line 2\) cannot be built: an "
     r"integer accumulator \(int32\) needs integer operands, not e4m3fn x e4m3fn; .*"
     r"\(leave it out with exclude:, or set skip_invalid: true\)$"),
])
def test_bad_sweep_files_give_one_line_naming_key_and_line(capsys, tmp_path, text, pattern):
    assert re.match(pattern, _cli_error(capsys, tmp_path, text))


def test_spec_expansion_ranges_exclude_defaults():
    spec = parse_spec("axes:\n  unit: mul\n  format: [e4m3, e5m2]\n  stages: {from: 0, to: 4, "
                      "step: 2}\nexclude:\n  - {format: e5m2, stages: [2, 4]}\n"
                      "measure: {asic: true}\n")
    got = [(p.axes["format"], p.axes["stages"], p.axes["acc"]) for p in spec.points]
    assert got == [("e4m3", 0, "e4m3fn"), ("e4m3", 2, "e4m3fn"), ("e4m3", 4, "e4m3fn"),
                   ("e5m2", 0, "e5m2")]
    assert spec.excluded == 2
    assert [p.module for p in spec.points][:2] == ["fmul_e4m3fn_e4m3fn_rne_s0",
                                                   "fmul_e4m3fn_e4m3fn_rne_s2"]
    assert spec.measure == {"asic": {"energy": True, "n_ops": 100_000, "seed": 1}}


def _table(rows):
    return [{k: v for k, v in r.items()} for r in rows]


def test_local_pool_and_dask_cluster_give_the_same_table(cache, tmp_path):
    from distributed import LocalCluster
    spec = parse_spec(CHEAP, "cheap.yaml")
    assert len(spec.points) == 5
    local = run_sweep(spec, str(tmp_path / "local"), jobs=2, err=sys.stderr)
    assert (local.ran, local.ok, local.failed) == (5, 4, 1)
    rows = load_results(str(tmp_path / "local"), include_failed=True)
    assert len(rows) == 5
    bad = [r for r in rows if r["status"] == "failed"]
    assert len(bad) == 1 and bad[0]["module"] == "fmul_e2m1fn_e2m3fn_e2m3fn_rne_s0"
    assert bad[0]["error"] == ("error_stats: FormatError: error statistics take one operand "
                               "format, not e2m1 x e2m3")
    ok = load_results(str(tmp_path / "local"))
    assert [r["module"] for r in ok] == ["fmul_e2m1fn_e2m1fn_rne_s0", "fmul_e2m1fn_e2m1fn_rtz_s0",
                                         "fmul_e2m3fn_e2m3fn_rne_s0", "fmul_e2m3fn_e2m3fn_rtz_s0"]
    for r in ok:
        assert r["area_ge"] > 20 and r["area_um2"] > 0 and r["delay_ps"] > 0
        assert 0 < r["err_mean_rel"] < 1 and r["err_samples"] == 2000
        assert r["latency_cycles"] == 0 and r["rounding"] in ("rne", "rtz")
    # RTZ truncates: smaller and less accurate than RNE, in area and in error
    assert ok[1]["area_ge"] < ok[0]["area_ge"] and ok[3]["area_ge"] < ok[2]["area_ge"]
    assert ok[3]["err_mean_rel"] > ok[2]["err_mean_rel"]
    again = run_sweep(spec, str(tmp_path / "local"), jobs=2, err=sys.stderr)
    # nothing measured again (skipped as planned; or, should the sources change in between,
    # found by content: "reused"); the failed point is kept unless --retry-failed
    assert again.ok == 0 and again.finished_before + again.reused == 4
    assert again.failed_before + again.failed == 1
    retry = run_sweep(spec, str(tmp_path / "local"), jobs=1, retry_failed=True, err=sys.stderr)
    assert retry.ok == 0 and retry.failed == 1 and retry.finished_before + retry.reused == 4

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        remote = run_sweep(spec, str(tmp_path / "dask"), scheduler=cluster.scheduler_address,
                           err=sys.stderr)
    assert "Dask" in remote.workers and (remote.ok, remote.failed) == (4, 1)
    assert load_results(str(tmp_path / "dask"), include_failed=True) == rows

    paths = export(ok, str(tmp_path / "local"), ["csv", "json", "parquet"])
    import pyarrow.parquet as pq
    assert pq.read_table(paths[2]).to_pylist() == ok
    doc = json.loads(Path(paths[1]).read_text())
    assert doc["macforge"] == provenance.stamp() and doc["rows"] == provenance.tidy(ok)
    assert Path(paths[0]).read_text().startswith(f"# {provenance.line()}\n")
    assert provenance.read_csv(paths[0])[0]["format"] == ok[0]["format"]
    header = Path(paths[0]).read_text().splitlines()[1].split(",")
    assert header[:4] == ["unit", "format", "format_b", "acc"] and "area_ge" in header


def test_sigkill_of_the_driver_then_restart_loses_nothing_and_repeats_nothing(cache, tmp_path):
    spec = tmp_path / "kill.yaml"
    spec.write_text("name: kill\naxes:\n  unit: mul\n"
                    "  format: [e2m1, e2m3, e3m2, e4m3, e5m2, e3m4]\n"
                    "measure:\n  error_stats: {samples: 20000, dist: gaussian}\n")
    out = tmp_path / "out"
    db = out / "sweep.sqlite"
    cmd = [sys.executable, "-m", "macforge", "sweep", str(spec), "-o", str(out), "--jobs", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    before = []
    try:
        deadline = time.time() + 90
        while time.time() < deadline and proc.poll() is None:
            if db.exists():
                with sqlite3.connect(db, timeout=30) as c:
                    try:
                        before = c.execute("SELECT key, session, finished FROM results").fetchall()
                    except sqlite3.OperationalError:          # tables not created yet
                        before = []
                if len(before) >= 2:
                    break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)       # the driver and its worker: our own group
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    assert 2 <= len(before) < 6, "the sweep must be killed mid-run"
    with sqlite3.connect(db, timeout=30) as c:
        before = c.execute("SELECT key, session, finished FROM results").fetchall()
    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    # only the points not finished before the kill are measured (a restart normally skips the
    # finished ones outright: "N finished before"; if the sources changed in between, their
    # workers find the same Verilog already measured: "same as a finished point")
    m = re.search(r"6 points; (\d+) finished before; (\d+) to run", rerun.stderr)
    assert m and int(m.group(1)) + int(m.group(2)) == 6, rerun.stderr
    m = re.search(r"this run: (\d+) measured, 0 failed, (\d+) same as a finished point",
                  rerun.stdout)
    assert m and int(m.group(1)) == 6 - len(before), rerun.stdout
    with sqlite3.connect(db, timeout=30) as c:
        after = c.execute("SELECT key, session, finished, status FROM results").fetchall()
        plan = c.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM plan").fetchone()
    assert len(after) == 6 and len({r[0] for r in after}) == 6 and plan == (6, 6)
    assert all(r[3] == "ok" for r in after)
    kept = {r[0]: r[1:3] for r in after}
    for k, session, finished in before:          # finished before the kill: not run again
        assert kept[k] == (session, finished)
    rows = load_results(str(out))
    assert [r["format"] for r in rows] == ["e2m1", "e2m3", "e3m2", "e4m3", "e5m2", "e3m4"]
    assert all(r["err_samples"] > 10_000 and r["err_mean_rel"] > 0 for r in rows)
