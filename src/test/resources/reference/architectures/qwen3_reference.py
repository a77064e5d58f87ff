#!/usr/bin/env python3
"""Independent float64 reference of Qwen3's published definition (Hugging Face transformers' Qwen3 modelling:
RMSNorm, q/k/v projections without bias, per-head RMSNorm of queries and keys over head_dim before rotary
embeddings (rotate_half, base from the file), grouped-query causal attention, SwiGLU MLP, final norm, lm_head),
reading weights from a GGUF file with llama.cpp's gguf-py. Prints JSON: the last prompt position's logits and 64
greedy tokens with margins. Usage: qwen3_reference.py FILE."""
import json, sys, types
sys.modules['sentencepiece'] = types.SimpleNamespace(SentencePieceProcessor=None)
sys.path.insert(0, "/tmp/llama.cpp/gguf-py")  # a fetched llama.cpp snapshot; only its GGUF reader is used
import numpy as np
from gguf import GGUFReader

r = GGUFReader(sys.argv[1])
def kv(name):
    f = r.fields[name]
    return f.parts[f.data[0]][0].item()
T = {t.name: np.array(t.data, dtype=np.float64) for t in r.tensors}
L = kv('qwen3.block_count'); H = kv('qwen3.attention.head_count'); KV = kv('qwen3.attention.head_count_kv')
D = kv('qwen3.attention.key_length'); eps = kv('qwen3.attention.layer_norm_rms_epsilon'); base = kv('qwen3.rope.freq_base')
V = T['token_embd.weight'].shape[0]

def rms(x, w):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

inv = 1.0 / base ** (np.arange(0, D, 2, dtype=np.float64) / D)
def rope(x, pos):  # x: (heads, D), rotate_half convention
    ang = pos * inv
    cos = np.concatenate([np.cos(ang)] * 2); sin = np.concatenate([np.sin(ang)] * 2)
    half = np.concatenate([-x[:, D // 2:], x[:, :D // 2]], axis=1)
    return x * cos + half * sin

def forward(ids):
    K = [[] for _ in range(L)]; Vv = [[] for _ in range(L)]; out = None
    for pos, tok in enumerate(ids):
        out = step(tok, pos, K, Vv)
    return out, K, Vv

def step(tok, pos, K, Vv):
    x = T['token_embd.weight'][tok].copy()
    for l in range(L):
        p = f'blk.{l}.'
        h = rms(x, T[p + 'attn_norm.weight'])
        q = (T[p + 'attn_q.weight'] @ h).reshape(H, D)
        k = (T[p + 'attn_k.weight'] @ h).reshape(KV, D)
        v = (T[p + 'attn_v.weight'] @ h).reshape(KV, D)
        q = rope(rms(q, T[p + 'attn_q_norm.weight']), pos)
        k = rope(rms(k, T[p + 'attn_k_norm.weight']), pos)
        K[l].append(k); Vv[l].append(v)
        ks = np.stack(K[l]); vs = np.stack(Vv[l])  # (t, KV, D)
        att = np.zeros((H, D))
        for hh in range(H):
            g = hh // (H // KV)
            s = ks[:, g, :] @ q[hh] / np.sqrt(D)
            w = np.exp(s - s.max()); w /= w.sum()
            att[hh] = w @ vs[:, g, :]
        x = x + T[p + 'attn_output.weight'] @ att.reshape(-1)
        h = rms(x, T[p + 'ffn_norm.weight'])
        gte = T[p + 'ffn_gate.weight'] @ h
        x = x + T[p + 'ffn_down.weight'] @ (gte / (1 + np.exp(-gte)) * (T[p + 'ffn_up.weight'] @ h))
    out = T['output.weight'] if 'output.weight' in T else T['token_embd.weight']
    return out @ rms(x, T['output_norm.weight'])

n = 48
ids = [1] + [3 + (i * 7919 + i * i * 31) % (V - 3) for i in range(1, n)]
K = [[] for _ in range(L)]; Vv = [[] for _ in range(L)]
for pos, tok in enumerate(ids):
    logits = step(tok, pos, K, Vv)
first = logits.copy(); greedy = []; margins = []
for g in range(64):
    o = np.argsort(logits)[::-1]
    greedy.append(int(o[0])); margins.append(float(logits[o[0]] - logits[o[1]]))
    logits = step(int(o[0]), n + g, K, Vv)
print(json.dumps({"prompt_ids": ids, "logits": [float(f) for f in first], "greedy": greedy, "margins": margins}))
