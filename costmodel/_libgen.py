"""Generate ``cells/macforge45.lib``: the project's small standard-cell Liberty library.

Run ``python -m costmodel._libgen`` to rewrite the file; a test checks the shipped file equals
what this module produces, so every number in the library has its derivation here.

Sources
-------
[N45] Nangate 45 nm Open Cell Library, ``NangateOpenCellLibrary_typical.lib`` (Nangate Inc.,
      revision 1.0, 10 Feb 2011; typical corner, 1.10 V, 25 C), as redistributed e.g. in
      github.com/Max-astro/dp-buffer-insertion (file read there for this module).
      - X1 cell areas (µm²): INV_X1 0.532, BUF_X1 0.798, NAND2_X1 0.798, NOR2_X1 0.798, AND2_X1 1.064,
        OR2_X1 1.064, AOI21_X1 1.064, OAI21_X1 1.064, XOR2_X1 1.596, XNOR2_X1 1.596,
        MUX2_X1 1.862, DFF_X1 4.522 -- the weights docs/anchors.md uses for its NAND2-eq
        column. Read directly in [N45] here: AND2_X1 1.064, XNOR2_X2 2.660 (= 5/3 of X1).
      - Pin capacitances read directly (fF): NAND2_X1 A1 1.599032, A2 1.664199;
        AND2_X1 A1 0.918145, A2 0.974630; XNOR2_X2 A 4.003783, B 4.836936 (X1 taken as
        half: same topology at half the widths).
      - AND2_X1 A1->ZN NLDM tables at input slew 17.2 ps: cell_rise 29.2/34.1/39.4/49.0 ps and
        cell_fall 29.6/33.1/36.6/42.5 ps at 0.37/1.89/3.79/7.57 fF load, i.e. 28.6 ps at
        zero load (mean of rise/fall intercepts) and 2.27 ps/fF (mean of the rise and fall
        slopes over 0.37-7.57 fF).
      - XNOR2_X2 A->ZN (B=1) at 17.2 ps slew, 3.25 fF: fall 39.7 ps, rise 38.8 ps -- a check
        of the model below, which predicts 32.3 ps (17 % fast for XOR-type cells).
      - Wire-load model "5K_hvratio_1_1" (the library's default_wire_load): capacitance
        0.1774 fF per unit length, fanout_length 1.746 / 3.939 / 6.463 / 9.220 / 11.91 /
        14.84 / 18.62 / 22.67 / 25.48 / 27.03 for fanout 1..8, 9, 11 (used by ``energy``).
[LE]  I. Sutherland, R. Sproull, D. Harris, "Logical Effort: Designing Fast CMOS Circuits",
      Morgan Kaufmann 1999, Table 4.1 (gamma = 2): logical effort g and parasitic delay p of
      INV (1, 1), NAND2 (4/3, 2), NOR2 (5/3, 2), XOR2/XNOR2 (4, 4), AOI21/OAI21 (2 on the
      paired inputs, 5/3 or 4/3 on the single one; p 7/3), inverting 2:1 mux (2, 4).

Drive strengths and NLDM tables (issue 17) come from [N45] too, transcribed in
:mod:`costmodel._nangate45`: INV, NAND2, AND2 and NOR2 at X1/X2/X4, XOR2, XNOR2 and MUX2 at
X1/X2 get the library's area, pin capacitances, leakage and 4 x 7 ``cell_rise`` / ``cell_fall``
/ ``rise_transition`` / ``fall_transition`` tables (see that module for the rows kept). The cells
whose tables were not transcribed -- BUF_X1, OR2_X1, AOI21_X1, OAI21_X1 and DFF_X1 -- keep the
previous linear model of logical effort, d = tau * p_total + r * C_load, with one tau and one
drive slope r (X1 cells are sized for equal drive): tau = 28.6 / 4 = 7.15 ps from AND2_X1 (NAND2
+ INV: p 2 + 1, plus the NAND2 stage effort g*h = 1 into the X1 inverter) and r = 2.27 ps/fF from
AND2_X1's slope, sampled at two loads. Their comments in the Liberty file say "[LE]". The
flip-flop's clock-to-Q (4 stages ~ 12 tau = 86 ps) and setup (4 tau = 29 ps) are *estimates*,
not values read from [N45].
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import _nangate45

__all__ = ["CELLS", "CellSpec", "TAU_PS", "DRIVE_PS_PER_FF", "C_UNIT_FF", "SETUP_PS", "N45",
           "render", "main", "LIB_PATH"]

LIB_PATH = os.path.join(os.path.dirname(__file__), "cells", "macforge45.lib")

#: tau of the logical-effort model: AND2_X1 zero-load delay 28.6 ps [N45] over its 4 tau
#: (NAND2 p = 2, its effort into the X1 INV g*h = 4/3 * 3/4 = 1, INV p = 1).
TAU_PS = 28.6 / 4
#: output drive of every X1 cell: AND2_X1 mean rise/fall slope, 2.27 ps per fF [N45].
DRIVE_PS_PER_FF = 2.27
#: input capacitance per unit of logical effort: NAND2_X1's mean pin cap (1.599 + 1.664) / 2
#: = 1.632 fF [N45] over g = 4/3 [LE].
C_UNIT_FF = (1.599032 + 1.664199) / 2 / (4 / 3)
#: XNOR2_X1 pins: half of XNOR2_X2's 4.004 / 4.837 fF [N45] (XNOR2_X1's own were not read).
_XNOR_CAP = {"A": 4.003783 / 2, "B": 4.836936 / 2}

_TABLES = ("cell_rise", "cell_fall", "rise_transition", "fall_transition")


def _read_n45(text: str) -> dict:
    """The cells of :data:`costmodel._nangate45.TEXT`: name -> area, leakage, pins, arc, loads,
    max_capacitance and the four tables (4 slew rows x 7 loads, ns)."""
    cells, cur = {}, None
    for line in text.splitlines():
        if not line.strip():
            continue
        head, _, rest = line.partition(" ")
        if head == "CELL":
            w = rest.split()
            name, kv = w[0], dict(zip(w[1::2], w[2::2]))
            pins = {} if kv["pins"] == "?" else {
                k: float(v) for k, v in (x.split("=") for x in kv["pins"].split(","))}
            cur = cells[name] = {
                "area": float(kv["area"]),
                "leak": None if kv["leak"] == "?" else float(kv["leak"]),
                "pins": pins, "arc": kv["arc"], "maxcap": float(kv["maxcap"]),
                "tables": {t: [] for t in _TABLES}}
        elif head == "LOADS":
            cur["loads"] = tuple(float(x) for x in rest.split(","))
        else:
            cur["tables"][head].append(tuple(float(x) for x in rest.split(",")))
    for name, c in cells.items():
        for t, rows in c["tables"].items():
            if len(rows) != len(_nangate45.SLEWS_NS) or any(len(r) != len(c["loads"]) for r in rows):
                raise ValueError(f"_nangate45: {name} {t} is not {len(_nangate45.SLEWS_NS)} x "
                                 f"{len(c['loads'])}")
    return cells


#: The transcribed Nangate figures, by cell name.
N45 = _read_n45(_nangate45.TEXT)


@dataclass(frozen=True)
class CellSpec:
    """One library cell: Nangate name, area, pins, function, delay parameters.

    ``nldm`` names the :data:`N45` entry whose tables the cell carries; without it the cell
    uses the linear logical-effort model with parasitic delay ``p`` (in tau)."""
    name: str
    area_um2: float
    inputs: dict            # pin -> capacitance (fF)
    output: str
    function: str           # Liberty boolean syntax: ! & | ^ and parentheses
    p: float = 0.0          # LE model: total parasitic delay in tau (sum over the cell's stages)
    sequential: bool = False
    extra_outputs: dict = field(default_factory=dict)   # pin -> function (DFF QN)
    source: str = ""
    nldm: bool = False
    leakage_nw: float | None = None
    max_cap_ff: float = 60.0

    @property
    def intrinsic_ps(self) -> float:
        return TAU_PS * self.p


def _le(g):
    return round(g * C_UNIT_FF, 6)


def _n45(name, output, function, inputs=None, note=""):
    """A cell with [N45]'s area, pin capacitances, leakage and NLDM tables."""
    c = N45[name]
    pins = inputs if inputs is not None else c["pins"]
    return CellSpec(name, c["area"], dict(pins), output, function, nldm=True,
                    leakage_nw=c["leak"], max_cap_ff=c["maxcap"],
                    source=f"[N45] area, caps, leakage, NLDM tables of arc {c['arc']}" + note)


