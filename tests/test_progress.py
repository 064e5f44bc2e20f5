"""macforge.progress: tqdm lines on a terminal, plain lines elsewhere, nothing under --quiet."""
import io
import time

import pytest

from macforge import progress
from macforge.cli import main


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def _loud():
    progress.set_quiet(False)
    yield
    progress.set_quiet(False)


def test_bar_draws_on_a_terminal_only():
    tty, log = FakeTTY(), io.StringIO()
    for stream in (tty, log):
        with progress.bar(4, "points", unit="point", stream=stream) as b:
            for _ in range(4):
                b.update(1)
    assert "points: 100%" in tty.getvalue() and "4/4" in tty.getvalue()
    assert log.getvalue() == ""                    # not a TTY: the bar stays silent


def test_task_status_line_and_messages(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    with progress.task("macforge test", delay=0.0):
        progress.say("building fmul_e4m3fn_e4m3fn_rne_s0")
        time.sleep(0.7)                             # one refresh of the status line
    out = tty.getvalue()
    assert "building fmul_e4m3fn_e4m3fn_rne_s0\n" in out
    assert "macforge test: 00:00, building fmul_e4m3fn" in out


def test_plain_lines_without_a_terminal_and_quiet(capsys):
    with progress.task("macforge test", delay=0.0):
        progress.say("one line")
    assert capsys.readouterr().err == "one line\n"
    progress.set_quiet(True)
    progress.say("hidden")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv", [["--quiet", "workload", "show", "resnet18"],
                                  ["workload", "show", "resnet18", "-q"]])
def test_cli_quiet_before_or_after_the_subcommand(capsys, argv):
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "conv1" in out.out and out.err == ""
    assert progress.is_quiet()
