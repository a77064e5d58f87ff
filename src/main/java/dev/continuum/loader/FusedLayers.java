package dev.continuum.loader;

import dev.continuum.model.Architecture;
import dev.continuum.model.LayerWeights;
import dev.continuum.model.LlamaConfig;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightTensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The layers of the architectures whose files fuse matrices (GPT-2, Phi-3), read as llama.cpp names them and
 * split at load into the separate matrices the forward passes multiply:
 * <pre>
 *   blk.N.attn_qkv.weight   rows [0, qDim) queries | [qDim, qDim + kvDim) keys | [.., qDim + 2 kvDim) values
 *   blk.N.attn_qkv.bias     the same split (GPT-2)
 *   blk.N.ffn_up.weight     Phi-3: rows [0, ffn) gate | [ffn, 2 ffn) up (llama.cpp's SwiGLU over the halves)
 * </pre>
 * A row of a GGUF matrix is a whole number of blocks in any weight type, so each part is a plain slice of the
 * mapped bytes: a tensor of its own, repacked for the kernels like any other, and the passes' fused
 * three-matrix multiply reads the activations once for all three as it does for Llama's separate matrices.
 */
final class FusedLayers {
    private FusedLayers() {
    }

    /** Whether the architecture's files hold one attn_qkv matrix instead of attn_q, attn_k and attn_v. */
    static boolean fusedQkv(Architecture a) {
        return a == Architecture.GPT2 || a == Architecture.PHI3;
    }

    /** The tensor whose rows give feed_forward_length (times {@link #ffnRowsPerUnit}). */
    static String ffnRowsTensor(Architecture a) {
        return a == Architecture.GPT2 || a == Architecture.PHI3 ? "blk.0.ffn_up.weight" : "blk.0.ffn_gate.weight";
    }

    /** Rows of {@link #ffnRowsTensor} per feed-forward unit: 2 where it holds the gate and the up rows (Phi-3). */
    static int ffnRowsPerUnit(Architecture a) {
        return a == Architecture.PHI3 ? 2 : 1;
    }

    /** A GPT-2 layer: LayerNorms with biases, fused QKV with bias, biased output and ungated feed-forward. */
    static LayerWeights gpt2Layer(GgufFile file, LlamaConfig c, String p) {
        int dim = c.dim();
        WeightTensor[] qkv = splitQkv(file, c, p);
        float[] qkvBias = vector(file, p + "attn_qkv.bias", c.qDim() + 2 * c.kvDim());
        return new LayerWeights(
                vector(file, p + "attn_norm.weight", dim),
                qkv[0], qkv[1], qkv[2],
                Arrays.copyOfRange(qkvBias, 0, c.qDim()),
                Arrays.copyOfRange(qkvBias, c.qDim(), c.qDim() + c.kvDim()),
                Arrays.copyOfRange(qkvBias, c.qDim() + c.kvDim(), qkvBias.length),
                matrix(file, p + "attn_output.weight", dim, c.qDim()),
                vector(file, p + "ffn_norm.weight", dim),
                null,
                matrix(file, p + "ffn_up.weight", c.ffnDim(), dim),
                matrix(file, p + "ffn_down.weight", dim, c.ffnDim()),
                null, null, null, null,
                vector(file, p + "attn_norm.bias", dim),
                vector(file, p + "ffn_norm.bias", dim),
                vector(file, p + "attn_output.bias", dim),
                vector(file, p + "ffn_up.bias", c.ffnDim()),
                vector(file, p + "ffn_down.bias", dim),
                null);
    }

    /** A Phi-3 layer: Llama's, from a fused QKV and a fused gate-up matrix; no biases. */
    static LayerWeights phi3Layer(GgufFile file, LlamaConfig c, String p) {
        int dim = c.dim();
        WeightTensor[] qkv = splitQkv(file, c, p);
        String gateUp = p + "ffn_up.weight";
        WeightTensor fused = matrix(file, gateUp, 2 * c.ffnDim(), dim);
        return new LayerWeights(
                vector(file, p + "attn_norm.weight", dim),
                qkv[0], qkv[1], qkv[2], null, null, null,
                matrix(file, p + "attn_output.weight", dim, c.qDim()),
                vector(file, p + "ffn_norm.weight", dim),
                rows(fused, gateUp + "[gate]", 0, c.ffnDim()),
                rows(fused, gateUp + "[up]", c.ffnDim(), c.ffnDim()),
                matrix(file, p + "ffn_down.weight", dim, c.ffnDim()));
    }

    /** GPT-2's learned position embeddings: one row per position of the context, as llama.cpp requires. */
    static WeightTensor positionEmbedding(GgufFile file, LlamaConfig c) {
        return matrix(file, "position_embd.weight", c.contextLength(), c.dim());
    }

    private static WeightTensor[] splitQkv(GgufFile file, LlamaConfig c, String p) {
        String name = p + "attn_qkv.weight";
        WeightTensor fused = matrix(file, name, c.qDim() + 2 * c.kvDim(), c.dim());
        return new WeightTensor[] {
                rows(fused, name + "[q]", 0, c.qDim()),
                rows(fused, name + "[k]", c.qDim(), c.kvDim()),
                rows(fused, name + "[v]", c.qDim() + c.kvDim(), c.kvDim())};
    }

    /** Rows {@code [first, first + count)} of a row-major tensor as a tensor over the same bytes. */
    private static WeightTensor rows(WeightTensor t, String name, int first, int count) {
        GgmlType type = t.type();
        MemorySegment bytes = t.data().asSlice(type.bytesFor((long) first * t.cols()),
                type.bytesFor((long) count * t.cols()));
        return WeightTensor.of(name, type, bytes, count, t.cols());
    }

    private static WeightTensor matrix(GgufFile file, String name, int rows, int cols) {
        return WeightShapes.expect(GgufModelLoader.tensor(file, name), name, rows, cols);
    }

    private static float[] vector(GgufFile file, String name, int n) {
        return WeightShapes.vector(GgufModelLoader.tensor(file, name), name, n);
    }
}
