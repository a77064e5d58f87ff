package dev.continuum.model;

import dev.continuum.runner.StepBatch;
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

    static final int BLOCK_SIZE = 16;

    /** The CPU model over {@code weights} prepared as the CPU runner prepares them (repacked in place). */
    static LlamaModel model(LlamaConfig config, LlamaWeights weights, ComputePool pool) {
        return new LlamaModel(config, weights.interleaved(), pool);
    }

    /**
     * KV storage and block tables for {@code sequences} slots of {@code tokens} positions each, slot {@code s}
     * holding its own consecutive blocks.
     */
    record Cache(Float16KvStore kv, int[][] tables) {
        static Cache of(LlamaConfig c, int sequences, int tokens) {
            int perSequence = (tokens + BLOCK_SIZE - 1) / BLOCK_SIZE;
            int[][] tables = new int[sequences][perSequence];
            for (int s = 0; s < sequences; s++) {
                for (int b = 0; b < perSequence; b++) {
                    tables[s][b] = s * perSequence + b;
                }
            }
            return new Cache(new Float16KvStore(c.layers(), c.kvHeads(), c.headDim(), sequences * perSequence,
                    BLOCK_SIZE), tables);
        }

        /** A batch over this cache's tables with room for {@code rows} rows, all of which may ask for logits. */
        StepBatch batch(int rows) {
            return new StepBatch(rows, rows, tables, BLOCK_SIZE);
        }
    }

    /**
     * One forward pass: row {@code i} runs {@code tokens[i]} of slot {@code slots[i]} at {@code positions[i]};
     * returns the logits of {@code logitRows}, one after another.
     */
    static float[] forward(LlamaModel model, Cache cache, int[] tokens, int[] positions, int[] slots,
                           int[] logitRows) {
        StepBatch batch = cache.batch(Math.max(1, tokens.length));
        for (int i = 0; i < tokens.length; i++) {
            batch.addRow(tokens[i], positions[i], slots[i]);
        }
        for (int row : logitRows) {
            batch.requestLogits(row);
        }
        float[] logits = new float[Math.max(1, logitRows.length) * model.config().vocabSize()];
        model.forward(batch, cache.kv(), logits);
        return logits;
    }

    /** Logits after each of {@code tokens}, fed one token per forward step. */
    static float[][] stepwiseLogits(LlamaModel model, int[] tokens) {
        LlamaConfig c = model.config();
        Cache cache = Cache.of(c, 1, tokens.length);
        float[][] out = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            out[i] = forward(model, cache, new int[]{tokens[i]}, new int[]{i}, new int[]{0}, new int[]{0});
        }
        return out;
    }

    /** Logits after every token of one prefill pass over all of {@code tokens}. */
    static float[][] prefillLogits(LlamaModel model, int[] tokens) {
        LlamaConfig c = model.config();
        int n = tokens.length;
        Cache cache = Cache.of(c, 1, n);
        int[] positions = new int[n];
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            positions[i] = i;
            rows[i] = i;
        }
        float[] flat = forward(model, cache, tokens, positions, new int[n], rows);
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
