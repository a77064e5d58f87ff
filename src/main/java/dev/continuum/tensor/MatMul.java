package dev.continuum.tensor;

import java.util.Arrays;

/**
 * Linear layers over a block of token rows, {@code out[t][r] = dot(W row r, x[t])}, split across a
 * {@link ComputePool} by sets of interleaved rows.
 *
 * <p>One token through a quantized matrix takes the format's fused kernel, which widens each weight in registers
 * on its way to the FMA. Several tokens take the tiled path: each 32-column tile of a set is decoded to floats
 * once into a per-thread scratch buffer and then multiplied by the tokens four at a time ({@link TileKernel}), so
 * the weights cross the memory bus once per step whatever the batch. Rows outside the interleaved sets use the
 * tensor's scalar {@link WeightTensor#dot}. All paths produce the same bits for a row (see {@link WeightTensor}),
 * so a token's outputs do not depend on the batch it came in or on the thread split.
 *
 * <p>Not thread-safe: one caller (the engine thread) at a time. Reusable scratch, no allocation per call.
 */
public final class MatMul implements ComputePool.RangeBody {
    private final ComputePool pool;
    private final float[][] tiles;
    private final float[][] scales;
    private final float[][] partials;
    private final QuantizedActivations quantized = new QuantizedActivations();

    // The current call, read by the pool's threads after the pool publishes the job.
    private WeightTensor w;
    private float[] x;
    private QuantizedActivations qa;
    private int tokens;
    private float[] out;
    private int sets;

    public MatMul(ComputePool pool) {
        this.pool = pool;
        this.tiles = new float[pool.threads()][Interleaving.SET_ROWS * WeightTensor.TILE];
        this.scales = new float[pool.threads()][Interleaving.SET_ROWS];
        this.partials = new float[pool.threads()][4 * Interleaving.SET_ROWS];
    }

    /** One-off convenience for tests and tools; the engine keeps one {@code MatMul} per model. */
    public static void matmul(WeightTensor w, float[] x, int tokens, float[] out, ComputePool pool) {
        new MatMul(pool).multiply(w, x, tokens, out);
    }

    /**
     * For each of {@code tokens} activation rows {@code x[t*w.cols ..]}, writes {@code w.rows} outputs to
     * {@code out[t*w.rows ..]}.
     */
    public void multiply(WeightTensor w, float[] x, int tokens, float[] out) {
        int rows = w.rows();
        int cols = w.cols();
        if (x.length < (long) tokens * cols || out.length < (long) tokens * rows) {
            throw new IllegalArgumentException("matmul of " + tokens + " tokens over " + rows + " x " + cols
                    + " needs x >= " + (long) tokens * cols + " and out >= " + (long) tokens * rows
                    + " floats, got " + x.length + " and " + out.length);
        }
        this.w = w;
        this.x = x;
        this.qa = null;
        if (w.quantizesActivations()) {
            quantized.quantize(x, tokens, cols);
            this.qa = quantized;
        }
        this.tokens = tokens;
        this.out = out;
        this.sets = w.interleavedRows() / Interleaving.SET_ROWS;
        try {
            pool.parallelFor(sets + rows - w.interleavedRows(), this);
        } finally {
            this.w = null;
            this.x = null;
            this.qa = null;
            this.out = null;
        }
    }

    /** Pool callback: units {@code [from, to)} are sets of interleaved rows, then single row-major rows. */
    @Override
    public void run(int worker, int from, int to) {
        for (int unit = from; unit < to; unit++) {
            if (unit < sets) {
                multiplySet(worker, unit);
            } else {
                int row = w.interleavedRows() + unit - sets;
                for (int t = 0; t < tokens; t++) {
                    out[t * w.rows() + row] = w.dotRow(row, x, t * w.cols(), qa, t);
                }
            }
        }
    }

    private void multiplySet(int worker, int set) {
        int rows = w.rows();
        int cols = w.cols();
        int firstRow = set * Interleaving.SET_ROWS;
        if (tokens == 1 && w.hasSingleTokenKernel()) {
            w.multiplySingle(set, x, qa, out, firstRow, scales[worker]);
            return;
        }
        float[] tile = tiles[worker];
        float[] scale = scales[worker];
        float[] partial = partials[worker];
        float[] s = w.scaleBytes() > 0 ? scale : null;
        float[] xs = qa != null ? qa.values : x;
        float[] ts = qa != null ? qa.scales : null;
        int tileCount = cols / WeightTensor.TILE;
        for (int t = 0; t < tokens; t++) {
            Arrays.fill(out, t * rows + firstRow, t * rows + firstRow + Interleaving.SET_ROWS, 0f);
        }
        for (int b = 0; b < tileCount; b++) {
            w.decodeSetTile(set, b, tile, scale);
            int xCol = b * WeightTensor.TILE;
            int t = 0;
            for (; t + 4 <= tokens; t += 4) {
                TileKernel.four(tile, s, xs, t * cols + xCol, cols, out, t * rows + firstRow, rows, partial,
                        ts, t * tileCount + b, tileCount);
            }
            for (; t < tokens; t++) {
                TileKernel.one(tile, s, xs, t * cols + xCol, out, t * rows + firstRow, partial, ts, t * tileCount + b);
            }
        }
    }
}
