package dev.continuum.model;

/**
 * The per-row activations every forward pass keeps for a step, one row per batch row: the residual stream
 * {@code x}, a normed or projected copy {@code xb} (as wide as the wider of dim and the queries), queries, keys,
 * values and the attention output, and where each row's keys and values go in the cache. Sized for the largest
 * batch seen so far (doubling), reused across steps, so a step allocates nothing once that batch has been met.
 */
final class StepBuffers {
    private final LlamaConfig config;
    private int capacity;
    float[] x;
    float[] xb;
    float[] q;
    float[] k;
    float[] v;
    float[] att;
    int[] rowBlocks;
    int[] rowOffsets;

    StepBuffers(LlamaConfig config) {
        this.config = config;
    }

    /**
     * Makes room for {@code n} rows; true when the buffers were reallocated (to {@link #capacity()} rows), so that a
     * pass grows its own buffers with them.
     */
    boolean ensure(int n) {
        if (n <= capacity) {
            return false;
        }
        int c = Math.max(n, capacity * 2);
        int dim = config.dim();
        x = new float[c * dim];
        xb = new float[c * Math.max(dim, config.qDim())];
        q = new float[c * config.qDim()];
        k = new float[c * config.kvDim()];
        v = new float[c * config.kvDim()];
        att = new float[c * config.qDim()];
        rowBlocks = new int[c];
        rowOffsets = new int[c];
        capacity = c;
        return true;
    }

    /** Rows the buffers hold. */
    int capacity() {
        return capacity;
    }
}
