package dev.continuum.model;

import dev.continuum.runner.StepBatch;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.MatMul;
import dev.continuum.tensor.WeightTensor;

/**
 * The Llama block's forward pass (Llama, Mistral, Qwen2's biases, Qwen3's per-head query and key norms, Mixtral's
 * mixture of experts as its {@link FeedForward}) over a
 * flattened batch of tokens: any mix of prefill chunks and single decode tokens from different sequences, each
 * token at its own position, attending to its own sequence's keys and values (within the sliding window where the
 * file sets one). Logits are produced only for the rows asked for.
 *
 * <p>Not thread-safe: one caller (the engine thread) runs it; the work inside is split across the pool.
 */
final class LlamaModel implements Transformer {
    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final ComputePool pool;
    private final MatMul matmul;
    private final PooledAttention attention;
    private final FeedForward feedForward;
    private final Rope rope;

    // Scratch buffers sized for the largest batch seen so far; reused across steps.
    private final StepBuffers buffers;
    private float[] ropeCos;
    private float[] ropeSin;

    LlamaModel(LlamaConfig config, LlamaWeights weights, ComputePool pool) {
        if (config.attnLogitSoftcap() != 0 || config.finalLogitSoftcap() != 0) {
            throw new IllegalArgumentException("the Llama block does not compute soft-capping ("
                    + config.architecture() + ")");
        }
        this.config = config;
        this.buffers = new StepBuffers(config);
        this.weights = weights;
        this.pool = pool;
        this.matmul = new MatMul(pool);
        this.attention = new PooledAttention(config, pool, (float) (1.0 / Math.sqrt(config.headDim())));
        this.feedForward = FeedForward.of(config, weights, matmul);
        this.rope = new Rope(config);
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaWeights weights() {
        return weights;
    }

    @Override
    public void forward(StepBatch batch, Float16KvStore kv, float[] logits) {
        int n = batch.rows();
        int logitCount = batch.logitRowCount();
        int[] tokens = batch.tokenArray();
        int[] positions = batch.positionArray();
        int[] slots = batch.slotArray();
        int[][] tables = batch.blockTables();
        ensureCapacity(Math.max(n, logitCount));
        float[] x = buffers.x;
        float[] xb = buffers.xb;
        int[] rowBlocks = buffers.rowBlocks;
        int[] rowOffsets = buffers.rowOffsets;
        int dim = config.dim();
        StepRows.locate(batch, kv, config, rowBlocks, rowOffsets);
        for (int i = 0; i < n; i++) {
            int token = tokens[i];
            weights.tokenEmbedding().dequantizeRow(token, x, i * dim);
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
    }

    private void layer(int l, LayerWeights w, int n, int[] positions, int[] slots, int[][] tables,
                       Float16KvStore kv) {
        float[] x = buffers.x;
        float[] xb = buffers.xb;
        float[] q = buffers.q;
        float[] k = buffers.k;
        float[] v = buffers.v;
        float[] att = buffers.att;
        int[] rowBlocks = buffers.rowBlocks;
        int[] rowOffsets = buffers.rowOffsets;
        int dim = config.dim();
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        int headDim = config.headDim();
        float eps = config.rmsEps();

        for (int i = 0; i < n; i++) {
            RmsNorm.apply(xb, i * dim, x, i * dim, w.attnNorm(), dim, eps);
        }
        matmul.multiply(xb, n, w.wq(), q, w.wk(), k, w.wv(), v);
        RowAdd.bias(q, w.bq(), n, qDim);
        RowAdd.bias(k, w.bk(), n, kvDim);
        RowAdd.bias(v, w.bv(), n, kvDim);
        if (w.qNorm() != null) {
            // Qwen3: each head's query and key RMS-normalised over the head before rotation.
            for (int i = 0; i < n * config.heads(); i++) {
                RmsNorm.apply(q, i * headDim, q, i * headDim, w.qNorm(), headDim, eps);
            }
            for (int i = 0; i < n * config.kvHeads(); i++) {
                RmsNorm.apply(k, i * headDim, k, i * headDim, w.kNorm(), headDim, eps);
            }
        }

        int table = rope.tableSize();
        for (int i = 0; i < n; i++) {
            rope.rotate(q, i * qDim, config.heads(), headDim, ropeCos, ropeSin, i * table);
            rope.rotate(k, i * kvDim, config.kvHeads(), headDim, ropeCos, ropeSin, i * table);
            kv.write(l, rowBlocks[i], rowOffsets[i], k, i * kvDim, v, i * kvDim);
        }

        attention.run(l, n, q, att, positions, slots, tables, kv, config.slidingWindow().positionsFor(l));
        matmul.multiply(w.wo(), att, n, xb);
        RowAdd.into(x, xb, n * dim);

        for (int i = 0; i < n; i++) {
            RmsNorm.apply(xb, i * dim, x, i * dim, w.ffnNorm(), dim, eps);
        }
        feedForward.addTo(w, xb, n, x);
    }

    private void ensureCapacity(int n) {
        if (!buffers.ensure(n)) {
            return;
        }
        int c = buffers.capacity();
        ropeCos = new float[c * rope.tableSize()];
        ropeSin = new float[c * rope.tableSize()];
    }
}
