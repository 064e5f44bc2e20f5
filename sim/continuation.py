"""Checking one stream in pieces: what each piece's check needs from the pieces before it.

:func:`sim.model.compare` checks a run that starts from reset. A long run is checked in chunks
(bounded memory; :func:`sim.stream.stream` over a sweep, or :func:`compare_chunked` over a run
in memory), and each chunk must then be checked from the state the unit really held when the
chunk began. What that takes is the unit's state trait, the manifest's ``state``:

- ``"none"``: nothing (multipliers, FMAs);
- ``"observed"``: the output before the chunk -- each step is checked from the accumulator the
  DUT showed before it (the last ``interleave`` = S outputs of a C-slow MAC);
- ``"replayed"``: hidden state (the posit MAC's quire), recomputed by the model from the
  commands of each sum: the steps of the sum still open are replayed in front of the chunk.

:class:`Continuation` carries that from chunk to chunk; :func:`compare_from` checks one chunk
from a given observed state.

Examples
--------
>>> from macforge.sim import continuation
>>> expected, bad = continuation.compare_chunked(manifest, stim, observed)   # doctest: +SKIP
>>> cont = continuation.Continuation(manifest)                                 # doctest: +SKIP
>>> for piece, got in pieces:                                                  # doctest: +SKIP
...     expected, bad = cont.compare(piece, got)
"""
from __future__ import annotations

import numpy as np

from macforge.sim import model
from macforge.sim._fast_harness import FastSimError

__all__ = ["compare_from", "compare_chunked", "Continuation", "state_before", "CHECK_CHUNK"]


def _kind(manifest: dict) -> str:
    """The unit's state trait (manifest ``state``, :attr:`hw.Unit._state`): "none",
    "observed" (each step is checked from the output before it, so a chunk needs only the
    last output) or "replayed" (hidden state, the posit MAC's quire: the model recomputes it
    from the commands of each sum)."""
    return manifest["state"]


def _states(manifest: dict, state, row_shape: tuple = ()) -> np.ndarray:
    """``state`` as the outputs of the S = interleave vectors before a chunk, oldest first
    (an int is the last one, the others 0; a C-slow MAC, sim.model, needs all S). A result
    wider than 64 bits is a row of ``row_shape`` uint64 words (sim._lanes): ``state`` is then
    0 (the reset value) or the rows a previous chunk left."""
    S = model.interleave(manifest)
    st = np.asarray(state, dtype=np.uint64)
    if row_shape and st.ndim == 0:
        if int(st) != 0:
            raise FastSimError("a chunk of a unit with a multi-word result starts from 0 or "
                               "from the rows the previous chunk left, not an integer")
        st = np.zeros((1,) + row_shape, np.uint64)
    st = st.reshape((-1,) + row_shape)[-S:]
    return np.concatenate([np.zeros((S - st.shape[0],) + row_shape, np.uint64), st])


def compare_from(manifest: dict, stim: dict, observed: np.ndarray, state=0):
    """:func:`sim.model.compare` for a run that starts from accumulator code ``state``.

    The model assumes a run starts at the reset value 0; a chunk of a longer MAC stream starts
    where the previous chunk left the accumulator. One idle step (en = clear = 0) whose
    observed output is ``state`` is put in front, its own check is dropped, and every real
    step is then checked from the state the DUT really held. A C-slow MAC (manifest
    ``interleave`` S) needs the last S outputs: ``state`` is then their sequence, oldest
    first, and S idle steps go in front. Units without state ignore ``state``; units checked
    by replaying their commands (the posit MAC) cannot take it (use :func:`compare_chunked`
    or :func:`sim.stream.stream`, which carry the open sum over).
    """
    kind = _kind(manifest)
    states = _states(manifest, state, np.shape(observed)[1:])
    if kind == "none" or not states.any():
        return model.compare(manifest, stim, observed)
    if kind == "replayed":
        raise FastSimError(f"{manifest['unit']} units are checked by replaying each sum from "
                           "its start, not from an observed state")
    S = states.size
    pre = {}
    for k, v in stim.items():
        v = np.asarray(v)
        pre[k] = np.concatenate([np.zeros((S,) + v.shape[1:], v.dtype), v])
    obs = np.concatenate([states.astype(observed.dtype), observed])
    expected, bad = model.compare(manifest, pre, obs)
    return expected[S:], bad[bad >= S] - S


