package dev.continuum.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Linear layers over a block of token rows, {@code out[t][r] = dot(W row r, x[t])}, split across a
 * {@link ComputePool} by sets of interleaved rows.
 *
 * <p>What a format offers beyond the tiled path is read from its table, {@link FormatKernels}. One token through a
 * quantized or 16-bit matrix takes the format's fused kernel, which widens each weight in registers on its way to
 * the FMA; formats with fused kernels for two and six tokens take them for decode batches (and, with six, for
 * prompts too), each widened weight vector serving every token of the group. Otherwise several tokens
 * take the tiled path: each 32-column tile of a set is decoded to floats
 * once into a per-thread scratch buffer and then multiplied by the tokens four at a time ({@link TileKernel}), so
 * the weights cross the memory bus once per step whatever the batch. Rows outside the interleaved sets use the
 * tensor's scalar {@link WeightTensor#dot}. All paths produce the same bits for a row (see {@link WeightTensor}),
 * so a token's outputs do not depend on the batch it came in or on the thread split.
 *
 * <p>Not thread-safe: one caller (the engine thread) at a time. Reusable scratch, no allocation per call.
 */
public final class MatMul implements ComputePool.RangeBody {
    /**
     * Below this many multiply-adds a job runs on the calling thread alone: waking the pool's threads and waiting
     * for them costs some microseconds, as much as one thread spends on about 10^5 multiply-adds (a 64-wide model's
     * whole layer). The split never changes a row's bits (each row's sum has a fixed order), only who computes it.
     */
    static final long SERIAL_MACS = 1L << 16;

    /**
     * Spare elements at the end of each per-thread scratch array, so that no cache line holds data two threads
     * write: such a line moves between the cores on every write, and whether two arrays share one depends on where
     * the allocator (and later the GC) put them, which made whole processes run far slower at random (see
     * PERFORMANCE.md, "What limits the rest").
     */
    private static final int PAD = 32;

    private final ComputePool pool;
    private final float[][] tiles;
    private final float[][] scales;
    private final float[][] partials;
    private final short[][] shortTiles;
    private final short[][] shortSums;
    private final float[][] setSums;
    /** Per-thread scratch of the row kernels of row-major formats ({@link FormatKernels#rowTokens}). */
    private final RowScratch[] rowScratch;
    private final QuantizedActivations quantized = new QuantizedActivations();
    /** The quantized activations off the heap, for native set kernels; filled only when a matrix has one. */
    private final NativeActivations nativeActivations = new NativeActivations();
    /** Per-thread output scratch of the native set kernels (tokens x SET_ROWS floats), grown as needed. */
    private final MemorySegment[] nativeOut;
    private NativeActivations na;

    // The current call, read by the pool's threads after the pool publishes the job: up to three matrices that
    // multiply the same activations, their units numbered one after the other.
    private final WeightTensor[] ws = new WeightTensor[3];
    private final float[][] outs = new float[3][];
    private final int[] firstUnit = new int[4];
    private int count;
    private float[] x;
    private QuantizedActivations qa;
    private int tokens;

    public MatMul(ComputePool pool) {
        this.pool = pool;
        this.tiles = new float[pool.threads()][Interleaving.SET_ROWS * WeightTensor.TILE + PAD];
        this.scales = new float[pool.threads()][Interleaving.SET_ROWS + PAD];
        this.partials = new float[pool.threads()][4 * Interleaving.SET_ROWS + PAD];
        this.shortTiles = new short[pool.threads()][Interleaving.SET_ROWS * WeightTensor.TILE + 2 * PAD];
        this.shortSums = new short[pool.threads()][ShortTileKernel.TOKENS * Interleaving.SET_ROWS + 2 * PAD];
        this.setSums = new float[pool.threads()][0];
        this.rowScratch = new RowScratch[pool.threads()];
        for (int i = 0; i < rowScratch.length; i++) {
            rowScratch[i] = new RowScratch();
        }
        this.nativeOut = new MemorySegment[pool.threads()];
        java.util.Arrays.fill(nativeOut, MemorySegment.NULL);
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
        multiply(x, tokens, w, out, null, null, null, null);
    }

