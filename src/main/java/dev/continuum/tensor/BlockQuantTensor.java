package dev.continuum.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Weights in one of the block formats of {@link BlockFormat}: Q4_1, Q5_0, Q5_1 and IQ4_NL (blocks of 32), and the
 * K-quants Q2_K .. Q6_K and Q8_K (superblocks of 256 with integer sub-block scales). They stay row-major, as in
 * the file: no interleaving, so {@link MatMul} gives each thread whole rows and this format's row kernel
 * ({@link FormatKernels#rowTokens}, {@link BlockRowKernel}) decodes a row once per group of tokens.
 *
 * <p><b>Dequantization</b> ({@link #dequantizeRow}, which the token embedding lookup reads) is llama.cpp's
 * {@code dequantize_row_*}, bit for bit: with the block decoded into integer levels {@code q}, 16-column scales
 * {@code s} and mins {@code m} and the float factors {@code d}, {@code dminSigned} ({@link BlockFormat}),
 * <pre>
 *   v = (d * s) * q                       Q5_0, IQ4_NL, Q3_K, Q6_K, Q8_K (s = 1 where a format has none)
 *   v = (d * s) * q + dminSigned * m      Q4_1, Q5_1 (s = m = 1, dminSigned = the block's min): q*d + min
 *                                         Q2_K, Q4_K, Q5_K (dminSigned = -dmin): d*sc*q - dmin*m
 * </pre>
 * each operation rounded to float, in that order, as ggml's C (compiled without FMA contraction) computes it.
 *
 * <p><b>Matrix products</b> multiply activations quantized to 8 bits per 32-column tile
 * ({@link QuantizedActivations}: per tile a float {@code dx}, integers {@code xq_j}, their sum and the sum of the
 * first 16), as llama.cpp multiplies these formats by Q8_K/Q8_1 activations, but in the one order defined here,
 * which {@link #dot} spells out and every kernel reproduces bit for bit. Per tile {@code t} of a row, in order:
 * <pre>
 *   A = s0 * sum_{j<16} q_j * xq_j  +  s1 * sum_{j>=16} q_j * xq_j         exact int (s0, s1: the halves' scales)
 *   B = m0 * sum_{j<16} xq_j        +  m1 * sum_{j>=16} xq_j               exact int, formats with a min only
 *   total = fma((float) A, d * dx_t, total)
 *   total = fma((float) B, dminSigned * dx_t, total)                      formats with a min only
 * </pre>
 * The integer sums are exact in any order, so kernels may add lanes as they like; the float steps are the
 * reference's. llama.cpp's own dot products factor differently (per superblock, {@code d * dy} once), so a row's
 * value differs from llama.cpp's by float rounding, never by the weights read.
 */
public final class BlockQuantTensor extends WeightTensor {
    private final BlockFormat format;
    private final FormatKernels kernels;
    private final int blocksPerRow;
    /** For {@link #dequantizeRow}, which the engine thread calls per token (embedding lookups): guarded by itself. */
    private final RowScratch dequantizeScratch = new RowScratch();

    /**
     * The leading rows again in the native kernels' layout ({@link KQuantLayout}), or null: then the row kernels
     * serve every row. The file's row-major bytes stay the tensor's {@link #data} either way.
     */
    private final MemorySegment nativeSets;
    /** What {@link #interleaved} made of this tensor, once asked: guarded by {@code this}. */
    private BlockQuantTensor prepared;

    BlockQuantTensor(BlockFormat format, String name, MemorySegment data, int rows, int cols, int interleavedRows) {
        this(format, name, data, rows, cols, null, 0);
        if (interleavedRows != 0) {
            throw new IllegalArgumentException(format.type + " tensors stay row-major; cannot interleave " + name);
        }
    }

    /** A tensor whose first {@code nativeRows} rows the native set kernels multiply from {@code nativeSets}. */
    private BlockQuantTensor(BlockFormat format, String name, MemorySegment data, int rows, int cols,
                             MemorySegment nativeSets, int nativeRows) {
        super(name, data, rows, cols, nativeRows);
        this.format = format;
        this.blocksPerRow = cols / format.blockSize;
        this.nativeSets = nativeSets;
        this.kernels = nativeSets == null ? FormatKernels.rowMajor(this::multiplyRow)
                : new FormatKernels(FormatKernels.Activations.QUANTIZED, null, null, null, 0, null, nativeKernel(),
                        this::multiplyRow);
    }

    /** The native set kernel of this format, bound to this tensor's sets (addresses as longs: no allocation). */
    private FormatKernels.SetKernel nativeKernel() {
        long base = nativeSets.address();
        long stride = KQuantLayout.setBytes(format, cols);
        int tiles = cols / TILE;
        return switch (format) {
            case Q4_1 -> (set, tokens, na, scratch, out, outOffset, outStride) ->
                    NativeCpuKernels.q4_1(base + set * stride, tiles, tokens, na, scratch, out, outOffset, outStride);
            case Q5_0 -> (set, tokens, na, scratch, out, outOffset, outStride) ->
                    NativeCpuKernels.q5_0(base + set * stride, tiles, tokens, na, scratch, out, outOffset, outStride);
            case Q5_1 -> (set, tokens, na, scratch, out, outOffset, outStride) ->
                    NativeCpuKernels.q5_1(base + set * stride, tiles, tokens, na, scratch, out, outOffset, outStride);
            case IQ4_NL -> (set, tokens, na, scratch, out, outOffset, outStride) ->
                    NativeCpuKernels.iq4_nl(base + set * stride, tiles, tokens, na, scratch, out, outOffset, outStride);
            case Q2_K -> (set, tokens, na, scratch, out, outOffset, outStride) ->
                    NativeCpuKernels.q2_K(base + set * stride, tiles, tokens, na, scratch, out, outOffset, outStride);
            case Q3_K -> (set, tokens, na, scratch, out, outOffset, outStride) ->
                    NativeCpuKernels.q3_K(base + set * stride, tiles, tokens, na, scratch, out, outOffset, outStride);
            case Q4_K -> (set, tokens, na, scratch, out, outOffset, outStride) ->
                    NativeCpuKernels.q4_K(base + set * stride, tiles, tokens, na, scratch, out, outOffset, outStride);
            case Q5_K -> (set, tokens, na, scratch, out, outOffset, outStride) ->
                    NativeCpuKernels.q5_K(base + set * stride, tiles, tokens, na, scratch, out, outOffset, outStride);
            case Q6_K -> (set, tokens, na, scratch, out, outOffset, outStride) ->
                    NativeCpuKernels.q6_K(base + set * stride, tiles, tokens, na, scratch, out, outOffset, outStride);
            default -> throw new IllegalStateException(format + " has no native kernel");
        };
    }

    /**
     * With the native route in effect ({@link NativeCpuKernels#enabled}) and a format it has (all but Q8_K),
     * this tensor with its whole sets of 64 rows also repacked, once, into the native layout ({@link KQuantLayout});
     * otherwise this tensor, whose row kernels serve every row. The file's bytes are left as they are, so this
     * tensor stays usable too.
     */
    @Override
    public synchronized WeightTensor interleaved() {
        if (prepared == null) {
            int sets = rows / KQuantLayout.SET_ROWS;
            boolean repack = nativeSets == null && sets > 0 && KQuantLayout.covers(format)
                    && NativeCpuKernels.enabled();
            prepared = repack ? new BlockQuantTensor(format, name, data, rows, cols,
                    KQuantLayout.repack(format, data, sets, cols, Arena.ofAuto()), sets * KQuantLayout.SET_ROWS)
                    : this;
        }
        return prepared;
    }

    /** The file's bytes, which this tensor keeps row-major whatever its kernels read. */
    @Override
    public void writeRowMajor(MemorySegment target) {
        MemorySegment.copy(data, 0, target, 0, data.byteSize());
    }

    @Override
    public GgmlType type() {
        return format.type;
    }

    BlockFormat format() {
        return format;
    }

    @Override
    FormatKernels kernels() {
        return kernels;
    }

    /** These formats keep the file's layout; {@link Interleaving} leaves them alone. */
    @Override
    boolean rowMajorOnly() {
        return true;
    }

    // The tile geometry below describes the interleaved layout, which these formats never take: a K-quant's 32
    // columns are not a whole number of bytes with a scale in front (Q2_K: 10.5 bytes).
    @Override
    int scaleBytes() {
        return 0;
    }

    @Override
    int tileUnits() {
        return 0;
    }

    @Override
    int unitBytes() {
        return 0;
    }

    long blockOffset(int row, int block) {
        return ((long) row * blocksPerRow + block) * format.blockBytes;
    }

    /** The dequantized element (the scale applied: these formats have no one scale per tile). Not a hot path. */
    @Override
    float weight(int row, int col) {
        float[] out = new float[format.blockSize];
        RowScratch s = new RowScratch();
        dequantizeBlock(format, data, blockOffset(row, col / format.blockSize), out, 0, s);
        return out[col % format.blockSize];
    }

    @Override
    float scale(int row, int tile) {
        return 1f;
    }

    @Override
    void decodeSetTile(int set, int tile, float[] w, float[] s) {
        throw new UnsupportedOperationException(format.type + " tensors have no interleaved sets");
    }

    /**
     * The reference product (see the class comment): quantizes {@code x} tile by tile as {@link MatMul} does
     * ({@link QuantizedActivations#quantizeTile}), decodes each block with {@link BlockFormat#decode}, and sums in
     * the fixed order. Allocates; not a hot path.
     */
    @Override
    public float dot(int row, float[] x, int xOffset) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
        float[] xq = new float[TILE];
        float[] dx = new float[1];
        byte[] levels = new byte[format.blockSize];
        int[] scales = new int[2 * format.halves];
        float[] factors = new float[2];
        int tilesPerBlock = format.blockSize / TILE;
        float total = 0f;
        for (int t = 0; t < cols / TILE; t++) {
            int k = t % tilesPerBlock;
            if (k == 0) {
                format.decode(data, blockOffset(row, t / tilesPerBlock), levels, scales, factors);
            }
            float[] slice = new float[TILE];
            System.arraycopy(x, xOffset + t * TILE, slice, 0, TILE);
            QuantizedActivations.quantizeTile(slice, 0, xq, null, dx, null, 0);
            int products0 = 0;
            int products1 = 0;
            int sum0 = 0;
            int sum1 = 0;
            for (int j = 0; j < TILE; j++) {
                int level = levels[k * TILE + j];
                int v = (int) xq[j];
                if (j < TILE / 2) {
                    products0 += level * v;
                    sum0 += v;
                } else {
                    products1 += level * v;
                    sum1 += v;
                }
            }
            int a = scales[2 * k] * products0 + scales[2 * k + 1] * products1;
            total = Math.fma((float) a, factors[0] * dx[0], total);
            if (format.hasMin) {
                int b = scales[format.halves + 2 * k] * sum0 + scales[format.halves + 2 * k + 1] * sum1;
                total = Math.fma((float) b, factors[1] * dx[0], total);
            }
        }
        return total;
    }

    @Override
    float dotRowMajor(int row, float[] x, int xOffset) {
        return dot(row, x, xOffset);
    }

    /**
     * One row and token from the call's quantized activations, as the row kernel computes it. {@link MatMul} does
     * not come here: this format's table has a row kernel for every token count ({@link #multiplyRow}), which
     * holds its scratch per thread; this entry allocates one.
     */
    @Override
    float dotRow(int row, float[] x, int xOffset, QuantizedActivations qa, int token) {
        float[] out = new float[1];
        BlockRowKernel.multiply(format, data, blockOffset(row, 0), blocksPerRow, qa, token, 1, out, 0, 1,
                new RowScratch());
        return out[0];
    }

    private void multiplyRow(int row, float[] x, QuantizedActivations qa, int tokens, float[] out, int outOffset,
                             int outStride, RowScratch scratch) {
        long base = blockOffset(row, 0);
        if (VectorSupport.ENABLED) {
            BlockRowKernel.Vectorized.multiply(format, data, base, blocksPerRow, qa, 0, tokens, out, outOffset,
                    outStride, scratch);
        } else {
            BlockRowKernel.multiply(format, data, base, blocksPerRow, qa, 0, tokens, out, outOffset, outStride,
                    scratch);
        }
    }

    /** llama.cpp's {@code dequantize_row_*} for this format, bit for bit (see the class comment). */
    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(outOffset, cols, out.length);
        synchronized (dequantizeScratch) {
            for (int b = 0; b < blocksPerRow; b++) {
                dequantizeBlock(format, data, blockOffset(row, b), out, outOffset + b * format.blockSize,
                        dequantizeScratch);
            }
        }
    }

    static void dequantizeBlock(BlockFormat f, MemorySegment data, long block, float[] out, int o, RowScratch s) {
        f.decode(data, block, s.levels, s.scales, s.factors);
        float d = s.factors[0];
        float dmin = s.factors[1];
        for (int j = 0; j < f.blockSize; j++) {
            int h = j / 16;
            float v = (d * s.scales[h]) * s.levels[j];
            out[o + j] = f.hasMin ? v + dmin * s.scales[f.halves + h] : v;
        }
    }
}