def _last_states(manifest: dict, state, observed: np.ndarray):
    """The state a chunk leaves for the next (:func:`compare_from`): the last output, or the
    last S outputs of a C-slow MAC (a tuple, oldest first); rows of a multi-word result."""
    S = model.interleave(manifest)
    observed = np.asarray(observed)
    if observed.ndim == 2:                   # multi-word results: the last S rows
        if not observed.shape[0]:
            return state
        return np.concatenate([_states(manifest, state, observed.shape[1:]),
                               observed.astype(np.uint64)])[-S:]
    if S == 1:
        return int(observed[-1]) if observed.size else state
    st = np.concatenate([_states(manifest, state), np.asarray(observed, np.uint64)])[-S:]
    return tuple(int(x) for x in st)


class Continuation:
    """Checks consecutive chunks of one stream: carries what the next chunk's check needs.

    "none": nothing; "observed" units: the last output, the last S of a C-slow MAC
    (:func:`compare_from`); "replayed" units: the steps of the sum still open at the end of
    the chunk (since the last enabled ``first`` or ``clear``, the segment starts of
    ``sim.model``), put in front of the next chunk so its first sum is replayed whole; their
    own checks are dropped.

    Parameters
    ----------
    manifest : dict
        The unit manifest (its ``state`` and ``interleave``).

    Attributes
    ----------
    state : int or tuple
        What the next chunk starts from, as :func:`compare_from` and :func:`state_before`
        take it: the last output (0 before the first chunk), the last S of a C-slow MAC.

    Examples
    --------
    >>> cont = Continuation(manifest)                                  # doctest: +SKIP
    >>> bad = [cont.compare(piece, dut.run(piece))[1] for piece in pieces]   # doctest: +SKIP
    """

    def __init__(self, manifest: dict):
        self.manifest = manifest
        self.kind = _kind(manifest)
        self.state = 0
        self.open = None                 # replay: (stim, observed) of the open sum

    def compare(self, stim: dict, observed: np.ndarray):
        """(expected, mismatch indices) of the next chunk, as :func:`sim.model.compare`."""
        if self.kind == "none":
            return model.compare(self.manifest, stim, observed)
        if self.kind == "observed":
            expected, bad = compare_from(self.manifest, stim, observed, self.state)
            self.state = _last_states(self.manifest, self.state, observed)
            return expected, bad
        k = 0
        if self.open is not None:
            ostim, oobs = self.open
            k = oobs.size
            stim = {n: np.concatenate([ostim[n], np.asarray(v)]) for n, v in stim.items()}
            observed = np.concatenate([oobs, observed])
        expected, bad = model.compare(self.manifest, stim, observed)
        self.state = int(observed[-1]) if observed.size else self.state
        start = ((np.asarray(stim["first"], bool) & np.asarray(stim["en"], bool))
                 | np.asarray(stim["clear"], bool))
        starts = np.flatnonzero(start)
        last = int(starts[-1]) if starts.size else 0      # no start: the sum opened before
        self.open = ({n: np.asarray(v)[last:] for n, v in stim.items()}, observed[last:])
        return expected[k:], bad[bad >= k] - k


#: Vectors per golden call in :func:`compare_chunked` (so in :func:`sim.fast.check_fast`):
#: bounds the golden model's float64 temporaries (a few hundred MB at 2^22) whatever the run
#: length.
CHECK_CHUNK = 1 << 22


def compare_chunked(manifest: dict, stim: dict, observed: np.ndarray, chunk: int = CHECK_CHUNK,
                    progress=None):
    """:func:`sim.model.compare` over the whole run in pieces of ``chunk`` vectors: the same
    (expected, mismatch indices), in bounded memory (a MAC piece starts from the observed
    state; a posit MAC piece replays the sum left open by the piece before). ``progress``:
    None or a callable told ``(vectors checked, total)`` after every piece."""
    n = len(observed)                      # wide results: (n, words64) rows
    if n <= chunk:
        return model.compare(manifest, stim, observed)
    cont = Continuation(manifest)
    expected = None
    bad = []
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        e, b = cont.compare({k: np.asarray(v)[lo:hi] for k, v in stim.items()}, observed[lo:hi])
        if expected is None:
            expected = np.empty(n, e.dtype)
        expected[lo:hi] = e
        bad.append(b + lo)
        if progress:
            progress(hi, n)
    return expected, np.concatenate(bad)


def state_before(manifest: dict, observed: np.ndarray, state, i: int) -> int | None:
    """The accumulator code the DUT showed before step ``i`` of a chunk that started from
    ``state`` (as :func:`compare_from` takes it), for a mismatch report; None for a unit
    without state."""
    if _kind(manifest) == "none":
        return None
    S = model.interleave(manifest)
    rows = np.ndim(observed) == 2            # a multi-word result: its row
    v = observed[i - S] if i >= S else _states(manifest, state, np.shape(observed)[1:])[i]
    return v if rows else int(v)
