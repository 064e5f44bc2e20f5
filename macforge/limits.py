"""The bounds of every numeric parameter, in one table, checked before any work starts.

Each :class:`Limit` names a parameter, its smallest and largest accepted value and why the
bound is where it is. :func:`check` is the one test every layer uses (``hw`` for stages, rnd
bits, lanes and alignment; the command line for vector counts, seeds, baud rates, byte
indices; sweep files for their sizes), and its error is one line naming the parameter, the
value and the accepted range. ``docs/security.md`` carries the same table
(``tests/test_hardening.py`` checks that the two agree).

A leaf module: it imports nothing of macforge but :mod:`macforge.errors`.

Examples
--------
>>> from macforge.limits import check
>>> check("stages", 3)
3
>>> check("stages", 10**23)  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
macforge.limits.BoundsError: stages must be an integer 0..32 (...), not 100000000000000000000000
"""
from __future__ import annotations

from dataclasses import dataclass

from macforge.errors import MacforgeError

__all__ = ["Limit", "LIMITS", "BoundsError", "check", "shown", "bounds_table"]


class BoundsError(ValueError, TypeError, MacforgeError):
    """A number outside its documented bounds (or not an integer). A ValueError and, for the
    checks that raised TypeError before this table existed, a TypeError too."""


@dataclass(frozen=True)
class Limit:
    """``name`` accepts integers ``lo..hi``; ``what`` says what it counts, ``why`` the bound."""
    name: str
    lo: int
    hi: int
    what: str
    why: str
    real: bool = False          # a number (finite float or int), not only an integer

    def describe(self) -> str:
        """``an integer 0..32 (pipeline registers of a unit)``"""
        kind = "a number" if self.real else "an integer"
        return f"{kind} {self.lo}..{self.hi} ({self.what})"


_L = [
    Limit("stages", 0, 32, "pipeline registers of a unit",
          "stages beyond a unit's phase boundaries only add output registers"),
    Limit("loop_stages", 0, 5, "registers inside a float MAC's accumulate loop",
          "the loop has 5 cut points (hw.fmac.LOOP_BOUNDARIES)"),
    Limit("rnd_bits", 1, 32, "random bits per element of stochastic rounding",
          "the rnd port is one integer of that width (golden.resolve_rnd)"),
    Limit("lanes", 1, 256, "products per step of a dot unit",
          "the adder tree and Verilog grow with k; 256 is 8x the largest block size"),
    Limit("align", 0, 56, "fraction bits a tensor-core dot keeps below the largest exponent",
          "golden.dot sums the truncated terms in 62-bit significands"),
    Limit("latency", 0, 1024, "cycles from inputs to outputs of the user's RTL (sim --latency)",
          "the bench keeps one expected output per cycle in flight"),
    Limit("vectors", 1, 10**10, "random vectors or MAC steps of `sim -n`",
          "10^10 is hours of fast-mode simulation"),
    Limit("seed", 0, 2**32 - 1, "random seeds (sim, hwtest, error-stats)",
          "seeds are recorded in reports and manifests as 32-bit integers"),
    Limit("ops", 2, 10**7, "operations simulated for energy (cost/calibrate/reproduce -n)",
          "the activity simulation holds every operation's toggles in memory"),
    Limit("samples", 1, 10**7, "operand pairs of error-stats",
          "the sample arrays are held in memory (about 100 bytes a pair)"),
    Limit("sum_steps", 1, 10**6, "addends per sum of error-stats --unit running-sum",
          "one golden add over all the sums per addend; 10^6 is minutes"),
    Limit("gemm_k", 1, 65536, "GEMM depth K of error-stats --preset",
          "the M x K and K x N operands are held in memory"),
    Limit("gemm_size", 1, 256, "M = N of error-stats --preset", "the M x N x K products"),
    Limit("hw_vectors", 1, 10**7, "vectors streamed through the UART harness (hwtest -n)",
          "10^7 frames are hours at 115200 baud"),
    Limit("baud", 1200, 3_000_000, "UART baud rate of the board harness",
          "an FTDI link tops out at 3 Mbaud; the board clock needs >= 4 cycles a bit"),
    Limit("corrupt_byte", 0, 2**31 - 1, "a byte index hwtest --sim corrupts (counted from 0)",
          "byte counts of one run fit a 32-bit signed counter"),
    Limit("corrupt_count", 0, 64, "how many bytes one hwtest --sim run corrupts",
          "each corruption costs a recovery round trip"),
    Limit("pnr_seed", 0, 2**31 - 1, "nextpnr placer seed", "nextpnr takes a signed int"),
    Limit("pnr_freq", 1, 1000, "clock target in MHz of the timing-driven placer",
          "no iCE40/ECP5 design closes above 1 GHz", real=True),
    Limit("jobs", 1, 256, "local worker processes (sweep -j)", "one per core at the most"),
    Limit("sweep_points", 1, 10**6, "points of one sweep file (after exclusions)",
          "a 10^6-point dry run plans in under a minute and 500 MB"),
    Limit("sweep_product", 1, 10**7, "combinations of a sweep file's axes (before exclusions)",
          "every combination is built and matched against the exclusions"),
    Limit("sweep_file_bytes", 1, 16 * 2**20, "size of a sweep file in bytes",
          "a sweep file is a few lines of YAML; 16 MiB leaves room for long exclusion lists"),
    Limit("name_digits", 1, 6, "digits of a number inside a format name (e<E>m<M>, int<N>)",
          "checked before int() sees it; the families then check their own ranges"),
]

#: name -> :class:`Limit`, in the order of the docs table.
LIMITS = {lim.name: lim for lim in _L}


def check(name: str, value, label: str | None = None):
    """``value`` if it is an integer within ``LIMITS[name]``, else BoundsError (one line).

    ``label`` is how the message names the parameter (default ``name``; the CLI passes its
    option, ``--stages``)."""
    lim = LIMITS[name]
    label = label or name
    kinds = (int, float) if lim.real else (int,)
    if isinstance(value, bool) or not isinstance(value, kinds) \
            or not lim.lo <= value <= lim.hi:              # NaN fails the comparison too
        raise BoundsError(f"{label} must be {lim.describe()}, not {shown(value)}")
    return value


def shown(value) -> str:
    """``value`` for an error message: at most about 40 characters of it."""
    text = str(value) if isinstance(value, (int, float)) else repr(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def bounds_table() -> str:
    """The bounds as a Markdown table (docs/security.md holds this text)."""
    rows = ["| parameter | accepted | what | why |", "|---|---|---|---|"]
    for lim in _L:
        rows.append(f"| `{lim.name}` | {lim.lo:,} .. {lim.hi:,} | {lim.what} | {lim.why} |")
    return "\n".join(rows)