    /**
     * Two or three matrices of the same width applied to the same activations (a layer's query, key and value
     * projections, or its gate and up projections) as one job: the activations are quantized once, and the
     * threads share out the rows of all of them, so none waits at a barrier between them. {@code w3} may be null.
     */
    public void multiply(float[] x, int tokens, WeightTensor w1, float[] out1, WeightTensor w2, float[] out2,
                         WeightTensor w3, float[] out3) {
        count = 0;
        add(w1, out1, x, tokens);
        if (w2 != null) {
            add(w2, out2, x, tokens);
        }
        if (w3 != null) {
            add(w3, out3, x, tokens);
        }
        this.x = x;
        this.tokens = tokens;
        this.qa = null;
        this.na = null;
        for (int m = 0; m < count; m++) {
            if (ws[m].kernels().activations() == FormatKernels.Activations.QUANTIZED) {
                quantized.quantize(x, tokens, w1.cols());
                this.qa = quantized;
                break;
            }
        }
        boolean quantizedCopied = false;
        boolean floatsCopied = false;
        for (int m = 0; m < count; m++) {
            FormatKernels k = ws[m].kernels();
            if (k.allTokens() == null) {
                continue;
            }
            if (k.activations() == FormatKernels.Activations.QUANTIZED && !quantizedCopied) {
                nativeActivations.copyFrom(quantized, tokens);
                quantizedCopied = true;
            } else if (k.activations() == FormatKernels.Activations.FLOAT && !floatsCopied) {
                nativeActivations.copyFloats(x, tokens * w1.cols());
                floatsCopied = true;
            }
            this.na = nativeActivations;
        }
        try {
            long macs = 0;
            for (int m = 0; m < count; m++) {
                macs += (long) ws[m].rows() * ws[m].cols() * tokens;
            }
            if (macs < SERIAL_MACS) {
                run(0, 0, firstUnit[count]); // less work than waking the other threads costs
            } else {
                pool.parallelFor(firstUnit[count], this);
            }
        } finally {
            for (int m = 0; m < count; m++) {
                ws[m] = null;
                outs[m] = null;
            }
            this.x = null;
            this.qa = null;
            this.na = null;
        }
    }

    private void add(WeightTensor w, float[] out, float[] x, int tokens) {
        int rows = w.rows();
        int cols = w.cols();
        if (count > 0 && cols != ws[0].cols()) {
            throw new IllegalArgumentException("matrices multiplied together must have the same width, got "
                    + ws[0].cols() + " and " + cols);
        }
        if (x.length < (long) tokens * cols || out.length < (long) tokens * rows) {
            throw new IllegalArgumentException("matmul of " + tokens + " tokens over " + rows + " x " + cols
                    + " needs x >= " + (long) tokens * cols + " and out >= " + (long) tokens * rows
                    + " floats, got " + x.length + " and " + out.length);
        }
        ws[count] = w;
        outs[count] = out;
        int sets = w.interleavedRows() / Interleaving.SET_ROWS;
        firstUnit[count + 1] = firstUnit[count] + sets + rows - w.interleavedRows();
        count++;
    }

    /**
     * Pool callback: unit numbers run over the matrices in turn; within a matrix, sets of interleaved rows come
     * first, then single row-major rows.
     */
    @Override
    public void run(int worker, int from, int to) {
        int m = 0;
        for (int unit = from; unit < to; unit++) {
            while (unit >= firstUnit[m + 1]) {
                m++;
            }
            WeightTensor w = ws[m];
            float[] out = outs[m];
            int local = unit - firstUnit[m];
            int sets = w.interleavedRows() / Interleaving.SET_ROWS;
            if (local < sets) {
                multiplySet(worker, w, out, local);
            } else {
                int row = w.interleavedRows() + local - sets;
                FormatKernels.RowKernel rowKernel = w.kernels().rowTokens();
                if (rowKernel != null) {
                    rowKernel.multiply(row, x, qa, tokens, out, row, w.rows(), rowScratch[worker]);
                    continue;
                }
                for (int t = 0; t < tokens; t++) {
                    out[t * w.rows() + row] = w.dotRow(row, x, t * w.cols(), qa, t);
                }
            }
        }
    }

