package dev.continuum.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Candidate single-token Q8_0 kernels that multiply 8-bit weights by 8-bit activations in integer arithmetic, for
 * {@code dev.continuum.jmh.Int8DotBenchmark} (issue 18): measurements only, nothing in production calls them. It
 * lives in the tensor package to reach the tensor internals and {@link QuantizedActivations} without widening their
 * visibility. Its baseline (c) is the float kernel production used before Q8_0 moved to quantized activations (a
 * copy, {@link #floatSingle}), with its own float reference ({@link #floatReference}).
 *
 * <p>Every integer kernel computes, per row, exactly what {@link #reference} spells out: per 32-column block the
 * exact int sum {@code isum = sum_j w[j] * xq[j]}, then {@code total = fma((float) isum, dw * dx, total)} over the
 * blocks in order, with {@code dw} the weight block's float16 scale as a float and {@code dx} the activation
 * block's scale. Weights are -127..127 and activations -127..127 (both as llama.cpp quantizes them), so the sum of
 * two products fits 16 bits ({@code 2 * 127 * 127 = 32258}): that is what the Vector API kernel relies on.
 */
public final class Int8DotKernels {
    private Int8DotKernels() {
    }

    /** One token's activations quantized to 8 bits per block, by the production quantizer. */
    public static final class Activations {
        private final QuantizedActivations qa = new QuantizedActivations();

        public void quantize(float[] x, int cols) {
            qa.quantize(x, 1, cols);
        }

        /** The quantized values, -127..127, one short each. */
        public short[] values() {
            return qa.shorts;
        }

        /** Per-block scales. */
        public float[] scales() {
            return qa.scales;
        }

        /** Per-block sums of the quantized values (the native VNNI kernel's offset correction). */
        public int[] sums() {
            return qa.sums;
        }
    }

    /** The scalar reference of every integer kernel (see the class comment), row by row. */
    public static void reference(byte[][] q, float[][] dw, short[] xq, float[] dx, float[] out) {
        for (int r = 0; r < q.length; r++) {
            float total = 0f;
            for (int t = 0; t < dw[r].length; t++) {
                int isum = 0;
                for (int j = 0; j < WeightTensor.TILE; j++) {
                    isum += q[r][t * WeightTensor.TILE + j] * xq[t * WeightTensor.TILE + j];
                }
                total = Math.fma((float) isum, dw[r][t] * dx[t], total);
            }
            out[r] = total;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // (c) the production float kernel, one set after another on the calling thread (no pool, no job dispatch).

    /** The former production single-token Q8_0 float kernel over every row of an interleaved tensor. */
    public static void production(WeightTensor w, float[] x, float[] out, float[] scratch) {
        int sets = w.interleavedRows() / Interleaving.SET_ROWS;
        int tiles = w.cols() / WeightTensor.TILE;
        for (int s = 0; s < sets; s++) {
            floatSingle(w.data(), w.tileOffset(s, 0), tiles, x, 0, out, s * Interleaving.SET_ROWS, scratch);
        }
    }

    /**
     * What {@link #production} computes for row {@code row}, in scalar code: per tile {@code p = fma(q_j, x_j, p)}
     * over the columns in order, then {@code total = fma(p, d, total)}.
     */
    public static float floatReference(WeightTensor w, int row, float[] x) {
        float total = 0f;
        for (int t = 0; t < w.cols() / WeightTensor.TILE; t++) {
            float p = 0f;
            for (int j = t * WeightTensor.TILE; j < (t + 1) * WeightTensor.TILE; j++) {
                p = Math.fma(w.weight(row, j), x[j], p);
            }
            total = Math.fma(p, w.scale(row, t), total);
        }
        return total;
    }

    /**
     * The float kernel Q8_0 used before it multiplied quantized activations: bytes widened to floats, float FMAs
     * by the float activations, per tile one FMA with the block scale (8 and 16 lanes only; 4 lanes are not
     * benchmarked).
     */
    static void floatSingle(MemorySegment w, long base, int tiles, float[] x, int xo, float[] out, int oo,
                       float[] scales) {
        VectorSpecies<Float> f = VectorShapes.FLOAT;
        VectorSpecies<Byte> b8 = VectorShapes.BYTE;
        VectorSpecies<Byte> pair = VectorShapes.BYTE_PAIR;
        VectorShuffle<Byte> upper = VectorShapes.UPPER_HALF;
        int lanes = VectorShapes.LANES;
        int rows = 4 * lanes;
        long tileBytes = (long) rows * 34;
        FloatVector t0 = FloatVector.zero(f);
        FloatVector t1 = t0;
        FloatVector t2 = t0;
        FloatVector t3 = t0;
        for (int b = 0; b < tiles; b++) {
            long s0 = base + b * tileBytes;
            long q0 = s0 + 2L * rows;
            int xb = xo + b * WeightTensor.TILE;
            FloatVector p0 = FloatVector.zero(f);
            FloatVector p1 = p0;
            FloatVector p2 = p0;
            FloatVector p3 = p0;
            for (int j = 0; j < WeightTensor.TILE; j++) {
                FloatVector xj = FloatVector.broadcast(f, x[xb + j]);
                long o = q0 + (long) j * rows;
                if (lanes == 4) {
                    ByteVector b01 = ByteVector.fromMemorySegment(pair, w, o, ByteOrder.LITTLE_ENDIAN);
                    ByteVector b23 = ByteVector.fromMemorySegment(pair, w, o + 2 * lanes, ByteOrder.LITTLE_ENDIAN);
                    p0 = ((FloatVector) b01.convertShape(VectorOperators.B2F, f, 0)).fma(xj, p0);
                    p1 = ((FloatVector) b01.rearrange(upper).convertShape(VectorOperators.B2F, f, 0))
                            .fma(xj, p1);
                    p2 = ((FloatVector) b23.convertShape(VectorOperators.B2F, f, 0)).fma(xj, p2);
                    p3 = ((FloatVector) b23.rearrange(upper).convertShape(VectorOperators.B2F, f, 0))
                            .fma(xj, p3);
                } else {
                    p0 = ((FloatVector) ByteVector.fromMemorySegment(b8, w, o, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, f, 0)).fma(xj, p0);
                    p1 = ((FloatVector) ByteVector.fromMemorySegment(b8, w, o + lanes, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, f, 0)).fma(xj, p1);
                    p2 = ((FloatVector) ByteVector.fromMemorySegment(b8, w, o + 2 * lanes,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, f, 0)).fma(xj, p2);
                    p3 = ((FloatVector) ByteVector.fromMemorySegment(b8, w, o + 3 * lanes,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, f, 0)).fma(xj, p3);
                }
            }
            F16Tensor.Vectorized.scales(w, s0, 2L * lanes, 4, scales, 0);
            t0 = p0.fma(FloatVector.fromArray(f, scales, 0), t0);
            t1 = p1.fma(FloatVector.fromArray(f, scales, lanes), t1);
            t2 = p2.fma(FloatVector.fromArray(f, scales, 2 * lanes), t2);
            t3 = p3.fma(FloatVector.fromArray(f, scales, 3 * lanes), t3);
        }
        t0.intoArray(out, oo);
        t1.intoArray(out, oo + lanes);
        t2.intoArray(out, oo + 2 * lanes);
        t3.intoArray(out, oo + 3 * lanes);
    }


    /** Checks the tensor can take {@link #production} on every row: all rows interleaved, normal scales. */
    public static void requireProductionKernel(WeightTensor w) {
        if (!(w instanceof Q8_0Tensor) || w.interleavedRows() != w.rows() || !w.hasOnlyNormalScales()) {
            throw new IllegalStateException("the benchmark tensor must be Q8_0, fully interleaved, normal scales");
        }
    }

    /** Scratch the production kernel needs: one float per row of a set. */
    public static float[] productionScratch() {
        return new float[Interleaving.SET_ROWS];
    }

    // ---------------------------------------------------------------------------------------------------------
    // (a) Vector API: bytes widened to shorts, 16-bit multiplies, two columns added in 16 bits, widened to ints.

    /** Rows per set of the Vector API kernel: four int vectors. */
    public static int vectorSetRows() {
        return 4 * VectorShapes.LANES;
    }

    /**
     * The Vector API kernel's layout: sets of {@link #vectorSetRows()} rows; per set and block, column {@code j}
     * of every row of the set side by side ({@code S} bytes), columns 0..31 in order. Scales as floats, per set
     * and block, one per row.
     */
    public static byte[] vectorLayout(byte[][] q, int cols) {
        int rows = q.length;
        int s = vectorSetRows();
        int tiles = cols / WeightTensor.TILE;
        byte[] w = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            int set = r / s;
            for (int c = 0; c < cols; c++) {
                int t = c / WeightTensor.TILE;
                int j = c % WeightTensor.TILE;
                w[((set * tiles + t) * WeightTensor.TILE + j) * s + r % s] = q[r][c];
            }
        }
        return w;
    }

    public static float[] vectorScales(float[][] dw) {
        int rows = dw.length;
        int tiles = dw[0].length;
        int s = vectorSetRows();
        float[] out = new float[rows * tiles];
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < tiles; t++) {
                out[((r / s) * tiles + t) * s + r % s] = dw[r][t];
            }
        }
        return out;
    }

    /**
     * Per set: four int accumulators per block (rows 0..L-1, L..2L-1, 2L..3L-1, 3L..4L-1). Per pair of columns
     * {@code j, j+1}: each column's 2L bytes of rows widened to one short vector twice ({@code vpmovsxbw}),
     * multiplied by the broadcast activation ({@code vpmullw}), the two columns added in 16 bits (exact, see the
     * class comment), then each half widened to ints and added. Then per block one float FMA per row with the
     * combined scale. Every vector operation is written out: a vector crossing a call that is not inlined is boxed.
     */
    public static void vectorInt(byte[] w, float[] ws, int rows, int cols, short[] xq, float[] dx, float[] out) {
        VectorSpecies<Float> f = VectorShapes.FLOAT;
        VectorSpecies<Integer> i32 = VectorShapes.INT;
        VectorSpecies<Short> s16 = VectorShapes.SHORT_WIDE;
        VectorSpecies<Byte> b8 = VectorShapes.BYTE_WIDE;
        int lanes = VectorShapes.LANES;
        int s = 4 * lanes;
        int half = 2 * lanes;
        int tiles = cols / WeightTensor.TILE;
        for (int set = 0; set < rows / s; set++) {
            FloatVector t0 = FloatVector.zero(f);
            FloatVector t1 = t0;
            FloatVector t2 = t0;
            FloatVector t3 = t0;
            for (int t = 0; t < tiles; t++) {
                int base = (set * tiles + t) * WeightTensor.TILE * s;
                int xb = t * WeightTensor.TILE;
                IntVector a0 = IntVector.zero(i32);
                IntVector a1 = a0;
                IntVector a2 = a0;
                IntVector a3 = a0;
                for (int j = 0; j < WeightTensor.TILE; j += 2) {
                    ShortVector xa = ShortVector.broadcast(s16, xq[xb + j]);
                    ShortVector xc = ShortVector.broadcast(s16, xq[xb + j + 1]);
                    int o = base + j * s;
                    ShortVector lo0 = (ShortVector) ByteVector.fromArray(b8, w, o)
                            .convertShape(VectorOperators.B2S, s16, 0);
                    ShortVector lo1 = (ShortVector) ByteVector.fromArray(b8, w, o + half)
                            .convertShape(VectorOperators.B2S, s16, 0);
                    ShortVector hi0 = (ShortVector) ByteVector.fromArray(b8, w, o + s)
                            .convertShape(VectorOperators.B2S, s16, 0);
                    ShortVector hi1 = (ShortVector) ByteVector.fromArray(b8, w, o + s + half)
                            .convertShape(VectorOperators.B2S, s16, 0);
                    ShortVector p0 = lo0.mul(xa).add(hi0.mul(xc));
                    ShortVector p1 = lo1.mul(xa).add(hi1.mul(xc));
                    a0 = a0.add((IntVector) p0.convertShape(VectorOperators.S2I, i32, 0));
                    a1 = a1.add((IntVector) p0.convertShape(VectorOperators.S2I, i32, 1));
                    a2 = a2.add((IntVector) p1.convertShape(VectorOperators.S2I, i32, 0));
                    a3 = a3.add((IntVector) p1.convertShape(VectorOperators.S2I, i32, 1));
                }
                int so = (set * tiles + t) * s;
                float d = dx[t];
                t0 = ((FloatVector) a0.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(f, ws, so).mul(d), t0);
                t1 = ((FloatVector) a1.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(f, ws, so + lanes).mul(d), t1);
                t2 = ((FloatVector) a2.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(f, ws, so + 2 * lanes).mul(d), t2);
                t3 = ((FloatVector) a3.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(f, ws, so + 3 * lanes).mul(d), t3);
            }
            t0.intoArray(out, set * s);
            t1.intoArray(out, set * s + lanes);
            t2.intoArray(out, set * s + 2 * lanes);
            t3.intoArray(out, set * s + 3 * lanes);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // (b) plain Java over short[], shaped for C2's MulAddS2I idiom (vpmaddwd, or vpdpwssd with AVX-512 VNNI).

    /** Rows per chunk of the pair kernel's inner loop; its activation buffer holds one pair per row of a chunk. */
    public static final int PAIR_CHUNK = 256;

    /**
     * The pair kernel's layout: per block {@code t} and column pair {@code k} (columns {@code 32t+2k, 32t+2k+1}),
     * every row's two weights side by side, rows in order: index {@code ((t * 16 + k) * rows + r) * 2 + e}.
     * Scales as floats, per block, rows in order.
     */
    public static short[] pairLayout(byte[][] q, int cols) {
        int rows = q.length;
        short[] w = new short[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int t = c / WeightTensor.TILE;
                int k = (c % WeightTensor.TILE) / 2;
                w[((t * 16 + k) * rows + r) * 2 + (c & 1)] = q[r][c];
            }
        }
        return w;
    }

    public static float[] blockMajorScales(float[][] dw) {
        int rows = dw.length;
        int tiles = dw[0].length;
        float[] out = new float[rows * tiles];
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < tiles; t++) {
                out[t * rows + r] = dw[r][t];
            }
        }
        return out;
    }

    /**
     * Per block and column pair: the pair of activations repeated once per row of a chunk ({@code xx}, filled by
     * doubling copies), then for every chunk of rows the loop
     * {@code acc[r] += w[2r] * xx[2r] + w[2r+1] * xx[2r+1]}: all four operands loads of shorts from two arrays,
     * the shape C2 turns into MulAddS2I and SuperWord into MulAddVS2VI (+ AddVI: {@code vpdpwssd} on VNNI). After
     * each block, {@code out[r] = fma(acc[r], dw * dx, out[r])}.
     */
    public static void pairs(short[] w, float[] ws, int rows, int cols, short[] xq, float[] dx, short[] xx,
                             int[] acc, float[] out) {
        int tiles = cols / WeightTensor.TILE;
        int chunk = Math.min(PAIR_CHUNK, rows);
        Arrays.fill(out, 0, rows, 0f);
        Arrays.fill(acc, 0, rows, 0);
        for (int t = 0; t < tiles; t++) {
            for (int k = 0; k < 16; k++) {
                xx[0] = xq[t * WeightTensor.TILE + 2 * k];
                xx[1] = xq[t * WeightTensor.TILE + 2 * k + 1];
                for (int n = 2; n < 2 * chunk; n *= 2) {
                    System.arraycopy(xx, 0, xx, n, Math.min(n, 2 * chunk - n));
                }
                int o = (t * 16 + k) * rows * 2;
                for (int c = 0; c < rows; c += chunk) {
                    pairChunk(w, o + 2 * c, xx, acc, c, Math.min(chunk, rows - c));
                }
            }
            scaleBlock(acc, ws, t * rows, dx[t], out, rows);
        }
    }

    /** {@code out[r] = fma(acc[r], dw * dx, out[r])} and clears {@code acc}: kept out of the pair loops' method. */
    private static void scaleBlock(int[] acc, float[] ws, int so, float d, float[] out, int rows) {
        for (int r = 0; r < rows; r++) {
            out[r] = Math.fma((float) acc[r], ws[so + r] * d, out[r]);
            acc[r] = 0;
        }
    }

    /**
     * Its own method so that it can be kept out of line: inlined into {@link #pairs} (C2's default) this loop is not
     * vectorized and the kernel runs at scalar speed; with
     * {@code -XX:CompileCommand=dontinline,dev.continuum.tensor.Int8DotKernels::pairChunk} it is (PERFORMANCE.md,
     * "Int8 dot products in pure Java").
     */
    private static void pairChunk(short[] w, int wo, short[] xx, int[] acc, int ao, int n) {
        for (int r = 0; r < n; r++) {
            acc[ao + r] += w[wo + 2 * r] * xx[2 * r] + w[wo + 2 * r + 1] * xx[2 * r + 1];
        }
    }

    /** Row-major weights widened to shorts, for the literal reduction idiom. */
    public static short[] rowMajorShorts(byte[][] q, int cols) {
        short[] w = new short[q.length * cols];
        for (int r = 0; r < q.length; r++) {
            for (int c = 0; c < cols; c++) {
                w[r * cols + c] = q[r][c];
            }
        }
        return w;
    }

    public static float[] rowMajorScales(float[][] dw) {
        int tiles = dw[0].length;
        float[] out = new float[dw.length * tiles];
        for (int r = 0; r < dw.length; r++) {
            System.arraycopy(dw[r], 0, out, r * tiles, tiles);
        }
        return out;
    }

    /**
     * The reduction idiom as written in C2's own tests, row-major: per row and block
     * {@code isum += w[i] * x[i] + w[i+1] * x[i+1]} over the block's 16 column pairs, then one float FMA.
     */
    public static void reductionIdiom(short[] w, float[] ws, int rows, int cols, short[] xq, float[] dx,
                                      float[] out) {
        int tiles = cols / WeightTensor.TILE;
        for (int r = 0; r < rows; r++) {
            float total = 0f;
            int ro = r * cols;
            for (int t = 0; t < tiles; t++) {
                int o = ro + t * WeightTensor.TILE;
                int xo = t * WeightTensor.TILE;
                int isum = 0;
                for (int i = 0; i < WeightTensor.TILE; i += 2) {
                    isum += w[o + i] * xq[xo + i] + w[o + i + 1] * xq[xo + i + 1];
                }
                total = Math.fma((float) isum, ws[r * tiles + t] * dx[t], total);
            }
            out[r] = total;
        }
    }
}
