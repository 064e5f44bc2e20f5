"""macforge co-simulation: cocotb benches on Verilator, checked against the golden model.

``sim.runner.run(SimSpec(...))`` builds, simulates and reports; ``sim.bench`` is the cocotb
test module; ``sim.stimulus`` and ``sim.model`` make the vectors and the expected outputs.
"""
__all__ = ["runner", "bench", "stimulus", "model", "tools", "fast"]
