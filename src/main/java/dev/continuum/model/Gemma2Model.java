package dev.continuum.model;

import dev.continuum.runner.StepBatch;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.MatMul;

/**
 * Gemma 2's forward pass, as llama.cpp's {@code build_gemma2} computes it, over a flattened batch of tokens (any
 * mix of prefill chunks and decode tokens of different sequences, each attending to its own sequence's cache):
 * <ul>
 *   <li>the token embedding scaled by {@code sqrt(dim)} (in float, as {@code sqrtf});</li>
 *   <li>RMSNorms with the weights as the file stores them (llama.cpp's converter has already added Gemma's 1 to
 *   each), before attention and the feed-forward and again on each of their outputs, before the residual add;</li>
 *   <li>NEOX rotation of queries and keys; the queries scaled by {@code 1/sqrt(headDim)}, or for the 27B shape
 *   (46 layers) by {@code 1/sqrt(dim/heads)}, as llama.cpp picks the scale by model size (Hugging Face's
 *   {@code query_pre_attn_scalar}: 256 and 144);</li>
 *   <li>attention scores soft-capped ({@code c tanh(s/c)}) before the softmax; even layers attend to a sliding
 *   window, odd ones to the whole context ({@link SlidingWindow#positionsFor});</li>
 *   <li>GeGLU feed-forward, {@code down(gelu(gate x) * up x)} with the tanh GELU ({@link GeluKernel});</li>
 *   <li>the final norm, the tied output matrix, and the logits soft-capped the same way.</li>
 * </ul>
 *
 * <p>Not thread-safe: one caller (the engine thread) runs it; the work inside is split across the pool.
 */
final class Gemma2Model implements Transformer {
    /** llama.cpp's Gemma 2 27B, the one shape whose queries are scaled by dim / heads rather than the head size. */
    private static final int LAYERS_27B = 46;

    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final ComputePool pool;
    private final MatMul matmul;
    private final AttentionTask attention;
    private final Rope rope;
    private final float embeddingScale;
    private final float attentionScale;

    // Scratch buffers sized for the largest batch seen so far; reused across steps.
    private int capacity;
    private float[] x;
    private float[] xb;
    private float[] q;
    private float[] k;
    private float[] v;
    private float[] att;
    private float[] hb;
    private float[] hb2;
    private float[] ropeCos;
    private float[] ropeSin;
    private int[] rowBlocks;
    private int[] rowOffsets;

    Gemma2Model(LlamaConfig config, LlamaWeights weights, ComputePool pool) {
        if (config.expertCount() != 0) {
            throw new IllegalArgumentException("Gemma 2 has no experts");
        }
        for (LayerWeights w : weights.layers()) {
            if (w.postAttnNorm() == null || w.postFfnNorm() == null || w.gate() == null) {
                throw new IllegalArgumentException("a Gemma 2 layer needs its post-attention and post-feed-forward"
                        + " norms and a gated feed-forward");
            }
            if (w.bq() != null || w.bk() != null || w.bv() != null || w.qNorm() != null) {
                throw new IllegalArgumentException("Gemma 2 has no projection biases or per-head norms");
            }
        }
        this.config = config;
        this.weights = weights;
        this.pool = pool;
        this.matmul = new MatMul(pool);
        this.attention = new AttentionTask();
        this.rope = new Rope(config);
        this.embeddingScale = (float) Math.sqrt(config.dim());
        int scaleDim = config.layers() == LAYERS_27B ? config.dim() / config.heads() : config.headDim();
        this.attentionScale = (float) (1.0 / Math.sqrt(scaleDim));
    }

