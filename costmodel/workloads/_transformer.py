"""Transformers from their published configurations: BERT-base, all-MiniLM-L6-v2, Llama-2-7B.

Every linear layer is a ``matmul`` node (M = tokens, K = in features, N = out features); the
attention products are one ``attn_score`` (Q Kᵀ, B = batch x heads, K = head dim) and one
``attn_value`` (P V, K = keys) node per layer. The score matrix is counted whole (tokens x
keys), as a dense kernel computes it; a causal mask does not remove those MACs.
"""
from __future__ import annotations

from ._graph import Builder, WorkloadError

__all__ = ["bert_base", "minilm", "llama2_7b", "BERT_BASE", "MINILM_L6", "LLAMA2_7B"]

# Published configurations (Hugging Face config.json of each checkpoint).
BERT_BASE = dict(layers=12, d=768, heads=12, ffn=3072, vocab=30522, max_pos=512, types=2)
MINILM_L6 = dict(layers=6, d=384, heads=12, ffn=1536, vocab=30522, max_pos=512, types=2)
LLAMA2_7B = dict(layers=32, d=4096, heads=32, ffn=11008, vocab=32000)

# TinyBERT (Jiao et al., Findings of EMNLP 2020), Table 1: BERT-base teacher 109M parameters,
# 22.5B FLOPs on GLUE inputs of 128 tokens; FLOPs = 2 x MACs.
BERT_BASE_PUBLISHED_MACS = 22_500_000_000 // 2


def _positive(label, v, lo=1):
    if not isinstance(v, int) or isinstance(v, bool) or v < lo:
        raise WorkloadError(f"{label} must be an integer >= {lo}, not {v!r}")
    return v


def _bert(name, source, cfg, seq, batch, pooler, published_macs=None, published_note=""):
    _positive("seq", seq)
    _positive("batch", batch)
    if seq > cfg["max_pos"]:
        raise WorkloadError(f"seq must be at most {cfg['max_pos']} (the position table), not {seq}")
    d, h, f = cfg["d"], cfg["heads"], cfg["ffn"]
    dh = d // h
    T = batch * seq                      # tokens through every linear layer
    b = Builder(name, source, published_macs=published_macs, published_note=published_note,
                params={"seq": seq, "batch": batch})
    ids = b.input("input_ids", T)
    types = b.input("token_type_ids", T)
    pos = b.input("position_ids", T)
    e = [b.embedding("embeddings.word", ids, tokens=T, vocab=cfg["vocab"], dim=d),
         b.embedding("embeddings.position", pos, tokens=T, vocab=cfg["max_pos"], dim=d),
         b.embedding("embeddings.token_type", types, tokens=T, vocab=cfg["types"], dim=d)]
    x = b.elementwise("embeddings.add", e, elems=T * d, fn="add")
    x = b.norm("embeddings.LayerNorm", x, rows=T, cols=d, fn="layernorm", weight_elems=2 * d)
    for i in range(cfg["layers"]):
        p = f"encoder.layer.{i}"
        q = b.matmul(f"{p}.attention.query", x, M=T, K=d, N=d, bias=True)
        k = b.matmul(f"{p}.attention.key", x, M=T, K=d, N=d, bias=True)
        v = b.matmul(f"{p}.attention.value", x, M=T, K=d, N=d, bias=True)
        s = b.attn_score(f"{p}.attention.scores", q, k, B=batch * h, M=seq, K=dh, N=seq)
        s = b.softmax(f"{p}.attention.softmax", s, rows=batch * h * seq, cols=seq)
        a = b.attn_value(f"{p}.attention.context", s, v, B=batch * h, M=seq, K=seq, N=dh)
        a = b.matmul(f"{p}.attention.output", a, M=T, K=d, N=d, bias=True)
        a = b.elementwise(f"{p}.attention.add", [a, x], elems=T * d, fn="add")
        x = b.norm(f"{p}.attention.LayerNorm", a, rows=T, cols=d, fn="layernorm",
                   weight_elems=2 * d)
        y = b.matmul(f"{p}.intermediate", x, M=T, K=d, N=f, bias=True)
        y = b.elementwise(f"{p}.intermediate.gelu", [y], elems=T * f, fn="gelu")
        y = b.matmul(f"{p}.output", y, M=T, K=f, N=d, bias=True)
        y = b.elementwise(f"{p}.output.add", [y, x], elems=T * d, fn="add")
        x = b.norm(f"{p}.output.LayerNorm", y, rows=T, cols=d, fn="layernorm", weight_elems=2 * d)
    if pooler == "cls":                  # BertPooler: dense + tanh on the first token
        y = b.matmul("pooler.dense", x, M=batch, K=d, N=d, bias=True)
        y = b.elementwise("pooler.tanh", [y], elems=batch * d, fn="tanh")
    else:                                # sentence-transformers: mean over tokens, L2 normalise
        y = b.reduce("pooling.mean", x, rows=batch * d, cols=seq, fn="mean")
        y = b.norm("pooling.normalize", y, rows=batch, cols=d, fn="l2", weight_elems=0)
    b.output(y)
    return b.finish()


def bert_base(seq: int = 128, batch: int = 1):
    """BERT-base (uncased) encoder and pooler: 12 layers, d 768, 12 heads, FFN 3072."""
    pub = BERT_BASE_PUBLISHED_MACS if (seq == 128 and batch == 1) else None
    return _bert("bert-base", "Devlin et al., BERT, NAACL 2019 (BERT-base: L=12, H=768, A=12); "
                 "config of the Hugging Face checkpoint bert-base-uncased", BERT_BASE, seq, batch,
                 "cls", pub, "TinyBERT (Jiao et al., Findings of EMNLP 2020) Table 1: BERT-base "
                 "22.5B FLOPs (= 11.25 G MACs) at 128 tokens, 109M parameters" if pub else
                 "published figure (TinyBERT Table 1) is for 128 tokens, batch 1")


