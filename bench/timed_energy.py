"""Energy simulation speed: timed (glitch-counting) vs zero-delay, same run.

On the mapped netlists of the int8 MAC (int32 accumulator) and the e4m3 MAC (fp32
accumulator), both with one accumulate per cycle, over the same operand streams
(``costmodel.energy.stimulus``):

- zero-delay: ``GateNetlist.run_seq`` (bit-parallel, one settle per cycle);
- timed: ``costmodel.timed.timed_toggles`` with the library's arc delays (inertial), which
  replays the zero-delay run's cycles and then propagates every event.

Rates are operations (stream-cycles) per second of wall time on one core; synthesis is
cached and left out. The energies of both models are printed next to the rates.
"""
import time

from macforge import hw
from macforge.costmodel import Design, asic_cost
from macforge.costmodel import timed
from macforge.costmodel.energy import stimulus
from macforge.costmodel.netlist import GateNetlist

UNITS = (("int8 MAC, int32 acc", dict(kind="mac", fmt="int8", acc="int32")),
         ("e4m3 MAC, fp32 acc", dict(kind="mac", fmt="e4m3", acc="fp32")))
SAMPLES = 4096


def _unit(kind, fmt, acc):
    return Design.from_unit(hw.make_unit(kind, fmt, acc=acc))


def main():
    print(f"timed vs zero-delay energy simulation, {SAMPLES} operations per unit")
    print(f"{'unit':<22} {'cells':>6} {'zero-delay op/s':>16} {'timed op/s':>11} "
          f"{'slowdown':>9} {'glitch x':>9} {'E zero pJ':>10} {'E timed pJ':>11}")
    for label, spec in UNITS:
        d = _unit(**spec)
        r = asic_cost(d, energy=False)
        net = GateNetlist(r["netlist"], top=d.top)
        inputs, _ = stimulus(net, SAMPLES, d.manifest, seed=1)
        cycles, streams = next(v.shape[:2] for v in inputs.values() if v.ndim >= 2)
        t0 = time.perf_counter()
        _, _, ops = net.run_seq(inputs, cycles, streams)
        t_zero = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = timed.timed_toggles(net, inputs, cycles=cycles, streams=streams)
        t_timed = time.perf_counter() - t0
        period = net.timing()["delay_ps"]
        ez = timed.energy_breakdown(net, res["zero"], res["ops"], period)["total"]
        et = timed.energy_breakdown(net, res["timed"], res["ops"], period)["total"]
        glitch = res["timed"].sum() / max(1, res["zero"].sum())
        print(f"{label:<22} {len(net.cells):>6} {ops / t_zero:>16,.0f} {ops / t_timed:>11,.0f} "
              f"{t_timed / t_zero:>8.1f}x {glitch:>9.2f} {ez:>10.3f} {et:>11.3f}")


if __name__ == "__main__":
    main()
