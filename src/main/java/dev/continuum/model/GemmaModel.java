package dev.continuum.model;

import dev.continuum.runner.StepBatch;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.MatMul;

/**
 * Gemma 2's and Gemma 3's forward pass, as llama.cpp computes them ({@code build_gemma2}, {@code build_gemma3}),
 * over a flattened batch of tokens (any mix of prefill chunks and decode tokens of different sequences, each
 * attending to its own sequence's cache):
 * <ul>
 *   <li>the token embedding scaled by {@code sqrt(dim)} (in float, as {@code sqrtf});</li>
 *   <li>RMSNorms with the weights as the file stores them (llama.cpp's converter has already added Gemma's 1 to
 *   each), before attention and the feed-forward and again on each of their outputs, before the residual add;</li>
 *   <li>Gemma 3 only: each head's query and key RMS-normalised over the head size before rotation;</li>
 *   <li>NEOX rotation of queries and keys: Gemma 2 at the file's base in every layer; Gemma 3's windowed layers at
 *   base {@value #GEMMA3_LOCAL_BASE} unscaled, its global ones at the file's base and scaling;</li>
 *   <li>the queries scaled by {@code 1/sqrt(headDim)}, or for the 27B shapes (Gemma 2's 46 layers, Gemma 3's 62)
 *   by {@code 1/sqrt(dim/heads)}, as llama.cpp picks the scale by model size (Hugging Face's
 *   {@code query_pre_attn_scalar});</li>
 *   <li>Gemma 2 only: attention scores soft-capped ({@code c tanh(s/c)}) before the softmax; windowed layers
 *   ({@link SlidingWindow#positionsFor}): Gemma 2's even ones, Gemma 3's all but every sixth;</li>
 *   <li>GeGLU feed-forward, {@code down(gelu(gate x) * up x)} with the tanh GELU ({@link GeluKernel});</li>
 *   <li>the final norm, the output matrix (tied to the embedding for Gemma 2), and, where the config sets a final
 *   cap (Gemma 2), the logits soft-capped the same way.</li>
 * </ul>
 *
 * <p>Not thread-safe: one caller (the engine thread) runs it; the work inside is split across the pool.
 */
final class GemmaModel implements Transformer {
    /** Gemma 3's windowed layers rotate at this base, unscaled (llama.cpp's rope_freq_base_train_swa, HF's rope_local_base_freq). */
    static final float GEMMA3_LOCAL_BASE = 10000f;
    /** llama.cpp's Gemma 2 27B and Gemma 3 27B, the shapes whose queries are scaled by dim / heads, not the head size. */
    private static final int GEMMA2_LAYERS_27B = 46;
    private static final int GEMMA3_LAYERS_27B = 62;

    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final ComputePool pool;
    private final MatMul matmul;
    private final PooledAttention attention;
    private final Rope rope;
    /** The windowed layers' rotation: Gemma 3's own, Gemma 2's the same as the global layers'. */
    private final Rope localRope;
    private final boolean gemma3;
    private final float embeddingScale;

    // Scratch buffers sized for the largest batch seen so far; reused across steps.
    private final StepBuffers buffers;
    private float[] hb;
    private float[] hb2;
    private float[] ropeCos;
    private float[] ropeSin;
    private float[] localCos;
    private float[] localSin;

    GemmaModel(LlamaConfig config, LlamaWeights weights, ComputePool pool) {
        this.gemma3 = switch (config.architecture()) {
            case GEMMA2 -> false;
            case GEMMA3 -> true;
            default -> throw new IllegalArgumentException("the Gemma block computes gemma2 and gemma3, not "
                    + config.architecture());
        };
        if (config.expertCount() != 0) {
            throw new IllegalArgumentException("Gemma has no experts");
        }
        for (LayerWeights w : weights.layers()) {
            if (w.postAttnNorm() == null || w.postFfnNorm() == null || w.gate() == null) {
                throw new IllegalArgumentException("a Gemma layer needs its post-attention and post-feed-forward"
                        + " norms and a gated feed-forward");
            }
            if (w.bq() != null || w.bk() != null || w.bv() != null) {
                throw new IllegalArgumentException("Gemma has no projection biases");
            }
            if ((w.qNorm() != null) != gemma3 || (w.kNorm() != null) != gemma3) {
                throw new IllegalArgumentException(gemma3 ? "a Gemma 3 layer needs its per-head query and key norms"
                        : "Gemma 2 has no per-head query and key norms");
            }
        }
        this.config = config;
        this.buffers = new StepBuffers(config);
        this.weights = weights;
        this.pool = pool;
        this.matmul = new MatMul(pool);
        this.rope = new Rope(config);
        this.localRope = gemma3 ? new Rope(localRotation(config)) : rope;
        this.embeddingScale = (float) Math.sqrt(config.dim());
        boolean big = config.layers() == (gemma3 ? GEMMA3_LAYERS_27B : GEMMA2_LAYERS_27B);
        int scaleDim = big ? config.dim() / config.heads() : config.headDim();
        this.attention = new PooledAttention(config, pool, (float) (1.0 / Math.sqrt(scaleDim)));
    }

