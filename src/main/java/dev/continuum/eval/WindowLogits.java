package dev.continuum.eval;

import dev.continuum.kvcache.BlockManager;
import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;

/**
 * Runs one model over perplexity windows, llama.cpp's way: a window is {@code ctx} consecutive tokens of the text
 * with its first token replaced by BOS (when the vocabulary adds one), fed from position 0 in chunks of up to
 * {@code batch} tokens, one forward pass each. Only the rows that are scored come back: positions
 * {@code ctx/2 .. ctx-2}, each predicting the token after it.
 *
 * <p>The KV storage is allocated once for one sequence of {@code ctx} positions; every window rewrites it from
 * position 0, and since a row attends only to positions up to its own, the previous window's entries are never
 * read. The batch and the logits buffer are reused from window to window.
 */
public final class WindowLogits {
    private final ModelRunner runner;
    private final int ctx;
    private final int batchSize;
    private final int vocab;
    private final int bosId;
    private final StepBatch batch;
    private final float[] logits;
    private boolean tablesSent;

    /**
     * @param bosId the token that starts every window, or -1 to keep the text's own first token
     * @throws IllegalArgumentException when the window does not fit the model's context
     */
    public WindowLogits(ModelRunner runner, int ctx, int batchSize, int bosId) {
        int contextLength = runner.shape().contextLength();
        if (ctx < 4 || ctx > contextLength) {
            throw new IllegalArgumentException("a window of " + ctx + " tokens: it must be at least 4 and at most the"
                    + " model's context of " + contextLength);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("a batch of " + batchSize + " tokens");
        }
        this.runner = runner;
        this.ctx = ctx;
        this.batchSize = Math.min(batchSize, ctx);
        this.vocab = runner.shape().vocabSize();
        this.bosId = bosId;
        int blockSize = Math.min(16, ctx);
        BlockManager blocks = new BlockManager((ctx + blockSize - 1) / blockSize, blockSize, 1, ctx);
        blocks.reserve(0, ctx);
        runner.allocateKvCache(blocks.totalBlocks(), blockSize);
        this.batch = new StepBatch(this.batchSize, this.batchSize, blocks.tables(), blockSize);
        this.logits = new float[Math.multiplyExact(scoredRows(ctx), vocab)];
    }

    /** Rows scored per window: positions {@code ctx/2 .. ctx-2}, as llama.cpp's {@code n_ctx - 1 - n_ctx/2}. */
    public static int scoredRows(int ctx) {
        return ctx - 1 - ctx / 2;
    }

    /** Position of a window's first scored row. */
    public static int firstScored(int ctx) {
        return ctx / 2;
    }

    public int vocabSize() {
        return vocab;
    }

    /**
     * Runs the window {@code tokens[start .. start + ctx)} and returns the logits of its scored rows, row after row
     * ({@link #scoredRows} rows of {@link #vocabSize} floats): row {@code r} predicts token
     * {@code tokens[start + ctx/2 + r + 1]}. The buffer is this object's, overwritten by the next call.
     */
    public float[] run(int[] tokens, int start) {
        int first = firstScored(ctx);
        int last = ctx - 2;
        int filled = 0;
        for (int chunk = 0; chunk < ctx; chunk += batchSize) {
            int end = Math.min(ctx, chunk + batchSize);
            batch.clear();
            if (!tablesSent) {
                batch.markTableChanged(0);
                tablesSent = true;
            }
            for (int p = chunk; p < end; p++) {
                int token = p == 0 && bosId >= 0 ? bosId : tokens[start + p];
                int row = batch.addRow(token, p, 0);
                if (p >= first && p <= last) {
                    batch.requestLogits(row);
                }
            }
            StepOutput out = runner.forward(batch);
            int n = out.rows() * vocab;
            System.arraycopy(out.logits(), 0, logits, filled, n);
            filled += n;
        }
        return logits;
    }
}
