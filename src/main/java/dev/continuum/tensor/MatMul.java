package dev.continuum.tensor;

/** Linear layers over a block of token rows: {@code out[t][r] = dot(W row r, x[t])}. */
public final class MatMul {
    private MatMul() {
    }

    /**
     * For each of {@code tokens} activation rows {@code x[t*w.cols ..]}, writes {@code w.rows} outputs to
     * {@code out[t*w.rows ..]}. Each output element is one {@link WeightTensor#dot} call, whose bits depend only on
     * the weight row and that token's activations, so a sequence's results do not depend on what else shares the
     * batch or on how the rows are split across threads.
     */
    public static void matmul(WeightTensor w, float[] x, int tokens, float[] out, ComputePool pool) {
        int rows = w.rows();
        int cols = w.cols();
        if (x.length < (long) tokens * cols || out.length < (long) tokens * rows) {
            throw new IllegalArgumentException("matmul of " + tokens + " tokens over " + rows + " x " + cols
                    + " needs x >= " + (long) tokens * cols + " and out >= " + (long) tokens * rows
                    + " floats, got " + x.length + " and " + out.length);
        }
        pool.parallelFor(rows, (from, to) -> {
            // Row-major over the weights: a row streamed in from memory stays in L1 while every token uses it,
            // so a batch costs one pass over the weights rather than one per token.
            for (int r = from; r < to; r++) {
                for (int t = 0; t < tokens; t++) {
                    out[t * rows + r] = w.dot(r, x, t * cols);
                }
            }
        });
    }
}
