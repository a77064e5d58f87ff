package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * llama.cpp's per-tensor type choice ({@code llama_tensor_get_type} in src/llama-quant.cpp) for dense llama
 * models and the file types of {@link QuantizeType}: the output matrix (or the token embedding when it doubles
 * as output) gets Q6_K, attn_v and ffn_down get more bits in the first, last and every third layer, and a type
 * whose block does not divide the row length falls back to a 32-block one. Stateful like llama.cpp's: tensors must
 * be offered in llama-quantize's order ({@link GgufQuantizer#llamaOrder}) since the layer counters count calls.
 */
final class TensorTypeRules {
    private final QuantizeType ftype;
    private final boolean hasOutput;
    private final int nAttentionWv;
    private final int nLayer;
    private final int nGqa;
    private final boolean is70b;
    private int iAttentionWv;
    private int iFfnDown;
    int fallbacks;

    TensorTypeRules(QuantizeType ftype, boolean hasOutput, int nAttentionWv, int nLayer, int nGqa) {
        this.ftype = ftype;
        this.hasOutput = hasOutput;
        this.nAttentionWv = nAttentionWv;
        this.nLayer = nLayer;
        this.nGqa = nGqa;
        // llama.cpp's LLM_TYPE_70B for the llama architecture: 80 layers with grouped KV heads (without, 65B).
        this.is70b = nLayer == 80 && nGqa > 1;
    }

    private static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    /** The type for matrix {@code name} with rows of {@code nx} values, starting from {@code ftype.defaultType}. */
    GgmlType choose(String name, long nx) {
        GgmlType t = ftype.defaultType;
        if (name.equals("output.weight") || (!hasOutput && name.equals("token_embd.weight"))) {
            if (nx % t.blockSize != 0) {
                t = GgmlType.Q8_0;
            } else if (t != GgmlType.Q8_0) {
                t = GgmlType.Q6_K;
            }
        } else if (name.equals("token_embd.weight")) {
            // only IQ and TQ file types change it
        } else if (name.contains("attn_v.weight")) {
            switch (ftype) {
                case Q2_K -> t = nGqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
                case Q3_K_M -> t = iAttentionWv < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
                case Q3_K_L -> t = GgmlType.Q5_K;
                case Q4_K_M, Q5_K_M -> {
                    if (useMoreBits(iAttentionWv, nAttentionWv)) {
                        t = GgmlType.Q6_K;
                    }
                }
                case Q4_K_S -> {
                    if (iAttentionWv < 4) {
                        t = GgmlType.Q5_K;
                    }
                }
                default -> { }
            }
            if (is70b && (t == GgmlType.Q3_K || t == GgmlType.Q4_K)) {
                t = GgmlType.Q5_K;
            }
            iAttentionWv++;
        } else if (name.contains("attn_k.weight") || name.contains("attn_q.weight")) {
            // only expert models and IQ file types change them
        } else if (name.contains("ffn_down")) {
            int i = iFfnDown;
            switch (ftype) {
                case Q2_K -> t = GgmlType.Q3_K;
                case Q3_K_M -> t = i < nLayer / 16 ? GgmlType.Q5_K : GgmlType.Q4_K;
                case Q3_K_L -> t = GgmlType.Q5_K;
                case Q4_K_M, Q5_K_M -> {
                    if (useMoreBits(i, nLayer)) {
                        t = GgmlType.Q6_K;
                    }
                }
                case Q4_K_S -> {
                    if (i < nLayer / 8) {
                        t = GgmlType.Q5_K;
                    }
                }
                default -> { }
            }
            iFfnDown++;
        } else if (name.contains("attn_output.weight")) {
            switch (ftype) {
                case Q2_K -> t = GgmlType.Q3_K;
                case Q3_K_M -> t = GgmlType.Q4_K;
                case Q3_K_L -> t = GgmlType.Q5_K;
                default -> { }
            }
        } else if (name.contains("attn_qkv.weight")) {
            switch (ftype) {
                case Q3_K_M, Q3_K_L -> t = GgmlType.Q4_K;
                case Q4_K_M -> t = GgmlType.Q5_K;
                case Q5_K_M -> t = GgmlType.Q6_K;
                default -> { }
            }
        }
        if (nx % t.blockSize != 0) {
            t = switch (t) {
                case Q2_K, Q3_K -> GgmlType.IQ4_NL;
                case Q4_K -> GgmlType.Q5_0;
                case Q5_K -> GgmlType.Q5_1;
                case Q6_K -> GgmlType.Q8_0;
                default -> throw new IllegalArgumentException("tensor '" + name + "' has rows of " + nx
                        + " values, not a multiple of the " + t + " block size " + t.blockSize);
            };
            if (nx % t.blockSize != 0) {
                t = GgmlType.F16;
            }
            fallbacks++;
        }
        return t;
    }
}
