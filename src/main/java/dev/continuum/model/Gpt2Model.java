package dev.continuum.model;

import dev.continuum.runner.StepBatch;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.MatMul;

/**
 * GPT-2's forward pass (llama.cpp's {@code build_gpt2}) over a flattened batch of tokens, each at its own position
 * in its own sequence:
 * <pre>
 *   x = token_embd[token] + position_embd[pos]                 learned absolute positions, no rotation
 *   per layer:  h = LayerNorm(x) * w + b
 *               q, k, v = h Wq + bq, h Wk + bk, h Wv + bv       the file's fused attn_qkv, split at load
 *               x += softmax(q k^T / sqrt(head)) v Wo + bo      causal, every position
 *               h = LayerNorm(x) * w + b
 *               x += gelu(h Wup + bup) Wdown + bdown           tanh GELU, no gate
 *   logits = (LayerNorm(x) * w + b) Wout                       Wout: the token embedding when tied
 * </pre>
 * Not thread-safe: one caller (the engine thread) runs it; the work inside is split across the pool.
 */
final class Gpt2Model implements Transformer {
    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final MatMul matmul;
    private final PooledAttention attention;

    // Scratch buffers sized for the largest batch seen so far; reused across steps.
    private final StepBuffers buffers;
    private float[] hb;
    private float[] position;

    Gpt2Model(LlamaConfig config, LlamaWeights weights, ComputePool pool) {
        if (weights.positionEmbedding() == null || weights.outputNormBias() == null) {
            throw new IllegalArgumentException("GPT-2 needs position embeddings and the final norm's bias");
        }
        if (weights.positionEmbedding().rows() < config.contextLength()
                || weights.positionEmbedding().cols() != config.dim()) {
            throw new IllegalArgumentException("GPT-2's position embeddings are " + weights.positionEmbedding().rows()
                    + " x " + weights.positionEmbedding().cols() + " for a context of " + config.contextLength()
                    + " and width " + config.dim());
        }
        for (LayerWeights w : weights.layers()) {
            if (w.attnNormBias() == null || w.ffnNormBias() == null || w.bq() == null || w.bk() == null
                    || w.bv() == null || w.bo() == null || w.upBias() == null || w.downBias() == null
                    || w.gate() != null) {
                throw new IllegalArgumentException("a GPT-2 layer has norm, projection and feed-forward biases and"
                        + " no gate");
            }
        }
        if (config.kvHeads() != config.heads() || config.slidingWindow().size() != 0
                || config.attnLogitSoftcap() != 0 || config.finalLogitSoftcap() != 0 || config.expertCount() != 0) {
            throw new IllegalArgumentException("GPT-2 attends with every head to every position, without soft-caps"
                    + " or experts");
        }
        this.config = config;
        this.buffers = new StepBuffers(config);
        this.weights = weights;
        this.matmul = new MatMul(pool);
        this.attention = new PooledAttention(config, pool, (float) (1.0 / Math.sqrt(config.headDim())));
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
            weights.positionEmbedding().dequantizeRow(positions[i], position, 0);
            for (int j = 0; j < dim; j++) {
                x[i * dim + j] += position[j];
            }
        }
        for (int l = 0; l < config.layers(); l++) {
            layer(l, weights.layers()[l], n, positions, slots, tables, kv);
        }
        if (logitCount == 0) {
            return;
        }
        int[] logitRows = batch.logitRowArray();
        for (int j = 0; j < logitCount; j++) {
            LayerNorm.apply(xb, j * dim, x, logitRows[j] * dim, weights.outputNorm(), weights.outputNormBias(), dim,
                    config.rmsEps());
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
        int kvDim = config.kvDim();
        float eps = config.rmsEps();

        for (int i = 0; i < n; i++) {
            LayerNorm.apply(xb, i * dim, x, i * dim, w.attnNorm(), w.attnNormBias(), dim, eps);
        }
        matmul.multiply(xb, n, w.wq(), q, w.wk(), k, w.wv(), v);
        RowAdd.bias(q, w.bq(), n, config.qDim());
        RowAdd.bias(k, w.bk(), n, kvDim);
        RowAdd.bias(v, w.bv(), n, kvDim);
        for (int i = 0; i < n; i++) {
            kv.write(l, rowBlocks[i], rowOffsets[i], k, i * kvDim, v, i * kvDim);
        }
        attention.run(l, n, q, att, positions, slots, tables, kv, Integer.MAX_VALUE);
        matmul.multiply(w.wo(), att, n, xb);
        RowAdd.bias(xb, w.bo(), n, dim);
        RowAdd.into(x, xb, n * dim);

        for (int i = 0; i < n; i++) {
            LayerNorm.apply(xb, i * dim, x, i * dim, w.ffnNorm(), w.ffnNormBias(), dim, eps);
        }
        int ffn = config.ffnDim();
        matmul.multiply(w.up(), xb, n, hb);
        RowAdd.bias(hb, w.upBias(), n, ffn);
        GeluKernel.apply(hb, n * ffn);
        matmul.multiply(w.down(), hb, n, xb);
        RowAdd.bias(xb, w.downBias(), n, dim);
        RowAdd.into(x, xb, n * dim);
    }

    private void ensureCapacity(int n) {
        if (!buffers.ensure(n)) {
            return;
        }
        int c = buffers.capacity();
        int dim = config.dim();
        hb = new float[c * config.ffnDim()];
        position = new float[dim];
    }
}
