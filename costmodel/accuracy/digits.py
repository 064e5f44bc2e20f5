"""``digits``: a small MLP trained here, deterministically, on scikit-learn's digits dataset.

The dataset ships inside scikit-learn (1,797 8x8 images, 10 classes; nothing is downloaded).
Fixed stratified split: 360 test images (20 %), 180 calibration images, 1,257 training
images. The network is 64 -> 128 -> 64 -> 10 with ReLU (17,024 MACs per image), trained with
scikit-learn's ``MLPClassifier`` (Adam, 30 epochs, fixed seed, about 4 s). Its weights are cached under
``build/accuracy/`` keyed by a hash of this file and the library versions, so a change to the
training code retrains.

Metric: top-1 accuracy (%) on the test split; ``agreement`` is the share of test images whose
prediction equals the float model's.

Examples
--------
>>> from macforge.costmodel.accuracy.digits import Digits
>>> m = Digits()                                            # doctest: +SKIP
>>> m.score(m.forward(m.test_inputs(), m.float_matmul))     # doctest: +SKIP
{'top1': 97.49..., 'agreement': 100.0}
"""
from __future__ import annotations

import hashlib
import os
import warnings
from functools import cached_property

import numpy as np

from .run import Model

__all__ = ["Digits", "HIDDEN", "build_dir"]

#: Hidden layer widths of the MLP.
HIDDEN = (128, 64)
_SEED = 0


def build_dir() -> str:
    """``$MACFORGE_BUILD``, else the cost model's cache directory (``$MACFORGE_CACHE`` or
    ``~/.cache/macforge``): where trained weights are cached -- never inside the installed
    package."""
    from macforge.costmodel.cache import cache_dir
    return os.environ.get("MACFORGE_BUILD") or cache_dir()


def _split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    X = d.data.astype(np.float32) / np.float32(16.0)     # pixel values 0..16 -> [0, 1]
    y = d.target.astype(np.int64)
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, stratify=y,
                                                      random_state=_SEED)
    X_train, X_cal, y_train, y_cal = train_test_split(X_rest, y_rest, test_size=180,
                                                      stratify=y_rest, random_state=_SEED + 1)
    return {"train": (X_train, y_train), "cal": (X_cal, y_cal), "test": (X_test, y_test)}


def _train_key() -> str:
    import sklearn
    h = hashlib.sha256()
    with open(__file__, "rb") as f:
        h.update(f.read())
    h.update(f"{sklearn.__version__} {np.__version__}".encode())
    return h.hexdigest()[:16]


def _train(X, y) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=HIDDEN, activation="relu", solver="adam",
                        alpha=1e-4, batch_size=64, learning_rate_init=1e-3, max_iter=30,
                        random_state=_SEED, tol=1e-6, n_iter_no_change=30)
    # one BLAS thread: the same summation order on every run, and no thrashing on 2 cores
    from threadpoolctl import threadpool_limits
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    out = {}
    for i, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        out[f"w{i}"] = np.ascontiguousarray(W.T.astype(np.float32))     # (N, K)
        out[f"b{i}"] = b.astype(np.float32)
    return out


class Digits(Model):
    """The ``digits`` model: data split, cached trained weights, forward pass, metric."""
    name = "digits"
    metric = "top1"
    metric_label = "top-1 accuracy on the digits test split (%)"
    layer_names = ("fc1", "fc2", "fc3")

    def __init__(self, cache: bool = True, progress=None):
        self._cache = cache
        self._progress = progress or (lambda msg: None)

    @cached_property
    def data(self):
        return _split()

    @cached_property
    def params(self) -> dict:
        path = os.path.join(build_dir(), "accuracy", f"digits-{_train_key()}.npz")
        if self._cache and os.path.exists(path):
            with np.load(path) as z:
                return {k: z[k] for k in z.files}
        self._progress("digits: training the MLP (scikit-learn, fixed seed)")
        p = _train(*self.data["train"])
        if self._cache:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = path + ".tmp.npz"
            np.savez(tmp, **p)
            os.replace(tmp, path)
        return p

    # -- the network -------------------------------------------------------------------------
    def forward(self, X, mm):
        p = self.params
        h = np.asarray(X, np.float32)
        for i, name in enumerate(self.layer_names):
            h = np.asarray(mm(name, h, p[f"w{i}"]), np.float32) + p[f"b{i}"]
            if i < len(self.layer_names) - 1:
                h = np.maximum(h, 0)
        return h

    def layers(self) -> list:
        """(name, K, N, weight elems incl. bias) of each matmul, batch 1."""
        return [(n, int(self.params[f"w{i}"].shape[1]), int(self.params[f"w{i}"].shape[0]),
                 int(self.params[f"w{i}"].size + self.params[f"b{i}"].size))
                for i, n in enumerate(self.layer_names)]

    def graph(self):
        """The workload graph of one inference (batch 1), built by
        :func:`costmodel.workloads.from_layers`."""
        from macforge.costmodel.workloads import from_layers
        return from_layers(self.name, [
            {"name": n, "op": "matmul", "M": 1, "K": K, "N": N, "bias": True,
             **({"act": "relu"} if i < len(self.layer_names) - 1 else {})}
            for i, (n, K, N, _) in enumerate(self.layers())],
            source="macforge digits MLP (costmodel/accuracy/digits.py)")

    # -- data and scoring --------------------------------------------------------------------
    def calibration_inputs(self):
        return self.data["cal"][0]

    def test_inputs(self):
        return self.data["test"][0]

    def samples(self, logits):
        """Per test image: 100 if its prediction is right, else 0 (their mean is ``top1``;
        what the report's bootstrap interval resamples)."""
        return 100.0 * (np.argmax(logits, axis=1) == self.data["test"][1])

    def score(self, logits) -> dict:
        y = self.data["test"][1]
        pred = np.argmax(logits, axis=1)
        ref = np.argmax(self.reference, axis=1)
        return {"top1": round(100.0 * float(np.mean(pred == y)), 3),
                "agreement": round(100.0 * float(np.mean(pred == ref)), 3)}
