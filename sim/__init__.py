"""macforge co-simulation: cocotb benches on Verilator, checked against the golden model.

``sim.runner.run(SimSpec(...))`` builds, simulates and reports; ``sim.bench`` is the cocotb
test module; ``sim.stimulus`` and ``sim.model`` make the vectors and the expected outputs.
``sim.fast`` drives the Verilated model in bulk; ``sim.stream`` checks huge ``sim.sweeps`` in
resumable chunks, carrying state across them with ``sim.continuation``.
"""
__all__ = ["runner", "bench", "stimulus", "model", "tools", "fast", "continuation", "sweeps",
           "stream"]
