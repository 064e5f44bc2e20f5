"""Cost model (synthesis area, timing, energy; workloads; Pareto reports).

Not built yet: issues #5 (synthesis and energy) and #6 (workloads and Pareto) deliver it. The
unit manifests written by ``hw.write`` (module name, formats, latency, ports) are its input.
"""
__all__: list[str] = []
