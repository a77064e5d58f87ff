#!/usr/bin/env python3
"""Independent float64 reference of the Llama block as Meta published it, with Mistral's sliding-window attention
(each query attends to the last W positions, itself included, W from the file's llama.attention.sliding_window; all
positions when absent): RMSNorm, q/k/v projections, rotary embeddings on adjacent pairs (x[2i], x[2i+1]) as the
GGUF llama layout stores the weights, base from the file, grouped-query causal attention, SwiGLU MLP, final norm,
output matrix; weights read from a GGUF file with llama.cpp's gguf-py. Prints JSON: the prompt, the last prompt
position's logits and 64 greedy tokens with margins. Usage: llama_reference.py FILE [--no-window]."""
import json, sys, types
sys.modules['sentencepiece'] = types.SimpleNamespace(SentencePieceProcessor=None)
sys.path.insert(0, "/tmp/llama.cpp/gguf-py")  # a fetched llama.cpp snapshot; only its GGUF reader is used
import numpy as np
from gguf import GGUFReader

r = GGUFReader(sys.argv[1])
def kv(name, default=None):
    if name not in r.fields:
        return default
    f = r.fields[name]
    return f.parts[f.data[0]][0].item()
T = {t.name: np.array(t.data, dtype=np.float64) for t in r.tensors}
A = bytes(r.fields['general.architecture'].parts[-1]).decode()
L = kv(A + '.block_count'); H = kv(A + '.attention.head_count'); KV = kv(A + '.attention.head_count_kv')
dim = kv(A + '.embedding_length'); D = dim // H
eps = kv(A + '.attention.layer_norm_rms_epsilon'); base = kv(A + '.rope.freq_base')
W = kv(A + '.attention.sliding_window', 1 << 30)
if len(sys.argv) > 2 and sys.argv[2] == '--no-window':  # to check the rest against llama.cpp, which ignores it
    W = 1 << 30
V = T['token_embd.weight'].shape[0]

def rms(x, w):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

inv = 1.0 / base ** (np.arange(0, D, 2, dtype=np.float64) / D)
def rope(x, pos):  # x: (heads, D); pairs (2i, 2i+1) rotated by pos * base^(-2i/D)
    ang = pos * inv
    c, s = np.cos(ang), np.sin(ang)
    a, b = x[:, 0::2], x[:, 1::2]
    out = np.empty_like(x)
    out[:, 0::2] = a * c - b * s
    out[:, 1::2] = a * s + b * c
    return out

def step(tok, pos, K, Vv, f16):
    x = T['token_embd.weight'][tok].copy()
    for l in range(L):
        p = f'blk.{l}.'
        h = rms(x, T[p + 'attn_norm.weight'])
        q = rope((T[p + 'attn_q.weight'] @ h).reshape(H, D), pos)
        k = rope((T[p + 'attn_k.weight'] @ h).reshape(KV, D), pos)
        v = (T[p + 'attn_v.weight'] @ h).reshape(KV, D)
        if f16:
            k = k.astype(np.float16).astype(np.float64); v = v.astype(np.float16).astype(np.float64)
        K[l].append(k); Vv[l].append(v)
        first = max(0, pos - W + 1)
        ks = np.stack(K[l][first:]); vs = np.stack(Vv[l][first:])  # (t, KV, D), the window only
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

def run(ids, f16):
    K = [[] for _ in range(L)]; Vv = [[] for _ in range(L)]
    for pos, tok in enumerate(ids):
        logits = step(tok, pos, K, Vv, f16)
    first = logits.copy(); greedy = []; margins = []
    for g in range(64):
        o = np.argsort(logits)[::-1]
        greedy.append(int(o[0])); margins.append(float(logits[o[0]] - logits[o[1]]))
        logits = step(int(o[0]), len(ids) + g, K, Vv, f16)
    return {"logits": [float(f) for f in first], "greedy": greedy, "margins": margins}

n = 48
ids = [1] + [3 + (i * 7919 + i * i * 31) % (V - 3) for i in range(1, n)]
print(json.dumps({"prompt_ids": ids, "window": W, **run(ids, False), "f16_cache": run(ids, True)}))
