"""The architecture as contracts: layers, no import cycles, one installed top-level package.

The folders golden/, hw/, sim/, costmodel/ and fpga/ install as subpackages of macforge (the
package-dir mapping of pyproject.toml), so the import graph is only whole in the installed
layout. The test assembles that layout from the sources, exactly as the mapping says, and runs
import-linter (the contracts are in pyproject.toml's [tool.importlinter]) on it. Imports inside
functions count: grimp reads every import statement of a module. Two mutated copies prove the
contracts can fail.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
LINT = Path(sys.executable).parent / "lint-imports"


def _source_dir(package: str) -> Path:
    """The folder a package is installed from: the longest package-dir prefix that maps it."""
    dirs = SETUPTOOLS["package-dir"]
    parts = package.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in dirs:
            return ROOT / dirs[prefix] / Path(*parts[i:])
    raise AssertionError(f"{package} has no package-dir entry")


def _assemble(dest: Path) -> Path:
    for pkg in SETUPTOOLS["packages"]:
        out = dest / Path(*pkg.split("."))
        out.mkdir(parents=True, exist_ok=True)
        for f in _source_dir(pkg).glob("*.py"):
            shutil.copy2(f, out / f.name)
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def _lint(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=tree, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return _assemble(tmp_path_factory.mktemp("installed"))


def test_every_package_folder_is_installed_under_macforge():
    """Each folder with an __init__.py is a listed package, and every package is macforge.*"""
    listed = set(SETUPTOOLS["packages"])
    assert all(p == "macforge" or p.startswith("macforge.") for p in listed), listed
    found = set()
    for pkg, folder in SETUPTOOLS["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([pkg, *rel.parts]))
    # a folder holding data only is listed as a package with its data named in package-data
    found |= {p for p in SETUPTOOLS.get("package-data", {}) if p in listed
              and not any(_source_dir(p).glob("*.py")) and _source_dir(p).is_dir()}
    assert found, "no package folders found"
    assert found == listed, (f"not listed in pyproject: {sorted(found - listed)}; "
                             f"listed without a folder: {sorted(listed - found)}")


def test_contracts_kept(tree):
    res = _lint(tree)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "2 kept, 0 broken" in out, out
    assert "Analyzed" in out and int(out.split("Analyzed ")[1].split()[0]) > 100, out


def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(tree, tmp_path):
    bad = _assemble(tmp_path / "layer")
    with open(bad / "macforge" / "golden" / "_ops.py", "a") as f:
        f.write("\n\ndef _peek():\n    from macforge.sim import model\n    return model\n")
    res = _lint(bad)
    assert res.returncode != 0
    assert "macforge.golden is not allowed to import macforge.sim" in res.stdout, res.stdout


def test_an_import_cycle_breaks_the_contract(tree, tmp_path):
    bad = _assemble(tmp_path / "cycle")
    with open(bad / "macforge" / "golden" / "_formats.py", "a") as f:
        f.write("\n\ndef _peek():\n    from macforge.golden import _ops\n    return _ops\n")
    res = _lint(bad)
    assert res.returncode != 0
    assert "no import cycles between sibling modules, at any depth BROKEN" in res.stdout, res.stdout


def test_only_macforge_is_importable_at_top_level(tmp_path):
    """From a directory outside the checkout, macforge.golden imports and golden does not."""
    code = ("import importlib.util, macforge.golden, macforge.hw\n"
            "print([n for n in ('golden', 'hw', 'sim', 'costmodel', 'fpga') "
            "if importlib.util.find_spec(n) is not None])")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]", res.stdout


def test_nothing_points_outside_the_repository():
    """Code and docs cite docs/formats.md, docs/anchors.md, docs/conventions.md, never ../shared."""
    files = subprocess.run(["git", "ls-files", "*.py", "*.md", "*.toml", "Makefile"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    files = [f for f in files if f != "tests/test_architecture.py"]
    assert len(files) > 50
    hits = [f for f in files if "shared/" in (ROOT / f).read_text(errors="replace")]
    assert not hits, hits