    private void multiplySet(int worker, WeightTensor w, float[] out, int set) {
        int rows = w.rows();
        int cols = w.cols();
        int firstRow = set * Interleaving.SET_ROWS;
        FormatKernels k = w.kernels();
        if (k.allTokens() != null) {
            k.allTokens().multiply(set, tokens, na, nativeOut(worker), out, firstRow, rows);
            return;
        }
        // Widening weights in registers once per group of tokens measured faster than decoding tiles to memory
        // for a decode batch; up to how many tokens is each format's own measured bound
        // (FormatKernels.fusedTokensBelow; figures in PERFORMANCE.md, "Kernel design choices measured").
        if (k.fuses(tokens)) {
            float[] scratch = scales[worker];
            int t = 0;
            FormatKernels.TokenGroupKernel six = k.six();
            if (six != null) {
                for (; t + 6 <= tokens; t += 6) {
                    six.multiply(set, x, qa, t, out, t * rows + firstRow, rows, scratch);
                }
            }
            FormatKernels.TokenGroupKernel pair = k.pair();
            for (; t + 2 <= tokens; t += 2) {
                pair.multiply(set, x, qa, t, out, t * rows + firstRow, rows, scratch);
            }
            if (t < tokens) {
                k.single().multiply(set, x, qa, t, out, t * rows + firstRow, scratch);
            }
            return;
        }
        QuantizedActivations q = k.activations() == FormatKernels.Activations.QUANTIZED ? qa : null;
        float[] tile = tiles[worker];
        float[] scale = scales[worker];
        float[] partial = partials[worker];
        float[] s = w.scaleBytes() > 0 ? scale : null;
        float[] xs = q != null ? q.values : x;
        float[] ts = q != null ? q.scales : null;
        int tileCount = cols / WeightTensor.TILE;
        // The tiled kernels add each tile into their outputs: they add into this thread's own sums, copied out once
        // per set, because the rows of neighbouring sets (other threads' work) share cache lines of out.
        float[] sums = setSums(worker);
        int g = Interleaving.SET_ROWS;
        if (q != null && k.shortTiles() != null) {
            multiplySetShorts(worker, w.cols(), k.shortTiles(), set, q, sums);
        } else {
            for (int b = 0; b < tileCount; b++) {
                w.decodeSetTile(set, b, tile, scale);
                int xCol = b * WeightTensor.TILE;
                int t = 0;
                for (; t + 4 <= tokens; t += 4) {
                    TileKernel.four(tile, s, xs, t * cols + xCol, cols, sums, t * g, g, partial, ts,
                            t * tileCount + b, tileCount);
                }
                if (t + 2 <= tokens) {
                    TileKernel.two(tile, s, xs, t * cols + xCol, cols, sums, t * g, g, partial, ts,
                            t * tileCount + b, tileCount);
                    t += 2;
                }
                for (; t < tokens; t++) {
                    TileKernel.one(tile, s, xs, t * cols + xCol, sums, t * g, partial, ts, t * tileCount + b);
                }
            }
        }
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(sums, t * g, out, t * rows + firstRow, g);
        }
    }

    /** This thread's output scratch for a native set kernel over the current tokens, grown (never shrunk). */
    private MemorySegment nativeOut(int worker) {
        long bytes = 4L * tokens * Interleaving.SET_ROWS;
        MemorySegment s = nativeOut[worker];
        if (s.byteSize() < bytes) {
            // Owned by this MatMul for its life; padded to whole cache lines, so no two threads share one.
            s = Arena.ofAuto().allocate(bytes + 64, 64);
            nativeOut[worker] = s;
        }
        return s;
    }

    /** This thread's zeroed sums for a set's outputs over the current tokens, grown (never shrunk) as needed. */
    private float[] setSums(int worker) {
        int n = tokens * Interleaving.SET_ROWS;
        float[] sums = setSums[worker];
        if (sums.length < n + PAD) {
            sums = new float[n + PAD];
            setSums[worker] = sums;
        } else {
            Arrays.fill(sums, 0, n, 0f);
        }
        return sums;
    }

    /**
     * The 16-bit tiled path ({@link ShortTileKernel}), for weights and activations that are small integers; adds
     * into {@code sums}, the set's per-thread outputs ({@code SET_ROWS} per token).
     */
    private void multiplySetShorts(int worker, int cols, FormatKernels.ShortTileDecoder decoder, int set,
                                   QuantizedActivations q, float[] sums) {
        int g = Interleaving.SET_ROWS;
        short[] tile = shortTiles[worker];
        short[] tileSums = shortSums[worker];
        float[] scale = scales[worker];
        int tileCount = cols / WeightTensor.TILE;
        for (int b = 0; b < tileCount; b++) {
            decoder.decode(set, b, tile, scale);
            int xCol = b * WeightTensor.TILE;
            int t = 0;
            for (; t + 8 <= tokens; t += 8) {
                ShortTileKernel.eight(tile, scale, q.shorts, t * cols + xCol, cols, q.scales, t * tileCount + b,
                        tileCount, sums, t * g, g, tileSums);
            }
            for (; t + 4 <= tokens; t += 4) {
                ShortTileKernel.four(tile, scale, q.shorts, t * cols + xCol, cols, q.scales, t * tileCount + b,
                        tileCount, sums, t * g, g, tileSums);
            }
            if (t + 2 <= tokens) {
                ShortTileKernel.two(tile, scale, q.shorts, t * cols + xCol, cols, q.scales, t * tileCount + b,
                        tileCount, sums, t * g, g, tileSums);
                t += 2;
            }
            for (; t < tokens; t++) {
                ShortTileKernel.one(tile, scale, q.shorts, t * cols + xCol, q.scales, t * tileCount + b, sums,
                        t * g, tileSums);
            }
        }
    }
}
