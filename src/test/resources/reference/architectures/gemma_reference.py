#!/usr/bin/env python3
"""Independent float64 reference of Gemma 2's and Gemma 3's published definitions (Hugging Face transformers'
Gemma2 and Gemma3 text models), reading weights and hyper-parameters from a GGUF file with llama.cpp's gguf-py:

- embeddings scaled by sqrt(hidden size); RMSNorm x / sqrt(mean(x^2) + eps) * (1 + w), where the GGUF weight is
  already 1 + w (llama.cpp's converter adds the 1), so it multiplies as stored;
- each layer: input norm, attention, post-attention norm, residual add; pre-feed-forward norm, GeGLU MLP
  down(gelu_tanh(gate x) * up x), post-feed-forward norm, residual add; then the final norm and the tied lm_head;
- attention: q/k/v projections without bias; Gemma 3 only: per-head RMSNorm (1 + w) of queries and keys over the
  head size before rotation; rotary embeddings in the rotate_half convention; scores q.k * query_pre_attn_scalar^-0.5
  (the scalar as llama.cpp derives it: the head size, or hidden / heads for the 27B shapes); Gemma 2 only:
  scores soft-capped c * tanh(s / c); causal grouped-query softmax attention, a sliding layer seeing only keys with
  pos - key_pos < sliding_window;
- sliding layers: Gemma 2 the even ones (layer_idx % 2 == 0); Gemma 3 all but every 6th ((layer_idx + 1) % 6 != 0),
  whose rotary base is rope_local_base_freq 10000, the global layers' the file's rope.freq_base (with its linear
  rope.scaling.factor, if any);
- Gemma 2 only: final logits soft-capped the same way.

Prints JSON: the prompt length, the last prompt position's logits and G greedy tokens with margins (top-1 minus
top-2). The prompt: ids[0] = 1, ids[i] = 3 + (i * 7919 + i * i * 31) % (vocab - 3). Usage:
gemma_reference.py FILE N_PROMPT N_GREEDY."""
import json, sys, types
sys.modules['sentencepiece'] = types.SimpleNamespace(SentencePieceProcessor=None)
sys.path.insert(0, "/tmp/llama.cpp/gguf-py")  # a fetched llama.cpp snapshot; only its GGUF reader is used
import numpy as np
from gguf import GGUFReader

r = GGUFReader(sys.argv[1])
n_prompt = int(sys.argv[2]); n_greedy = int(sys.argv[3])

def kv(name, default=None):
    if name not in r.fields:
        if default is None:
            raise KeyError(name)
        return default
    f = r.fields[name]
    return f.parts[f.data[0]][0].item()

A = bytes(r.fields['general.architecture'].parts[-1]).decode()
assert A in ('gemma2', 'gemma3'), A
T = {t.name: np.array(t.data, dtype=np.float64) for t in r.tensors}
HID = kv(A + '.embedding_length'); L = kv(A + '.block_count')
H = kv(A + '.attention.head_count'); KV = kv(A + '.attention.head_count_kv')
D = kv(A + '.attention.key_length'); eps = kv(A + '.attention.layer_norm_rms_epsilon')
window = kv(A + '.attention.sliding_window')
base = kv(A + '.rope.freq_base', 10000.0)
V = T['token_embd.weight'].shape[0]
if A == 'gemma2':
    attn_cap = kv('gemma2.attn_logit_softcapping', 50.0); final_cap = kv('gemma2.final_logit_softcapping', 30.0)
    sliding = [l % 2 == 0 for l in range(L)]
    big = L == 46                                   # Gemma 2 27B
    global_base, global_factor = base, 1.0
else:
    attn_cap = final_cap = None
    sliding = [(l + 1) % 6 != 0 for l in range(L)]
    big = L == 62                                   # Gemma 3 27B
    global_base = base
    global_factor = kv('gemma3.rope.scaling.factor', 1.0) if 'gemma3.rope.scaling.type' not in r.fields or \
        bytes(r.fields['gemma3.rope.scaling.type'].parts[-1]).decode() == 'linear' else None
    assert global_factor is not None, 'only linear rope scaling'
scale = (HID / H if big else D) ** -0.5

def rms(x, w):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

def inv_freq(b, factor):
    return 1.0 / b ** (np.arange(0, D, 2, dtype=np.float64) / D) / factor

INV_LOCAL = inv_freq(10000.0 if A == 'gemma3' else base, 1.0)
INV_GLOBAL = inv_freq(global_base, global_factor)

def rope(x, pos, inv):  # x: (heads, D), rotate_half convention
    ang = pos * inv
    cos = np.concatenate([np.cos(ang)] * 2); sin = np.concatenate([np.sin(ang)] * 2)
    half = np.concatenate([-x[:, D // 2:], x[:, :D // 2]], axis=1)
    return x * cos + half * sin

def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))

def step(tok, pos, K, Vv):
    x = T['token_embd.weight'][tok] * np.sqrt(HID)
    for l in range(L):
        p = f'blk.{l}.'
        h = rms(x, T[p + 'attn_norm.weight'])
        q = (T[p + 'attn_q.weight'] @ h).reshape(H, D)
        k = (T[p + 'attn_k.weight'] @ h).reshape(KV, D)
        v = (T[p + 'attn_v.weight'] @ h).reshape(KV, D)
        if A == 'gemma3':
            q = rms(q, T[p + 'attn_q_norm.weight']); k = rms(k, T[p + 'attn_k_norm.weight'])
        inv = INV_LOCAL if sliding[l] else INV_GLOBAL
        q = rope(q, pos, inv); k = rope(k, pos, inv)
        K[l].append(k); Vv[l].append(v)
        ks = np.stack(K[l]); vs = np.stack(Vv[l])  # (t, KV, D)
        first = max(0, pos + 1 - window) if sliding[l] else 0
        att = np.zeros((H, D))
        for hh in range(H):
            g = hh // (H // KV)
            s = ks[first:, g, :] @ q[hh] * scale
            if attn_cap is not None:
                s = attn_cap * np.tanh(s / attn_cap)
            w = np.exp(s - s.max()); w /= w.sum()
            att[hh] = w @ vs[first:, g, :]
        x = x + rms(T[p + 'attn_output.weight'] @ att.reshape(-1), T[p + 'post_attention_norm.weight'])
        h = rms(x, T[p + 'ffn_norm.weight'])
        f = T[p + 'ffn_down.weight'] @ (gelu_tanh(T[p + 'ffn_gate.weight'] @ h) * (T[p + 'ffn_up.weight'] @ h))
        x = x + rms(f, T[p + 'post_ffw_norm.weight'])
    logits = T['token_embd.weight'] @ rms(x, T['output_norm.weight'])
    if final_cap is not None:
        logits = final_cap * np.tanh(logits / final_cap)
    return logits

ids = [1] + [3 + (i * 7919 + i * i * 31) % (V - 3) for i in range(1, n_prompt)]
K = [[] for _ in range(L)]; Vv = [[] for _ in range(L)]
for pos, tok in enumerate(ids):
    logits = step(tok, pos, K, Vv)
first_logits = logits.copy(); greedy = []; margins = []
for g in range(n_greedy):
    o = np.argsort(logits)[::-1]
    greedy.append(int(o[0])); margins.append(float(logits[o[0]] - logits[o[1]]))
    logits = step(int(o[0]), n_prompt + g, K, Vv)
print(json.dumps({"prompt_length": n_prompt, "logits": [float(f) for f in first_logits], "greedy": greedy,
                  "margins": margins}))
