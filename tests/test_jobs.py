"""The shared job pool (macforge.jobs): a task that kills its worker is retried, then failed, and
no other result is lost or repeated; the number of tasks in flight is bounded; kill -9 of the
driver leaves no worker behind; Ctrl-C gives no worker tracebacks; atomic progress files; hms."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _jobtasks import (fail_init, interrupt_self, raise_on_two, read_state, set_state,
                       square_or_die)
from macforge.jobs import WorkerDied, atomic_write_json, hms, run_pool

ROOT = Path(__file__).resolve().parent.parent
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="PR_SET_PDEATHSIG and /proc are Linux's")


def test_a_task_that_kills_its_worker_fails_after_max_crashes_and_loses_nothing():
    results, errors, restarts = [], [], []
    run_pool(square_or_die, range(16), 2, lambda t, r: results.append((t, r)),
             on_error=lambda t, e: errors.append((t, e)),
             on_restart=lambda t, e: restarts.append((t, e.crashes, e.exitcode)))
    good = [t for t in range(16) if t not in (5, 8)]
    assert sorted(results) == [(t, t * t) for t in good]            # each exactly once
    assert sorted(t for t, _ in errors) == [5, 8]
    for t, e in errors:
        assert isinstance(e, WorkerDied) and e.crashes == 3
        assert e.exitcode == (-signal.SIGKILL if t == 5 else 3)
        assert e.how == ("killed by SIGKILL" if t == 5 else "exit code 3")
        assert str(e) == f"worker process died 3 times running this task (last: {e.how})"
    # retried twice each, and only the culprits: the task next door is never blamed
    assert sorted(restarts) == [(5, 1, -9), (5, 2, -9), (8, 1, 3), (8, 2, 3)]


def test_without_on_error_the_crash_is_raised():
    with pytest.raises(WorkerDied, match=r"^worker process died 1 times running this task "
                                         r"\(last: exit code 3\)$"):
        run_pool(square_or_die, [7, 8, 9], 1, lambda t, r: None, max_crashes=1)


def test_a_task_exception_is_reported_and_the_worker_goes_on():
    results, errors = [], []
    run_pool(raise_on_two, range(6), 2, lambda t, r: results.append(r),
             on_error=lambda t, e: errors.append((t, e)))
    assert sorted(results) == [0, 1, 3, 4, 5]
    ((t, e),) = errors
    assert t == 2 and isinstance(e, ValueError) and str(e) == "no 2"
    assert "raise ValueError" in str(e.__cause__)                  # the worker's traceback
    with pytest.raises(ValueError, match=r"^no 2$"):
        run_pool(raise_on_two, range(6), 2, lambda t, r: None)


def test_initializer_runs_once_in_every_worker_and_its_error_is_raised():
    seen = []
    run_pool(read_state, range(8), 2, lambda t, r: seen.append(r), initializer=set_state,
             initargs=("dut",))
    assert len(seen) == 8 and {v for v, _ in seen} == {"dut"}
    assert 1 <= len({pid for _, pid in seen}) <= 2 and os.getpid() not in {p for _, p in seen}
    with pytest.raises(RuntimeError, match=r"^no simulator here$"):
        run_pool(read_state, range(4), 2, lambda t, r: None, initializer=fail_init)


def test_tasks_in_flight_are_bounded():
    """Tasks are taken lazily: never more than 2 x jobs taken and not yet returned."""
    jobs, taken, done, peak = 2, [0], [0], [0]

    def tasks():
        for t in range(40):
            taken[0] += 1
            peak[0] = max(peak[0], taken[0] - done[0])
            yield t

    def record(t, r):
        done[0] += 1

    run_pool(time.sleep, (0.01 for _ in tasks()), jobs, record)
    assert done[0] == taken[0] == 40
    assert 2 <= peak[0] <= 2 * jobs, peak[0]


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"^jobs must be a positive integer, not 0$"):
        run_pool(abs, [1], 0, print)
    with pytest.raises(ValueError, match=r"^max_crashes must be a positive integer, not 0$"):
        run_pool(abs, [1], 1, print, max_crashes=0)


# -- the driver dies or is interrupted ----------------------------------------------------------
DRIVER = """\
import os, sys, time
from macforge.jobs import run_pool

