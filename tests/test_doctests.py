"""Every docstring example in the package runs and prints what it says (numpydoc ``Examples``).

Examples that need tools or minutes (a synthesis, a Verilator build) carry ``# doctest: +SKIP``
in their docstring; everything else is executed here, in ``make test``.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil
import warnings

import pytest

import macforge
from macforge import costmodel, fpga, golden, hw, sim

# cocotb test modules run inside a simulator, not here
_NOT_IMPORTABLE = ("macforge.sim.bench", "macforge.fpga._harness_bench", "macforge.__main__")


def _modules():
    names = {"macforge"}
    for pkg in (macforge, golden, hw, sim, costmodel, fpga):
        names.add(pkg.__name__)
        names.update(info.name for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."))
    return sorted(n for n in names if n not in _NOT_IMPORTABLE)


MODULES = _modules()


def test_every_package_module_is_collected():
    assert len(MODULES) > 100
    assert "macforge.golden._registry" in MODULES and "macforge.cli.sim" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)              # examples that write files write them here
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        # an example that builds a unit only to show its name never elaborates it
        warnings.filterwarnings("ignore", message=".*created but never used")
        res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                              report=True)
    assert res.failed == 0, f"{res.failed} of {res.attempted} examples in {name} failed"
