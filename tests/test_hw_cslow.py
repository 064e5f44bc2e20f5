"""C-slow float MAC (hw.FMac ``loop_stages``): registers inside the accumulate loop.

The unit keeps S = loop_stages + 1 accumulators in the ring of loop registers; the command of
cycle t steps accumulator t mod S. Checked three ways: the bench's step-by-step model (each
step from the output S vectors before), an independent per-stream golden chain built from the
commands alone (no DUT state used), and the continuation of one stream across fast-harness
calls. A model that ignores the interleaving must fail on the same outputs.
"""
import numpy as np
import pytest

from macforge import golden
from macforge.golden import FormatError
from macforge.hw import generate, make_unit, write
from macforge.sim import model
from macforge.sim.continuation import Continuation
from macforge.sim.fast import FastSim, check_fast
from macforge.sim.stimulus import make_stimulus

from _simutil import BUILD, simulate

pytestmark = pytest.mark.rtl


def per_stream_chain(manifest, stim) -> np.ndarray:
    """Accumulator after each command, stream t mod S stepped by golden.mac_step alone."""
    S = manifest["interleave"]
    fa, fo = golden.parse(manifest["formats"]["a"]), golden.parse(manifest["formats"]["acc"])
    kw = dict(rounding=manifest["rounding"], saturate=manifest["saturate"],
              fused=manifest["fused"])
    if manifest["rounding"] == "sr":
        kw["rnd_bits"] = manifest["rnd_bits"]
    n = stim["a"].size
    pad = -n % S                              # whole rounds of S commands, idle padding
    col = {k: np.concatenate([np.asarray(v), np.zeros(pad, np.asarray(v).dtype)]).reshape(-1, S)
           for k, v in stim.items()}
    state = np.zeros(S, fo.dtype)
    out = np.zeros((n + pad) // S * S, fo.dtype).reshape(-1, S)
    for r in range(out.shape[0]):
        extra = {"rnd": col["rnd"][r].astype(np.uint64)} if "rnd" in col else {}
        step = golden.mac_step(state, col["a"][r], col["b"][r], fa, fo,
                               first=col["first"][r].astype(bool),
                               clear=col["clear"][r].astype(bool), **kw, **extra)
        hold = ~col["en"][r].astype(bool) & ~col["clear"][r].astype(bool)
        state = np.where(hold, state, step).astype(fo.dtype)
        out[r] = state
    return out.reshape(-1)[:n]


def _build(tmp_path, **kw):
    unit = make_unit("mac", "e4m3", **{"acc": "fp32", **kw})
    paths = write(unit, tmp_path)
    return unit.manifest(), paths["verilog"]


@pytest.mark.parametrize("kw", [
    dict(loop_stages=3, stages=1),
    dict(loop_stages=2, rounding="sr", fused=False, stages=2),
    dict(loop_stages=1, acc="fp16", saturate=True, rounding="rdn"),
    dict(loop_stages=4, rounding="rtz"),
    dict(loop_stages=5, rounding="rdn", stages=1),
], ids=["l3_s1_rne", "l2_s2_sr_nf", "l1_fp16_sat_rdn", "l4_rtz", "l5_s1_rdn"])
def test_cslow_mac_matches_independent_streams(tmp_path, kw):
    manifest, verilog = _build(tmp_path, **kw)
    S = manifest["interleave"]
    assert S == kw["loop_stages"] + 1
    assert manifest["latency"] == kw.get("stages", 0) + kw["loop_stages"] + 1
    full = {k: v for k, v in make_stimulus(manifest, 10_000, 7).items() if k != "meta"}
    # a slice of the exhaustive pairs (every special value meets the accumulators) and the
    # random tail (long chains, cancellation, clears)
    stim = {k: np.concatenate([v[:12_000], v[-10_000:]]) for k, v in full.items()}
    res = check_fast(manifest, verilog, stim, build_root=str(BUILD))
    assert res["mismatches"].size == 0
    chain = per_stream_chain(manifest, stim)
    np.testing.assert_array_equal(res["observed"], chain)
    # the check discriminates: one stream (S = 1) does not describe these outputs
    one = {**manifest, "interleave": 1}
    assert model.compare(one, stim, res["observed"])[1].size > 1000


def test_cslow_stream_continues_across_calls(tmp_path):
    """Calls of odd lengths continue each accumulator (the harness pads its drain to a
    multiple of S), and the chunked checker carries the last S outputs over."""
    manifest, verilog = _build(tmp_path, loop_stages=2, stages=2)
    stim = {k: v for k, v in make_stimulus(manifest, 12_000, 3).items() if k != "meta"}
    with FastSim(manifest, verilog, build_root=str(BUILD)) as dut:
        whole = dut.run(stim)
        dut.reset()
        cont, parts, lo = Continuation(manifest), [], 0
        for hi in (1001, 5003, stim["a"].size):
            piece = {k: v[lo:hi] for k, v in stim.items()}
            got = dut.run(piece)
            assert cont.compare(piece, got)[1].size == 0
            parts.append(got)
            lo = hi
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    np.testing.assert_array_equal(whole, per_stream_chain(manifest, stim))


def test_cslow_mac_cocotb_bench():
    """The cocotb bench (per-cycle driver and monitor) on a C-slow unit."""
    res, lines = simulate(format="e4m3", unit="mac", acc="fp32", stages=1, loop_stages=2,
                          n=3000)
    assert res.ok and res.vectors > 3000, "\n".join(lines)


def test_cslow_parameters():
    unit = make_unit("mac", "e4m3", acc="fp32", stages=1, loop_stages=2)
    m = unit.manifest()
    assert m["module"] == "fmac_e4m3fn_fp32_rne_l2_s1" and m["latency"] == 4
    assert (m["loop_stages"], m["interleave"]) == (2, 3)
    text = generate(unit)[0]
    assert "3 interleaved accumulators" in text.split("module")[0]
    plain = generate(make_unit("mac", "e4m3", acc="fp32", stages=1))[1]
    assert plain["interleave"] == 1 and plain["state"] == "observed" and plain["module"] == "fmac_e4m3fn_fp32_rne_s1"
    for bad in (dict(unit="fma", fmt="e4m3"), dict(unit="mac", fmt="int8"),
                dict(unit="mac", fmt="posit8"), dict(unit="dot", fmt="mxfp8")):
        with pytest.raises(FormatError, match="loop_stages applies to unit 'mac'"):
            make_unit(loop_stages=1, **bad)
    with pytest.raises(FormatError, match="loop_stages must be 0..5"):
        make_unit("mac", "e4m3", loop_stages=6)


def test_every_loop_cut_is_used_and_l5_cuts_between_add_and_magnitude():
    """LOOP_CUTS names only LOOP_BOUNDARIES, in datapath order; L = 5 takes all of them, and its
    "added" cut is what differs from L = 4 (the registers between the add and the magnitude)."""
    from macforge.hw.fmac import LOOP_BOUNDARIES, LOOP_CUTS, MAX_LOOP_STAGES
    assert sorted(LOOP_CUTS) == list(range(1, MAX_LOOP_STAGES + 1))
    for L, cuts in LOOP_CUTS.items():
        assert len(cuts) == L and list(cuts) == [b for b in LOOP_BOUNDARIES if b in cuts]
    assert set(LOOP_CUTS[5]) - set(LOOP_CUTS[4]) == {"added"}
    v4 = generate(make_unit("mac", "e4m3", acc="fp32", loop_stages=4))[0]
    v5 = generate(make_unit("mac", "e4m3", acc="fp32", loop_stages=5))[0]
    assert "added" not in v4 and "added" in v5