def task(t):
    open(os.path.join(sys.argv[1], str(os.getpid())), "w").close()
    time.sleep(t)

if __name__ == "__main__":
    try:    # one worker busy for a minute, the other idle after its task
        run_pool(task, [60, 0], 2, lambda t, r: None)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie nobody has reaped yet counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _start_driver(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    marks = tmp_path / "pids"
    marks.mkdir()
    proc = subprocess.Popen([sys.executable, str(script), str(marks)], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 60
    while len(list(marks.iterdir())) < 2:
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read()
        time.sleep(0.05)
    time.sleep(0.3)                                     # the second worker is idle now
    workers = [int(p.name) for p in marks.iterdir()]
    assert all(_alive(p) for p in workers)
    return proc, workers


def _gone_within(pids, seconds) -> bool:
    deadline = time.time() + seconds
    while any(_alive(p) for p in pids):
        if time.time() > deadline:
            return False
        time.sleep(0.05)
    return True


@linux_only
def test_sigkill_of_the_driver_leaves_no_worker(tmp_path):
    proc, workers = _start_driver(tmp_path)
    try:
        os.kill(proc.pid, signal.SIGKILL)               # the driver only, not its group
        proc.wait(10)
        assert _gone_within(workers, 5), [p for p in workers if _alive(p)]
    finally:
        proc.stderr.close()
        for p in workers:
            if _alive(p):
                os.kill(p, signal.SIGKILL)


def test_workers_ignore_sigint():
    results, errors = [], []
    run_pool(interrupt_self, range(4), 2, lambda t, r: results.append(r),
             on_error=lambda t, e: errors.append(e))
    assert sorted(results) == [0, 1, 2, 3] and errors == []


@linux_only
def test_ctrl_c_stops_the_workers_with_one_line_and_no_traceback(tmp_path):
    proc, workers = _start_driver(tmp_path)
    try:
        os.killpg(proc.pid, signal.SIGINT)              # as a terminal's Ctrl-C: the group
        err = proc.communicate(timeout=20)[1]
        assert proc.returncode == 0 and err == "interrupted\n", err
        assert _gone_within(workers, 5)
    finally:
        for p in workers:
            if _alive(p):
                os.kill(p, signal.SIGKILL)


# -- progress files and durations ------------------------------------------------------------------
WRITER = """\
import sys
from macforge.jobs import atomic_write_json
path, i = sys.argv[1], 0
while True:
    atomic_write_json(path, {"i": i, "data": [i] * 100_000})
    i += 1
"""


def test_atomic_write_json_never_leaves_a_partial_file(tmp_path):
    path = tmp_path / "progress.json"
    atomic_write_json(path, {"done": [[0, 4096]]})
    with pytest.raises(TypeError):
        atomic_write_json(path, {"done": [[0, 8192]], "bad": object()})
    assert json.loads(path.read_text()) == {"done": [[0, 4096]]}
    assert [p.name for p in tmp_path.iterdir()] == ["progress.json"]  # no temporary left
    # a writer killed at a random moment: every read, and the last file, is one whole write
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen([sys.executable, str(script), str(path)], cwd=ROOT)
    reads = 0
    try:
        t_end = time.time() + 1.5
        while time.time() < t_end:
            obj = json.loads(path.read_text())
            if "i" in obj:                              # the writer has started
                assert obj["data"] == [obj["i"]] * 100_000
                reads += 1
    finally:
        proc.kill()
        proc.wait()
    obj = json.loads(path.read_text())
    assert obj["data"] == [obj["i"]] * 100_000 and reads > 5 and obj["i"] > 0


def test_hms():
    assert [hms(5), hms(65), hms(3725), hms(59.6), hms(float("inf"))] == \
        ["5s", "1m05s", "1h02m05s", "1m00s", "?"]