    /** Gemma 3's windowed layers' rotation: the config's at base {@value #GEMMA3_LOCAL_BASE}, without scaling. */
    private static LlamaConfig localRotation(LlamaConfig c) {
        return new LlamaConfig(c.architecture(), c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffnDim(),
                c.vocabSize(), c.contextLength(), c.rmsEps(), GEMMA3_LOCAL_BASE, c.ropeDims(), c.ropeType(),
                RopeScaling.NONE, c.slidingWindow(), c.attnLogitSoftcap(), c.finalLogitSoftcap(), c.expertCount(),
                c.expertsUsed());
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
        int vocab = config.vocabSize();
        StepRows.locate(batch, kv, config, rowBlocks, rowOffsets);
        for (int i = 0; i < n; i++) {
            int token = tokens[i];
            weights.tokenEmbedding().dequantizeRow(token, x, i * dim);
            for (int j = i * dim; j < (i + 1) * dim; j++) {
                x[j] *= embeddingScale;
            }
            rope.angles(positions[i], ropeCos, ropeSin, i * rope.tableSize());
            if (localRope != rope) {
                localRope.angles(positions[i], localCos, localSin, i * rope.tableSize());
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
        if (w.qNorm() != null) {
            // Gemma 3: each head's query and key RMS-normalised over the head before rotation.
            for (int i = 0; i < n * config.heads(); i++) {
                RmsNorm.apply(q, i * headDim, q, i * headDim, w.qNorm(), headDim, eps);
            }
            for (int i = 0; i < n * config.kvHeads(); i++) {
                RmsNorm.apply(k, i * headDim, k, i * headDim, w.kNorm(), headDim, eps);
            }
        }
        int window = config.slidingWindow().positionsFor(l);
        boolean local = window != Integer.MAX_VALUE;
        Rope r = local ? localRope : rope;
        float[] cos = local && localRope != rope ? localCos : ropeCos;
        float[] sin = local && localRope != rope ? localSin : ropeSin;
        int table = rope.tableSize();
        for (int i = 0; i < n; i++) {
            r.rotate(q, i * qDim, config.heads(), headDim, cos, sin, i * table);
            r.rotate(k, i * kvDim, config.kvHeads(), headDim, cos, sin, i * table);
            kv.write(l, rowBlocks[i], rowOffsets[i], k, i * kvDim, v, i * kvDim);
        }
        attention.run(l, n, q, att, positions, slots, tables, kv, window);
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

    /** {@code x += norm(xb)} row by row: Gemma normalises each sub-block's output before the residual add. */
    private void normAddInto(float[] weight, int n) {
        float[] x = buffers.x;
        float[] xb = buffers.xb;
        int dim = config.dim();
        for (int i = 0; i < n; i++) {
            RmsNorm.apply(xb, i * dim, xb, i * dim, weight, dim, config.rmsEps());
        }
        RowAdd.into(x, xb, n * dim);
    }

    private void ensureCapacity(int n) {
        if (!buffers.ensure(n)) {
            return;
        }
        int c = buffers.capacity();
        hb = new float[c * config.ffnDim()];
        hb2 = new float[c * config.ffnDim()];
        ropeCos = new float[c * rope.tableSize()];
        ropeSin = new float[c * rope.tableSize()];
        localCos = localRope != rope ? new float[c * rope.tableSize()] : null;
        localSin = localRope != rope ? new float[c * rope.tableSize()] : null;
    }
}