CELLS = (
    _n45("INV_X1", "ZN", "!A"),
    _n45("INV_X2", "ZN", "!A"),
    _n45("INV_X4", "ZN", "!A"),
    # ABC's mapper (&nf) needs a buffer in the library
    CellSpec("BUF_X1", 0.798, {"A": _le(1)}, "Z", "A", p=3,
             source="[LE] area [N45]; two X1 inverters"),
    _n45("NAND2_X1", "ZN", "!(A1 & A2)"),
    _n45("NAND2_X2", "ZN", "!(A1 & A2)"),
    _n45("NAND2_X4", "ZN", "!(A1 & A2)"),
    _n45("NOR2_X1", "ZN", "!(A1 | A2)"),
    _n45("NOR2_X2", "ZN", "!(A1 | A2)"),
    _n45("NOR2_X4", "ZN", "!(A1 | A2)"),
    _n45("AND2_X1", "ZN", "(A1 & A2)"),
    _n45("AND2_X2", "ZN", "(A1 & A2)"),
    _n45("AND2_X4", "ZN", "(A1 & A2)"),
    CellSpec("OR2_X1", 1.064, {"A1": _le(5 / 3) * 0.6, "A2": _le(5 / 3) * 0.6}, "ZN",
             "(A1 | A2)", p=4.25,
             source="[LE] area [N45]; NOR2 + INV, input stage at AND2_X1's 0.6 x NAND2 size"),
    CellSpec("AOI21_X1", 1.064, {"A": _le(5 / 3), "B1": _le(2), "B2": _le(2)}, "ZN",
             "!(A | (B1 & B2))", p=7 / 3, source="[LE] area [N45]; g, p"),
    CellSpec("OAI21_X1", 1.064, {"A": _le(4 / 3), "B1": _le(2), "B2": _le(2)}, "ZN",
             "!(A & (B1 | B2))", p=7 / 3, source="[LE] area [N45]; g, p"),
    _n45("XOR2_X1", "Z", "(A ^ B)"),
    _n45("XOR2_X2", "Z", "(A ^ B)"),
    _n45("XNOR2_X1", "ZN", "!(A ^ B)", inputs=_XNOR_CAP,
         note="; caps half of XNOR2_X2's, leakage not read"),
    _n45("XNOR2_X2", "ZN", "!(A ^ B)"),
    _n45("MUX2_X1", "Z", "((S & B) | (A & !S))"),
    _n45("MUX2_X2", "Z", "((S & B) | (A & !S))"),
    CellSpec("DFF_X1", 4.522, {"D": _le(1), "CK": _le(1)}, "Q", "IQ", p=12, sequential=True,
             extra_outputs={"QN": "IQN"},
             source="[LE] area [N45]; caps g=1; clk->Q 12 tau, setup 4 tau: estimates"),
)

