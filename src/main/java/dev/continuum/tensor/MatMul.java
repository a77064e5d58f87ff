package dev.continuum.tensor;

/** Linear layers over a block of token rows: {@code out[t][r] = dot(W row r, x[t])}. */
public final class MatMul {
    private MatMul() {
    }

    /**
     * For each of {@code tokens} activation rows {@code x[t*w.cols ..]}, writes {@code w.rows} outputs to
     * {@code out[t*w.rows ..]}. Each output element is computed the same way whatever {@code tokens} is, so a
     * sequence's results do not depend on what else shares the batch.
     */
    public static void matmul(WeightTensor w, float[] x, int tokens, float[] out, ComputePool pool) {
        int rows = w.rows();
        int cols = w.cols();
        pool.parallelFor(rows, (from, to) -> {
            for (int t = 0; t < tokens; t++) {
                int xo = t * cols;
                int oo = t * rows;
                for (int r = from; r < to; r++) {
                    out[oo + r] = w.dot(r, x, xo);
                }
            }
        });
    }
}