    @Override
    public void forward(StepBatch batch, Float16KvStore kv, float[] logits) {
        int n = batch.rows();
        int logitCount = batch.logitRowCount();
        int[] tokens = batch.tokenArray();
        int[] positions = batch.positionArray();
        int[] slots = batch.slotArray();
        int[][] tables = batch.blockTables();
        int blockSize = kv.blockSize();
        ensureCapacity(Math.max(n, logitCount));
        int dim = config.dim();
        int vocab = config.vocabSize();
        for (int i = 0; i < n; i++) {
            int token = tokens[i];
            if (token < 0 || token >= vocab) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary (0.." + (vocab - 1) + ")");
            }
            if (positions[i] < 0 || positions[i] >= config.contextLength()) {
                throw new IllegalArgumentException("position " + positions[i] + " is outside the context (0.."
                        + (config.contextLength() - 1) + ")");
            }
            int[] table = tables[slots[i]];
            int entry = positions[i] / blockSize;
            if (entry >= table.length || table[entry] < 0 || table[entry] >= kv.blocks()) {
                throw new IllegalArgumentException("slot " + slots[i] + " has no valid block for position "
                        + positions[i]);
            }
            rowBlocks[i] = table[entry];
            rowOffsets[i] = positions[i] % blockSize;
            weights.tokenEmbedding().dequantizeRow(token, x, i * dim);
            for (int j = i * dim; j < (i + 1) * dim; j++) {
                x[j] *= embeddingScale;
            }
            rope.angles(positions[i], ropeCos, ropeSin, i * rope.tableSize());
        }
        for (int l = 0; l < config.layers(); l++) {
            layer(l, weights.layers()[l], n, positions, slots, tables, kv);
        }
        if (logitCount == 0) {
            return;
        }
        int[] logitRows = batch.logitRowArray();
        for (int j = 0; j < logitCount; j++) {
            RmsNorm.apply(xb, j * dim, x, logitRows[j] * dim, weights.outputNorm(), dim, config.rmsEps());
        }
        matmul.multiply(weights.output(), xb, logitCount, logits);
        float cap = config.finalLogitSoftcap();
        if (cap != 0f) {
            for (int i = 0; i < logitCount * vocab; i++) {
                logits[i] = cap * (float) Math.tanh(logits[i] / cap);
            }
        }
    }

    private void layer(int l, LayerWeights w, int n, int[] positions, int[] slots, int[][] tables,
                       Float16KvStore kv) {
        int dim = config.dim();
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        int headDim = config.headDim();
        float eps = config.rmsEps();

        for (int i = 0; i < n; i++) {
            RmsNorm.apply(xb, i * dim, x, i * dim, w.attnNorm(), dim, eps);
        }
        matmul.multiply(xb, n, w.wq(), q, w.wk(), k, w.wv(), v);
        int table = rope.tableSize();
        for (int i = 0; i < n; i++) {
            rope.rotate(q, i * qDim, config.heads(), headDim, ropeCos, ropeSin, i * table);
            rope.rotate(k, i * kvDim, config.kvHeads(), headDim, ropeCos, ropeSin, i * table);
            kv.write(l, rowBlocks[i], rowOffsets[i], k, i * kvDim, v, i * kvDim);
        }
        attention.run(l, n, positions, slots, tables, kv, config.slidingWindow().positionsFor(l));
        matmul.multiply(w.wo(), att, n, xb);
        normAddInto(w.postAttnNorm(), n);

        for (int i = 0; i < n; i++) {
            RmsNorm.apply(xb, i * dim, x, i * dim, w.ffnNorm(), dim, eps);
        }
        matmul.multiply(xb, n, w.gate(), hb, w.up(), hb2, null, null);
        GeluKernel.geluTimes(hb, hb2, n * config.ffnDim());
        matmul.multiply(w.down(), hb, n, xb);
        normAddInto(w.postFfnNorm(), n);
    }

    /** {@code x += norm(xb)} row by row: Gemma 2 normalises each sub-block's output before the residual add. */
    private void normAddInto(float[] weight, int n) {
        int dim = config.dim();
        for (int i = 0; i < n; i++) {
            RmsNorm.apply(xb, i * dim, xb, i * dim, weight, dim, config.rmsEps());
        }
        for (int i = 0; i < n * dim; i++) {
            x[i] += xb[i];
        }
    }

    /** Attention of every token, split across the pool by (token, KV head); reused so a step allocates nothing. */
    private final class AttentionTask implements ComputePool.RangeBody {
        private final Attention.Scratch[] scratch = new Attention.Scratch[pool.threads()];
        private int layer;
        private int[] positions;
        private int[] slots;
        private int[][] tables;
        private Float16KvStore kv;
        private int window;
        private int headsPerItem;

        void run(int layer, int n, int[] positions, int[] slots, int[][] tables, Float16KvStore kv, int window) {
            this.layer = layer;
            this.window = window;
            this.positions = positions;
            this.slots = slots;
            this.tables = tables;
            this.kv = kv;
            // Enough tokens to keep every thread busy: one item per token; otherwise one per (token, KV head).
            this.headsPerItem = n >= 2 * pool.threads() ? config.kvHeads() : 1;
            try {
                pool.parallelFor(n * config.kvHeads() / headsPerItem, this);
            } finally {
                this.positions = null;
                this.slots = null;
                this.tables = null;
                this.kv = null;
            }
        }

        @Override
        public void run(int worker, int from, int to) {
            int kvHeads = config.kvHeads();
            int group = config.heads() / kvHeads;
            int headDim = config.headDim();
            int qDim = config.qDim();
            int perToken = kvHeads / headsPerItem;
            Attention.Scratch work = scratch[worker];
            if (work == null || work.block.length < kv.blockSize() * headDim) {
                work = scratch[worker] = new Attention.Scratch(kv.blockSize(), headDim, config.contextLength(),
                        config.heads());
            }
            for (int item = from; item < to; item++) {
                int i = item / perToken;
                int g = (item % perToken) * headsPerItem;
                int offset = i * qDim + g * group * headDim;
                Attention.heads(q, offset, group, kv, layer, tables[slots[i]], positions[i], g, headsPerItem,
                        attentionScale, window, config.attnLogitSoftcap(), att, offset, work);
            }
        }
    }

    private void ensureCapacity(int n) {
        if (n <= capacity) {
            return;
        }
        int c = Math.max(n, capacity * 2);
        int dim = config.dim();
        x = new float[c * dim];
        xb = new float[c * Math.max(dim, config.qDim())];
        q = new float[c * config.qDim()];
        k = new float[c * config.kvDim()];
        v = new float[c * config.kvDim()];
        att = new float[c * config.qDim()];
        hb = new float[c * config.ffnDim()];
        hb2 = new float[c * config.ffnDim()];
        ropeCos = new float[c * rope.tableSize()];
        ropeSin = new float[c * rope.tableSize()];
        rowBlocks = new int[c];
        rowOffsets = new int[c];
        capacity = c;
    }
}