#: setup time of DFF_X1 (estimate, see module docstring)
SETUP_PS = 4 * TAU_PS

_LOADS = (0.0, 20.0)     # fF: the two load points of the LE cells' tables (the model is a line)
_SLEWS = (0.0, 0.2)      # ns: slew-independent


def _fmt(v):
    return f"{v:.9g}"


def _table(kind, rows, template, index=None):
    body = ", \\\n                  ".join('"' + ", ".join(_fmt(v) for v in r) + '"'
                                          for r in rows)
    idx = ""
    if index is not None:
        idx = "".join(f'          {k} ("{", ".join(_fmt(v) for v in vals)}");\n'
                      for k, vals in zip(("index_1", "index_2"), index))
    return f"        {kind}({template}) {{\n{idx}          values ({body});\n        }}\n"


def _timing(cell: CellSpec, related: str, sense: str) -> str:
    out = [f'      timing() {{\n        related_pin : "{related}";\n']
    if cell.sequential:
        out.append("        timing_type : rising_edge;\n")
    else:
        out.append(f"        timing_sense : {sense};\n")
    if cell.nldm:
        c = N45[cell.name]
        index = (_nangate45.SLEWS_NS, c["loads"])
        out += [_table(k, c["tables"][k], "nldm_4x7", index) for k in _TABLES]
    else:
        d = [(cell.intrinsic_ps + DRIVE_PS_PER_FF * x) / 1000 for x in _LOADS]
        t = [(2 * TAU_PS + 2 * DRIVE_PS_PER_FF * x) / 1000 for x in _LOADS]
        out += [_table(k, (v, v), "delay_2x2") for k, v in
                zip(_TABLES, (d, d, t, t))]
    out.append("      }\n")
    return "".join(out)