def minilm(seq: int = 128, batch: int = 1):
    """all-MiniLM-L6-v2 sentence embedder: BERT encoder, 6 layers, d 384, 12 heads, FFN 1536,
    mean pooling and L2 normalisation (the checkpoint's BERT pooler is not used)."""
    return _bert("minilm", "Reimers & Gurevych, sentence-transformers all-MiniLM-L6-v2 (Wang et "
                 "al., MiniLM, NeurIPS 2020); config of the Hugging Face checkpoint "
                 "sentence-transformers/all-MiniLM-L6-v2", MINILM_L6, seq, batch, "mean", None,
                 "no published MAC figure; checked against closed-form arithmetic")


def llama2_7b(phase: str = "decode", tokens: int = 512, context: int = 4096, batch: int = 1,
              logits: str = "last"):
    """Llama-2-7B: 32 layers, d 4096, 32 heads (no GQA in 7B), SwiGLU MLP 11008, RMSNorm, RoPE.

    ``phase="prefill"``: ``tokens`` prompt tokens, attention over those tokens.
    ``phase="decode"``: one new token whose query attends to ``context`` keys (the KV cache's
    ``context - 1`` earlier tokens, graph inputs, plus its own). ``logits``: "last" computes the
    vocabulary projection for the last position only (what generation needs), "all" for every
    position.
    """
    if phase not in ("prefill", "decode"):
        raise WorkloadError(f"phase must be prefill or decode, not {phase!r}")
    if logits not in ("last", "all"):
        raise WorkloadError(f"logits must be last or all, not {logits!r}")
    _positive("batch", batch)
    cfg = LLAMA2_7B
    d, h, f, L, V = cfg["d"], cfg["heads"], cfg["ffn"], cfg["layers"], cfg["vocab"]
    dh = d // h
    if phase == "prefill":
        S = _positive("tokens", tokens)
        keys = S
        params = {"phase": phase, "tokens": tokens, "batch": batch, "logits": logits}
    else:
        S = 1
        keys = _positive("context", context)
        params = {"phase": phase, "context": context, "batch": batch}
    T = batch * S
    b = Builder("llama2-7b", "Touvron et al., Llama 2, arXiv 2307.09288 (7B: d 4096, 32 layers, "
                "32 heads); config of the Hugging Face checkpoint meta-llama/Llama-2-7b-hf "
                "(intermediate 11008, vocabulary 32000, untied output head)", params=params,
                published_note="no published per-token MAC figure; weight MACs checked against "
                               "the 2N rule (Kaplan et al. 2020) with N = 6,738,415,616 "
                               "parameters minus the embedding table, attention against "
                               "Hoffmann et al. 2022 App. F")
    ids = b.input("input_ids", T)
    x = b.embedding("embed_tokens", ids, tokens=T, vocab=V, dim=d)
    for i in range(L):
        p = f"layers.{i}"
        y = b.norm(f"{p}.input_layernorm", x, rows=T, cols=d, fn="rmsnorm", weight_elems=d)
        q = b.matmul(f"{p}.self_attn.q_proj", y, M=T, K=d, N=d)
        k = b.matmul(f"{p}.self_attn.k_proj", y, M=T, K=d, N=d)
        v = b.matmul(f"{p}.self_attn.v_proj", y, M=T, K=d, N=d)
        q = b.elementwise(f"{p}.self_attn.rope_q", [q], elems=T * d, fn="rope")
        k = b.elementwise(f"{p}.self_attn.rope_k", [k], elems=T * d, fn="rope")
        caches_k, caches_v = (), ()
        if phase == "decode" and keys > 1:
            caches_k = (b.input(f"{p}.k_cache", batch * (keys - 1) * d),)
            caches_v = (b.input(f"{p}.v_cache", batch * (keys - 1) * d),)
        s = b.attn_score(f"{p}.self_attn.scores", q, k, B=batch * h, M=S, K=dh, N=keys,
                         extra_inputs=caches_k)
        s = b.softmax(f"{p}.self_attn.softmax", s, rows=batch * h * S, cols=keys)
        a = b.attn_value(f"{p}.self_attn.context", s, v, B=batch * h, M=S, K=keys, N=dh,
                         extra_inputs=caches_v)
        a = b.matmul(f"{p}.self_attn.o_proj", a, M=T, K=d, N=d)
        x = b.elementwise(f"{p}.attn_add", [a, x], elems=T * d, fn="add")
        y = b.norm(f"{p}.post_attention_layernorm", x, rows=T, cols=d, fn="rmsnorm",
                   weight_elems=d)
        g = b.matmul(f"{p}.mlp.gate_proj", y, M=T, K=d, N=f)
        u = b.matmul(f"{p}.mlp.up_proj", y, M=T, K=d, N=f)
        g = b.elementwise(f"{p}.mlp.silu", [g], elems=T * f, fn="silu")
        g = b.elementwise(f"{p}.mlp.mul", [g, u], elems=T * f, fn="mul")
        y = b.matmul(f"{p}.mlp.down_proj", g, M=T, K=f, N=d)
        x = b.elementwise(f"{p}.mlp_add", [y, x], elems=T * d, fn="add")
    rows = T if (phase == "decode" or logits == "all") else batch
    x = b.norm("norm", x, rows=rows, cols=d, fn="rmsnorm", weight_elems=d)
    y = b.matmul("lm_head", x, M=rows, K=d, N=V)
    b.output(y)
    return b.finish()
