"""Issue 17 items 5/7: calibrate and reproduce priced at a stated clock (parsing and the
row arithmetic; the synthesis itself is exercised by test_pipelining / the reproductions)."""
import pytest

from macforge.cli import build_parser, main


def test_calibrate_clock_option_default_and_off():
    from macforge.costmodel.calibrate import CALIBRATE_CLOCK_MHZ
    p = build_parser()
    assert p.parse_args(["calibrate"]).clock_mhz == CALIBRATE_CLOCK_MHZ
    assert p.parse_args(["calibrate", "--clock-mhz", "0"]).clock_mhz == 0.0
    assert p.parse_args(["calibrate", "--clock-mhz", "400"]).clock_mhz == 400.0


@pytest.mark.parametrize("bad", ["fast", "-5", "20000"])
def test_calibrate_bad_clock_is_one_line(bad, capsys):
    try:
        rc = main(["calibrate", "--clock-mhz", bad])
    except SystemExit as exc:
        rc = exc.code
    assert rc not in (0, None)
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "clock-mhz" in err and "Traceback" not in err


def test_reproduce_takes_timed_samples():
    p = build_parser()
    assert p.parse_args(["reproduce", "lmul", "--timed-samples", "0"]).timed_samples == 0


def test_lmul_rows_are_our_ratios_against_theirs():
    from macforge.costmodel.reproduce import _LMUL_FORMATS, _lmul_rows
    res = {}
    for i, label in enumerate(_LMUL_FORMATS):
        res[f"L-Mul {label}"] = {"area_um2": 10.0 * (i + 1), "energy_pj": 1.0,
                                 "energy_timed_pj": 2.0, "delay_ps": 300.0}
        res[f"exact mul {label}"] = {"area_um2": 40.0 * (i + 1), "energy_pj": 4.0,
                                     "energy_timed_pj": 10.0, "delay_ps": 1200.0}
    cols = [("energy", "energy_pj"), ("energy (timed)", "energy_timed_pj")]
    rows = _lmul_rows(res, "", cols)
    got = {(r["comparison"], r["metric"]): r["ours"] for r in rows}
    assert got[("L-Mul / exact, fp8 (e4m3)", "area (ours: area)")] == 0.25
    assert got[("L-Mul / exact, fp8 (e4m3)", "power (ours: energy/op)")] == 0.25
    assert got[("L-Mul / exact, fp8 (e4m3)", "power (ours: energy/op (timed))")] == 0.2
    assert got[("L-Mul / exact, fp8 (e4m3)", "delay (ours: delay)")] == 0.25
    clocked = _lmul_rows(res, " at 500 MHz", cols)
    assert not any("delay" in r["metric"] for r in clocked)       # both run at the clock
    assert all(r["comparison"].endswith("at 500 MHz") for r in clocked)