def _sense(fn: str) -> str:
    if "^" in fn or "!S" in fn:      # XOR/XNOR and the mux's select are binate
        return "non_unate"
    return "negative_unate" if fn.startswith("!") else "positive_unate"


def _comment(c: CellSpec) -> str:
    if c.nldm:
        return f"  /* {c.name}: {c.source} */"
    return (f"  /* {c.name}: {c.source}; intrinsic {c.intrinsic_ps:.1f} ps, "
            f"{DRIVE_PS_PER_FF} ps/fF */")


def render() -> str:
    """The Liberty text (deterministic)."""
    lines = [
        "/* macforge45: a small standard-cell library for macforge's ASIC area/delay/energy",
        " * estimates. Areas, pin capacitances, leakage and NLDM tables are the Nangate 45 nm",
        " * Open Cell Library's where transcribed (costmodel/_nangate45.py); cells marked [LE]",
        " * use the linear logical-effort model of costmodel/_libgen.py, which generated this",
        " * file (do not edit by hand; run python -m costmodel._libgen). */",
        "library (macforge45) {",
        "  delay_model : table_lookup;",
        '  time_unit : "1ns";',
        '  voltage_unit : "1V";',
        '  current_unit : "1mA";',
        '  leakage_power_unit : "1nW";',
        "  capacitive_load_unit (1, ff);",
        "  nom_process : 1.0;",
        "  nom_voltage : 1.1;",
        "  nom_temperature : 25.0;",
        "  default_max_transition : 0.2;",
        "  default_input_pin_cap : 1.0;",
        "  default_output_pin_cap : 0.0;",
        "  default_fanout_load : 1.0;",
        "  input_threshold_pct_rise : 50; input_threshold_pct_fall : 50;",
        "  output_threshold_pct_rise : 50; output_threshold_pct_fall : 50;",
        "  slew_lower_threshold_pct_rise : 30; slew_upper_threshold_pct_rise : 70;",
        "  slew_lower_threshold_pct_fall : 30; slew_upper_threshold_pct_fall : 70;",
        "  lu_table_template (delay_2x2) {",
        "    variable_1 : input_net_transition;",
        "    variable_2 : total_output_net_capacitance;",
        f'    index_1 ("{_SLEWS[0]:.4f}, {_SLEWS[1]:.4f}");',
        f'    index_2 ("{_LOADS[0]:.4f}, {_LOADS[1]:.4f}");',
        "  }",
        "  lu_table_template (nldm_4x7) {",
        "    variable_1 : input_net_transition;",
        "    variable_2 : total_output_net_capacitance;",
        f'    index_1 ("{", ".join(_fmt(v) for v in _nangate45.SLEWS_NS)}");',
        f'    index_2 ("{", ".join(_fmt(v) for v in N45["INV_X1"]["loads"])}");',
        "  }",
    ]
    body = []
    for c in CELLS:
        body.append(_comment(c))
        body.append(f"  cell ({c.name}) {{")
        body.append(f"    area : {c.area_um2:.3f};")
        if c.leakage_nw is not None:
            body.append(f"    cell_leakage_power : {c.leakage_nw:.6f};")
        if c.sequential:
            body.append('    ff (IQ, IQN) { next_state : "D"; clocked_on : "CK"; }')
        for pin, cap in c.inputs.items():
            clock = "      clock : true;\n" if pin == "CK" else ""
            body.append(f"    pin ({pin}) {{\n      direction : input;\n{clock}"
                        f"      capacitance : {cap:.6f};\n    }}")
        outs = {c.output: c.function, **c.extra_outputs}
        for pin, fn in outs.items():
            body.append(f"    pin ({pin}) {{\n      direction : output;\n"
                        f'      function : "{fn}";\n      max_capacitance : {c.max_cap_ff:.6f};')
            related = ["CK"] if c.sequential else list(c.inputs)
            for r in related:
                body.append(_timing(c, r, _sense(fn)).rstrip("\n"))
            body.append("    }")
        body.append("  }")
    return "\n".join(lines + body + ["}"]) + "\n"


def main() -> str:
    """Rewrite the shipped library file; return its path."""
    with open(LIB_PATH, "w") as f:
        f.write(render())
    return LIB_PATH


if __name__ == "__main__":
    print(main())
