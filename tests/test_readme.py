"""Every code block of README.md runs as written.

Shell blocks run line by line under bash (``set -e``) in a scratch directory with the
environment's ``macforge`` first on PATH; Python blocks run in a fresh interpreter, and a
``print(...)  # <text>`` line must print ``<text>``. A block right after the comment
``<!-- readme: skip (reason) -->`` is not run (installs, syntheses and simulations that take
minutes, run in their own tests); the reason is required. Blocks of other languages (``text``)
are output samples.
"""
import os
import shlex
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(?:<!-- readme: skip \((?P<why>[^)]+)\) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```",
                   re.S)


def blocks():
    text = (ROOT / "README.md").read_text()
    return [(m["lang"], m["body"], m["why"]) for m in BLOCK.finditer(text)]


def test_readme_fits_on_two_screens_and_has_blocks():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 100, len(lines)
    langs = [b[0] for b in blocks()]
    assert langs.count("sh") >= 3 and "python" in langs


@pytest.mark.parametrize("lang,body,why", blocks(),
                         ids=[f"{i}-{b[0]}" for i, b in enumerate(blocks())])
def test_readme_block_runs(lang, body, why, tmp_path):
    if why is not None:
        pytest.skip(f"marked in README.md: {why}")
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                                 os.environ.get("PATH", "")]))
    if lang == "sh":
        proc = subprocess.run(["bash", "-e", "-c", body], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (body, proc.stdout[-2000:], proc.stderr[-2000:])
    elif lang == "python":
        proc = subprocess.run([sys.executable, "-c", body], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        expected = [m[1].strip() for m in re.finditer(r"^print\(.*\)\s+#\s*(.*)$", body, re.M)]
        assert expected and proc.stdout.splitlines() == expected, proc.stdout
    else:
        assert lang in ("text", ""), lang


def _commands(body):
    """The command lines of a shell block, comments dropped."""
    for line in body.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            yield shlex.split(line)


@pytest.mark.parametrize("body", [b for lang, b, why in blocks() if why and lang == "sh"])
def test_skipped_blocks_are_commands_that_exist(body):
    """A block not run (it takes minutes) still names real commands: every ``macforge ...`` line
    parses with the CLI's parser, every ``make ...`` line is a target make accepts (``make -n``:
    nothing built)."""
    from macforge.cli import build_parser
    for argv in _commands(body):
        if argv[0] == "macforge":
            build_parser().parse_args(argv[1:])          # SystemExit(2) on a wrong option
        elif argv[0] == "make":
            proc = subprocess.run(["make", "-n", *argv[1:]], cwd=ROOT, capture_output=True,
                                  text=True, timeout=120)
            assert proc.returncode == 0, (argv, proc.stderr[-1000:])
        else:
            assert argv[:3] == ["python3", "-m", "pip"], argv     # the install line
