"""``sweep --dry-run`` validates and names points through ``hw.naming_only`` (the units' own
constructors, no port signals): it must accept, reject and name exactly the points that full
construction does, and write nothing (issue 15). The 10^6-point timing is bench/sweep_dryrun.py."""
import itertools
import os
import sys
from pathlib import Path

import pytest

from macforge import hw
from macforge.costmodel.sweep import parse_spec, plan_sweep
from macforge.costmodel.sweep._spec import AXES, _DEFAULTS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import sweep_dryrun  # noqa: E402

# valid and invalid (unit, format, acc, rounding) mixes: minifloat, integer, posit, fnuz operands
AXES_VALUES = {
    "unit": ["mul", "mac", "fma", "lmul", "dot"],
    "format": ["e4m3", "e2m1", "int8", "posit8", "fp16", "e5m2fnuz"],
    "acc": [None, "fp32", "e4m3", "int32"],
    "rounding": ["rne", "sr"],
    "stages": [0, 2],
}
MIXED = ("skip_invalid: true\naxes:\n"
         + "".join(f"  {k}: [{', '.join('null' if v is None else str(v) for v in vs)}]\n"
                   for k, vs in AXES_VALUES.items())
         + "measure: {asic: true}\n")


def _full_construction():
    """The reference: every combination built the old way (full make_unit, ports and all)."""
    accepted, rejected = set(), set()
    keys = list(AXES_VALUES)
    for combo in itertools.product(*AXES_VALUES.values()):
        values = {k: _DEFAULTS.get(k) for k in AXES}
        values.update(zip(keys, combo))
        kwargs = {{"format": "fmt", "format_b": "fmt_b"}.get(k, k): v for k, v in values.items()}
        try:
            unit = hw.make_unit(**kwargs)
        except (ValueError, TypeError) as exc:
            rejected.add((tuple(sorted(values.items())), " ".join(str(exc).split())))
            continue
        unit._MustUse__silence = True                # built to compare, never elaborated
        fmts = unit.manifest()["formats"]
        if values["acc"] is None:
            values["acc"] = fmts.get("out", fmts.get("acc"))
        accepted.add((tuple(sorted(values.items())), unit.module_name))
        assert unit.a is not None                   # a real unit: its ports exist
    return accepted, rejected


def test_dry_run_validation_equals_full_construction():
    spec = parse_spec(MIXED, "mixed.yaml")
    got = [(tuple(sorted(p.axes.items())), p.module) for p in spec.points]
    assert len(got) == len(set(got))
    accepted, rejected = _full_construction()
    assert set(got) == accepted
    assert {(tuple(sorted(a.items())), r) for a, r in spec.invalid} == rejected
    assert accepted and rejected                     # the file exercises both sides


def test_naming_only_units_have_no_ports_and_leave_real_units_alone():
    with hw.naming_only():
        named = hw.make_unit("mac", "e4m3", acc="fp32", stages=1)
    real = hw.make_unit("mac", "e4m3", acc="fp32", stages=1)
    real._MustUse__silence = True
    assert named.module_name == real.module_name
    assert named.manifest() == real.manifest()
    assert not hasattr(named, "a") and real.a is not None


def test_dry_run_of_10k_points_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MACFORGE_CACHE", str(tmp_path / "cache"))
    spec = tmp_path / "big.yaml"
    # the bench's file cut to 2 operand formats and 5 rnd_bits: 600 units x 17 stages
    text = sweep_dryrun.sweep_yaml(17).replace(", ".join(sweep_dryrun.FORMATS), "e4m3, e2m1")
    spec.write_text(text.replace("{from: 1, to: 25}", "{from: 1, to: 5}"))
    rep = plan_sweep(str(spec), str(tmp_path / "results"), err=open(os.devnull, "w"))
    assert rep.points == 2 * 15 * 4 * 5 * 17 == 10_200
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["big.yaml"]


def test_keyer_hashes_what_key_hashes():
    from macforge.costmodel.cache import key, keyer
    measure, tools = {"asic": {"energy": True, "n_ops": 10}}, {"yosys": "0.40", "x": [1, None]}
    f = keyer(("sweep-param",), (measure, "c0de", tools))
    for axes in ({"unit": "mac", "acc": None, "stages": 3, "saturate": True},
                 {"format": "e4m3", "lanes": 1}, {}):
        assert f(axes) == key("sweep-param", axes, measure, "c0de", tools)
    assert keyer((), ())("x") == key("x")


def test_clock_mhz_is_part_of_every_point_key_and_needs_asic(tmp_path):
    """sweep --clock-mhz F: the clock goes into the asic measurement (so into each point's
    key: a point priced at another clock is another point); a sweep without asic refuses."""
    from macforge.costmodel.sweep import SweepError, load_spec, with_clock
    f = tmp_path / "s.yaml"
    f.write_text("axes: {unit: mul, format: [e4m3, e5m2]}\nmeasure: {asic: {energy: false}}\n")
    spec = load_spec(str(f))
    assert "clock_mhz" not in spec.measure["asic"]        # no clock: keys as before
    clocked = with_clock(spec, 500)
    assert clocked.measure["asic"]["clock_mhz"] == 500.0 and "clock_mhz" not in spec.measure["asic"]
    f.write_text("axes: {unit: mul, format: e4m3}\nmeasure: {asic: {clock_mhz: -3}}\n")
    with pytest.raises(SweepError, match="clock_mhz"):
        load_spec(str(f))
    f.write_text("axes: {unit: mul, format: e4m3}\nmeasure: {error_stats: true}\n")
    with pytest.raises(SweepError, match="asic"):
        with_clock(load_spec(str(f)), 500)
