package dev.continuum.model;

import dev.continuum.kvcache.PagedKvCache;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightEncoder;
import dev.continuum.tensor.WeightTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Test helpers: run token sequences through a model and rebuild weights as plain F32. */
final class ModelHarness {
    private ModelHarness() {
    }

    /** Logits after each of {@code tokens}, fed one token per forward step. */
    static float[][] stepwiseLogits(LlamaModel model, int[] tokens) {
        LlamaConfig c = model.config();
        PagedKvCache kv = PagedKvCache.reserved(c.layers(), c.kvHeads(), c.headDim(), 1, tokens.length);
        float[][] out = new float[tokens.length][c.vocabSize()];
        for (int i = 0; i < tokens.length; i++) {
            model.forward(1, new int[]{tokens[i]}, new int[]{i}, new int[]{0}, kv, 1, new int[]{0}, out[i]);
        }
        return out;
    }

    /** Logits after every token of one prefill pass over all of {@code tokens}. */
    static float[][] prefillLogits(LlamaModel model, int[] tokens) {
        LlamaConfig c = model.config();
        int n = tokens.length;
        PagedKvCache kv = PagedKvCache.reserved(c.layers(), c.kvHeads(), c.headDim(), 1, n);
        int[] positions = new int[n];
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            positions[i] = i;
            rows[i] = i;
        }
        float[] flat = new float[n * c.vocabSize()];
        model.forward(n, tokens, positions, new int[n], kv, n, rows, flat);
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = java.util.Arrays.copyOfRange(flat, i * c.vocabSize(), (i + 1) * c.vocabSize());
        }
        return out;
    }

    /** The same weights with every matrix dequantized to F32 (in {@code arena}). */
    static LlamaWeights dequantized(LlamaWeights w, Arena arena) {
        LayerWeights[] layers = new LayerWeights[w.layers().length];
        for (int l = 0; l < layers.length; l++) {
            LayerWeights x = w.layers()[l];
            layers[l] = new LayerWeights(x.attnNorm(), f32(x.wq(), arena), f32(x.wk(), arena), f32(x.wv(), arena),
                    x.bq(), x.bk(), x.bv(), f32(x.wo(), arena), x.ffnNorm(), f32(x.gate(), arena), f32(x.up(), arena),
                    f32(x.down(), arena));
        }
        return new LlamaWeights(f32(w.tokenEmbedding(), arena), layers, w.outputNorm(), f32(w.output(), arena));
    }

    static WeightTensor f32(WeightTensor t, Arena arena) {
        MemorySegment seg = arena.allocate((long) t.rows() * t.cols() * 4, 64);
        float[] row = new float[t.cols()];
        for (int r = 0; r < t.rows(); r++) {
            t.dequantizeRow(r, row, 0);
            WeightEncoder.encode(GgmlType.F32, row, 0, row.length, seg, (long) r * t.cols() * 4);
        }
        return WeightTensor.of("f32 copy", GgmlType.F32, seg, t.rows(), t.cols());
    }

    static float maxAbs(float[] a) {
        float m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static ComputePool pool() {
        return new ComputePool(2);
    }
}
