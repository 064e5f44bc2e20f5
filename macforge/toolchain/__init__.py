"""Tools macforge drives (Verilator, Yosys, nextpnr): finding them, running them, reading their reports."""
