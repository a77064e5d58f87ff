package dev.continuum.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q8_0 weights: blocks of 32 elements, each a float16 scale and 32 signed bytes; element value = d * q.
 * <pre>
 *   byte:  0    2    3    4         33
 *         [ d  ][q0 ][q1 ][ ... ][q31]      34 bytes per block, d little-endian F16
 * </pre>
 */
public final class Q8_0Tensor extends WeightTensor {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int BLOCK_BYTES = 34;

    private final FormatKernels kernels;

    Q8_0Tensor(String name, MemorySegment data, int rows, int cols, int interleavedRows) {
        super(name, data, rows, cols, interleavedRows);
        FormatKernels all = new FormatKernels(
                FormatKernels.Activations.FLOAT,
                this::multiplySingle,
                this::multiplyPair,
                this::multiplySix,
                // The six-token kernel measured faster than pairs and tiles at every token count tried, prompts
                // included (PERFORMANCE.md, "Kernel design choices measured").
                FormatKernels.ANY_TOKEN_COUNT,
                null);
        this.kernels = hasOnlyNormalScales() ? all : all.withoutFusedKernels();
    }

    @Override
    FormatKernels kernels() {
        return kernels;
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    int scaleBytes() {
        return 2;
    }

    @Override
    int tileUnits() {
        return TILE;
    }

    @Override
    int unitBytes() {
        return 1;
    }

    @Override
    float weight(int row, int col) {
        return data.get(ValueLayout.JAVA_BYTE, unitOffset(row, col / TILE, col % TILE));
    }

    @Override
    float scale(int row, int tile) {
        return Float.float16ToFloat(data.get(SHORT_LE, scaleOffset(row, tile)));
    }

    @Override
    float dotRowMajor(int row, float[] x, int xo) {
        long base = (long) row * (cols / TILE) * BLOCK_BYTES;
        float total = 0f;
        for (int b = 0; b < cols / TILE; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            int xb = xo + b * TILE;
            float p = 0f;
            for (int j = 0; j < TILE; j++) {
                p = Math.fma(data.get(ValueLayout.JAVA_BYTE, block + 2 + j), x[xb + j], p);
            }
            total = Math.fma(p, Float.float16ToFloat(data.get(SHORT_LE, block)), total);
        }
        return total;
    }

    @Override
    void decodeSetTile(int set, int tile, float[] w, float[] s) {
        long base = tileOffset(set, tile);
        if (hasOnlyNormalScales()) {
            Vectorized.decode(data, base, w, s);
            return;
        }
        int rows = Interleaving.SET_ROWS;
        for (int r = 0; r < rows; r++) {
            s[r] = Float.float16ToFloat(data.get(SHORT_LE, base + 2L * r));
        }
        long q = base + 2L * rows;
        for (int i = 0; i < TILE * rows; i++) {
            w[i] = data.get(ValueLayout.JAVA_BYTE, q + i);
        }
    }

    private void multiplySingle(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                                float[] scratch) {
        Vectorized.single(data, tileOffset(set, 0), cols / TILE, x, token * cols, out, outOffset, scratch);
    }

    private void multiplyPair(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                              int outStride, float[] scratch) {
        Vectorized.pair(data, tileOffset(set, 0), cols / TILE, x, token * cols, cols, out, outOffset, outStride,
                scratch);
    }

    private void multiplySix(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                             int outStride, float[] scratch) {
        long base = tileOffset(set, 0);
        int xo = token * cols;
        Vectorized.six(data, base, cols / TILE, 0, x, xo, cols, out, outOffset, outStride, scratch);
        Vectorized.six(data, base, cols / TILE, 1, x, xo, cols, out, outOffset, outStride, scratch);
    }

    /**
     * The Vector API kernel, kept in a nested class because verifying code that uses vector types loads
     * {@code jdk.incubator.vector}: this way the outer class still links, and runs its scalar kernel, on a JVM
     * started without that module. Only scalars and arrays cross its boundary, so no vector is ever boxed.
     *
     * <p>At 4 lanes (128-bit vectors) one float vector's bytes would be a 32-bit vector, which the Vector API lacks:
     * each kernel then loads 64-bit byte vectors, two float vectors' worth, and widens their upper half after a
     * rearrange (see {@link VectorShapes#BYTE_PAIR}). {@code lanes} is a constant to the JIT, so a compiled kernel
     * holds only its own width's branch, and 8 and 16 lanes run the very code they ran before.
     */
    static final class Vectorized {
        private Vectorized() {
        }

        /**
         * One token times a set of {@code 4 * lanes} rows starting at byte {@code base}, as four vectors of rows:
         * four independent accumulator chains keep the FMA unit busy, and the set's weights stream sequentially.
         * Every vector operation is written out here rather than in helpers: a vector passed to or returned from
         * a call the JIT does not inline is boxed, which costs more than the kernel.
         */
        static void single(MemorySegment w, long base, int tiles, float[] x, int xo, float[] out, int oo,
                           float[] scales) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            VectorSpecies<Byte> b8 = VectorShapes.BYTE;
            VectorSpecies<Byte> pair = VectorShapes.BYTE_PAIR;
            VectorShuffle<Byte> upper = VectorShapes.UPPER_HALF;
            int lanes = VectorShapes.LANES;
            int rows = 4 * lanes;
            long tileBytes = (long) rows * BLOCK_BYTES;
            FloatVector t0 = FloatVector.zero(f);
            FloatVector t1 = t0;
            FloatVector t2 = t0;
            FloatVector t3 = t0;
            for (int b = 0; b < tiles; b++) {
                long s0 = base + b * tileBytes;
                long q0 = s0 + 2L * rows;
                int xb = xo + b * TILE;
                FloatVector p0 = FloatVector.zero(f);
                FloatVector p1 = p0;
                FloatVector p2 = p0;
                FloatVector p3 = p0;
                for (int j = 0; j < TILE; j++) {
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

        /**
         * Two tokens, as {@link #single}: each byte vector is widened to floats once and serves both tokens, which
         * is what makes two sequences in a step cheaper than two steps; decoding whole tiles to memory for the
         * tiled kernel costs more than it saves at the token counts of a decode batch.
         */
        static void pair(MemorySegment w, long base, int tiles, float[] x, int xo, int xs, float[] out, int oo,
                         int os, float[] scales) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            VectorSpecies<Byte> b8 = VectorShapes.BYTE;
            VectorSpecies<Byte> pair = VectorShapes.BYTE_PAIR;
            VectorShuffle<Byte> upper = VectorShapes.UPPER_HALF;
            int lanes = VectorShapes.LANES;
            int rows = 4 * lanes;
            long tileBytes = (long) rows * BLOCK_BYTES;
            FloatVector zero = FloatVector.zero(f);
            FloatVector t00 = zero, t10 = zero, t20 = zero, t30 = zero;
            FloatVector t01 = zero, t11 = zero, t21 = zero, t31 = zero;
            for (int b = 0; b < tiles; b++) {
                long s0 = base + b * tileBytes;
                long q0 = s0 + 2L * rows;
                int xa = xo + b * TILE;
                int xb = xa + xs;
                FloatVector p00 = zero, p10 = zero, p20 = zero, p30 = zero;
                FloatVector p01 = zero, p11 = zero, p21 = zero, p31 = zero;
                for (int j = 0; j < TILE; j++) {
                    FloatVector a = FloatVector.broadcast(f, x[xa + j]);
                    FloatVector c = FloatVector.broadcast(f, x[xb + j]);
                    long o = q0 + (long) j * rows;
                    FloatVector w0;
                    FloatVector w1;
                    FloatVector w2;
                    FloatVector w3;
                    if (lanes == 4) {
                        ByteVector b01 = ByteVector.fromMemorySegment(pair, w, o, ByteOrder.LITTLE_ENDIAN);
                        ByteVector b23 = ByteVector.fromMemorySegment(pair, w, o + 2 * lanes, ByteOrder.LITTLE_ENDIAN);
                        w0 = (FloatVector) b01.convertShape(VectorOperators.B2F, f, 0);
                        w1 = (FloatVector) b01.rearrange(upper).convertShape(VectorOperators.B2F, f, 0);
                        w2 = (FloatVector) b23.convertShape(VectorOperators.B2F, f, 0);
                        w3 = (FloatVector) b23.rearrange(upper).convertShape(VectorOperators.B2F, f, 0);
                    } else {
                        w0 = (FloatVector) ByteVector.fromMemorySegment(b8, w, o, ByteOrder.LITTLE_ENDIAN)
                                .convertShape(VectorOperators.B2F, f, 0);
                        w1 = (FloatVector) ByteVector.fromMemorySegment(b8, w, o + lanes, ByteOrder.LITTLE_ENDIAN)
                                .convertShape(VectorOperators.B2F, f, 0);
                        w2 = (FloatVector) ByteVector.fromMemorySegment(b8, w, o + 2 * lanes,
                                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, f, 0);
                        w3 = (FloatVector) ByteVector.fromMemorySegment(b8, w, o + 3 * lanes,
                                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, f, 0);
                    }
                    p00 = w0.fma(a, p00);
                    p10 = w1.fma(a, p10);
                    p20 = w2.fma(a, p20);
                    p30 = w3.fma(a, p30);
                    p01 = w0.fma(c, p01);
                    p11 = w1.fma(c, p11);
                    p21 = w2.fma(c, p21);
                    p31 = w3.fma(c, p31);
                }
                F16Tensor.Vectorized.scales(w, s0, 2L * lanes, 4, scales, 0);
                FloatVector d0 = FloatVector.fromArray(f, scales, 0);
                FloatVector d1 = FloatVector.fromArray(f, scales, lanes);
                FloatVector d2 = FloatVector.fromArray(f, scales, 2 * lanes);
                FloatVector d3 = FloatVector.fromArray(f, scales, 3 * lanes);
                t00 = p00.fma(d0, t00);
                t10 = p10.fma(d1, t10);
                t20 = p20.fma(d2, t20);
                t30 = p30.fma(d3, t30);
                t01 = p01.fma(d0, t01);
                t11 = p11.fma(d1, t11);
                t21 = p21.fma(d2, t21);
                t31 = p31.fma(d3, t31);
            }
            t00.intoArray(out, oo);
            t10.intoArray(out, oo + lanes);
            t20.intoArray(out, oo + 2 * lanes);
            t30.intoArray(out, oo + 3 * lanes);
            t01.intoArray(out, oo + os);
            t11.intoArray(out, oo + os + lanes);
            t21.intoArray(out, oo + os + 2 * lanes);
            t31.intoArray(out, oo + os + 3 * lanes);
        }

        /**
         * Six tokens times half a set ({@code 2 * lanes} rows, the half {@code half}), as {@link #pair}: each byte
         * vector widened to floats serves six tokens, so a decode batch spends a larger share of its instructions
         * on FMAs; half a set keeps the twelve partial and twelve running sums in registers.
         */
        static void six(MemorySegment w, long base, int tiles, int half, float[] x, int xo, int xs, float[] out,
                        int oo, int os, float[] scales) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            VectorSpecies<Byte> b8 = VectorShapes.BYTE;
            VectorSpecies<Byte> pair = VectorShapes.BYTE_PAIR;
            VectorShuffle<Byte> upper = VectorShapes.UPPER_HALF;
            int lanes = VectorShapes.LANES;
            int rows = 4 * lanes;
            long tileBytes = (long) rows * BLOCK_BYTES;
            int first = 2 * lanes * half; // the half's first row, which is also its byte offset in a column
            FloatVector zero = FloatVector.zero(f);
            FloatVector t00 = zero, t01 = zero, t02 = zero, t03 = zero, t04 = zero, t05 = zero;
            FloatVector t10 = zero, t11 = zero, t12 = zero, t13 = zero, t14 = zero, t15 = zero;
            for (int b = 0; b < tiles; b++) {
                long s0 = base + b * tileBytes;
                long q0 = s0 + 2L * rows + first;
                int x0 = xo + b * TILE;
                F16Tensor.Vectorized.scales(w, s0 + 2L * first, 2L * lanes, 2, scales, 0);
                FloatVector p00 = zero, p01 = zero, p02 = zero, p03 = zero, p04 = zero, p05 = zero;
                FloatVector p10 = zero, p11 = zero, p12 = zero, p13 = zero, p14 = zero, p15 = zero;
                for (int j = 0; j < TILE; j++) {
                    long o = q0 + (long) j * rows;
                    FloatVector w0;
                    FloatVector w1;
                    if (lanes == 4) {
                        ByteVector b01 = ByteVector.fromMemorySegment(pair, w, o, ByteOrder.LITTLE_ENDIAN);
                        w0 = (FloatVector) b01.convertShape(VectorOperators.B2F, f, 0);
                        w1 = (FloatVector) b01.rearrange(upper).convertShape(VectorOperators.B2F, f, 0);
                    } else {
                        w0 = (FloatVector) ByteVector.fromMemorySegment(b8, w, o, ByteOrder.LITTLE_ENDIAN)
                                .convertShape(VectorOperators.B2F, f, 0);
                        w1 = (FloatVector) ByteVector.fromMemorySegment(b8, w, o + lanes, ByteOrder.LITTLE_ENDIAN)
                                .convertShape(VectorOperators.B2F, f, 0);
                    }
                    int xj = x0 + j;
                    FloatVector a = FloatVector.broadcast(f, x[xj]);
                    p00 = w0.fma(a, p00);
                    p10 = w1.fma(a, p10);
                    a = FloatVector.broadcast(f, x[xj + xs]);
                    p01 = w0.fma(a, p01);
                    p11 = w1.fma(a, p11);
                    a = FloatVector.broadcast(f, x[xj + 2 * xs]);
                    p02 = w0.fma(a, p02);
                    p12 = w1.fma(a, p12);
                    a = FloatVector.broadcast(f, x[xj + 3 * xs]);
                    p03 = w0.fma(a, p03);
                    p13 = w1.fma(a, p13);
                    a = FloatVector.broadcast(f, x[xj + 4 * xs]);
                    p04 = w0.fma(a, p04);
                    p14 = w1.fma(a, p14);
                    a = FloatVector.broadcast(f, x[xj + 5 * xs]);
                    p05 = w0.fma(a, p05);
                    p15 = w1.fma(a, p15);
                }
                FloatVector d0 = FloatVector.fromArray(f, scales, 0);
                FloatVector d1 = FloatVector.fromArray(f, scales, lanes);
                t00 = p00.fma(d0, t00);
                t01 = p01.fma(d0, t01);
                t02 = p02.fma(d0, t02);
                t03 = p03.fma(d0, t03);
                t04 = p04.fma(d0, t04);
                t05 = p05.fma(d0, t05);
                t10 = p10.fma(d1, t10);
                t11 = p11.fma(d1, t11);
                t12 = p12.fma(d1, t12);
                t13 = p13.fma(d1, t13);
                t14 = p14.fma(d1, t14);
                t15 = p15.fma(d1, t15);
            }
            int o = oo + first;
            t00.intoArray(out, o);
            t10.intoArray(out, o + lanes);
            t01.intoArray(out, o + os);
            t11.intoArray(out, o + os + lanes);
            t02.intoArray(out, o + 2 * os);
            t12.intoArray(out, o + 2 * os + lanes);
            t03.intoArray(out, o + 3 * os);
            t13.intoArray(out, o + 3 * os + lanes);
            t04.intoArray(out, o + 4 * os);
            t14.intoArray(out, o + 4 * os + lanes);
            t05.intoArray(out, o + 5 * os);
            t15.intoArray(out, o + 5 * os + lanes);
        }

        /** A set's tile as floats, column by column ({@code [k][rows]}), and its scales. */
        static void decode(MemorySegment w, long base, float[] out, float[] s) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            int lanes = VectorShapes.LANES;
            int rows = 4 * lanes;
            F16Tensor.Vectorized.scales(w, base, 2L * lanes, 4, s, 0);
            long q = base + 2L * rows;
            if (lanes == 4) {
                VectorShuffle<Byte> upper = VectorShapes.UPPER_HALF;
                for (int i = 0; i < TILE * rows; i += 2 * lanes) {
                    ByteVector b = ByteVector.fromMemorySegment(VectorShapes.BYTE_PAIR, w, q + i,
                            ByteOrder.LITTLE_ENDIAN);
                    ((FloatVector) b.convertShape(VectorOperators.B2F, f, 0)).intoArray(out, i);
                    ((FloatVector) b.rearrange(upper).convertShape(VectorOperators.B2F, f, 0))
                            .intoArray(out, i + lanes);
                }
                return;
            }
            for (int i = 0; i < TILE * rows; i += lanes) {
                ((FloatVector) ByteVector.fromMemorySegment(VectorShapes.BYTE, w, q + i, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, f, 0)).intoArray(out, i);
            }
        }
    }
}
