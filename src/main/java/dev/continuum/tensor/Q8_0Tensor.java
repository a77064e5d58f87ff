package dev.continuum.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
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
 * Like llama.cpp (which quantizes the activations to Q8_0 for Q8_0 weights), Q8_0 multiplies activations
 * quantized to 8 bits per tile ({@link QuantizedActivations}): a tile's sum of products is then an exact integer,
 * {@code isum = sum_j q_j * xq_j}, and a row's output is {@code total = fma((float) isum, d * dx, total)} over its
 * tiles in order, whatever kernel computes it. The single-token kernel sums in 16- and 32-bit integer lanes; the
 * token-group kernels sum the same products as floats, which is exact too (every partial sum is an integer below
 * 2^24), so all of them give the bits of {@link #dot}.
 */
public final class Q8_0Tensor extends WeightTensor {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int BLOCK_BYTES = 34;

    private final FormatKernels kernels;
    /** Whether the interleaved sets are in the native kernel's layout ({@link VnniLayout}), not the Java kernels'. */
    private final boolean vnni;

    Q8_0Tensor(String name, MemorySegment data, int rows, int cols, int interleavedRows) {
        super(name, data, rows, cols, interleavedRows);
        this.vnni = interleavedRows > 0 && NativeCpuKernels.enabled();
        if (vnni) {
            // The native kernel takes every token count and converts any float16 scale exactly.
            this.kernels = new FormatKernels(FormatKernels.Activations.QUANTIZED, null, null, null, 0, null,
                    this::multiplyNative);
            return;
        }
        FormatKernels all = new FormatKernels(
                FormatKernels.Activations.QUANTIZED,
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
        if (row < interleavedRows && vnni) {
            int g = Interleaving.SET_ROWS;
            return VnniLayout.q8WeightAt(data, tileOffset(row / g, col / TILE) + VnniLayout.q8Offset(row % g, col % TILE));
        }
        return data.get(ValueLayout.JAVA_BYTE, unitOffset(row, col / TILE, col % TILE));
    }

    @Override
    void permuteGroup(MemorySegment src, MemorySegment dst, long base, boolean toInterleaved) {
        if (NativeCpuKernels.enabled()) {
            VnniLayout.permuteQ8_0(src, dst, base, rowBytes(), cols / TILE, toInterleaved);
            return;
        }
        super.permuteGroup(src, dst, base, toInterleaved);
    }

    @Override
    float scale(int row, int tile) {
        return Float.float16ToFloat(data.get(SHORT_LE, scaleOffset(row, tile)));
    }

    /** The reference: quantizes {@code x} as {@link MatMul} does, then sums each tile exactly. */
    @Override
    public float dot(int row, float[] x, int xOffset) {
        return quantizedDot(row, x, xOffset);
    }

    @Override
    float dotRowMajor(int row, float[] x, int xOffset) {
        return quantizedDot(row, x, xOffset);
    }

    @Override
    float dotRow(int row, float[] x, int xOffset, QuantizedActivations qa, int token) {
        long base = (long) row * (cols / TILE) * BLOCK_BYTES;
        int qo = token * cols;
        float total = 0f;
        for (int b = 0; b < cols / TILE; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            int xb = qo + b * TILE;
            int sum = 0;
            for (int j = 0; j < TILE; j++) {
                sum += data.get(ValueLayout.JAVA_BYTE, block + 2 + j) * qa.bytes[xb + j];
            }
            float d = Float.float16ToFloat(data.get(SHORT_LE, block));
            total = Math.fma((float) sum, d * qa.scale(token, b), total);
        }
        return total;
    }

    @Override
    void decodeSetTile(int set, int tile, float[] w, float[] s) {
        long base = tileOffset(set, tile);
        if (vnni) {
            // Not on a hot path: the native kernel serves the sets of this layout.
            decodeSetTileByElement(set, tile, w, s);
            return;
        }
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

    private void multiplyNative(int set, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                                int outOffset, int outStride) {
        NativeCpuKernels.q8_0(data.address() + tileOffset(set, 0), cols / TILE, tokens, na, scratch, out, outOffset,
                outStride);
    }

    private void multiplySingle(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                                float[] scratch) {
        int tiles = cols / TILE;
        Vectorized.single(data, tileOffset(set, 0), tiles, qa.shorts, token * cols, qa.scales, token * tiles, out,
                outOffset, scratch);
    }

    /**
     * The token groups multiply the quantized values as floats: an integer pair kernel (bytes widened to shorts
     * once for both tokens, 16-bit products widened to ints per token) measured about two thirds of this one's
     * speed, since it spends seven operations per token and column pair where float FMAs spend four.
     */
    private void multiplyPair(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                              int outStride, float[] scratch) {
        int tiles = cols / TILE;
        Vectorized.pair(data, tileOffset(set, 0), tiles, qa.values, token * cols, cols, qa.scales, token * tiles,
                tiles, out, outOffset, outStride, scratch);
    }

    private void multiplySix(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                             int outStride, float[] scratch) {
        long base = tileOffset(set, 0);
        int tiles = cols / TILE;
        int xo = token * cols;
        int dxo = token * tiles;
        Vectorized.six(data, base, tiles, 0, qa.values, xo, cols, qa.scales, dxo, tiles, out, outOffset, outStride,
                scratch);
        Vectorized.six(data, base, tiles, 1, qa.values, xo, cols, qa.scales, dxo, tiles, out, outOffset, outStride,
                scratch);
    }

    /**
     * The Vector API kernel, kept in a nested class because verifying code that uses vector types loads
     * {@code jdk.incubator.vector}: this way the outer class still links, and runs its scalar kernel, on a JVM
     * started without that module. Only scalars and arrays cross its boundary, so no vector is ever boxed.
     *
     * <p>At 4 lanes (128-bit vectors) one float vector's bytes would be a 32-bit vector, which the Vector API lacks:
     * each float kernel then loads 64-bit byte vectors, two float vectors' worth, and widens their upper half after
     * a rearrange (see {@link VectorShapes#BYTE_PAIR}); the integer kernel loads half a set's bytes, at least 64
     * bits, and needs no such case. {@code lanes} is a constant to the JIT, so a compiled kernel holds only its own
     * width's branch.
     */
    static final class Vectorized {
        private Vectorized() {
        }

        /**
         * One token's quantized activations ({@code xq[xo ..]}, tile scales {@code dx[dxo ..]}) times a set of
         * {@code 4 * lanes} rows starting at byte {@code base}, in integer lanes. Per pair of columns
         * {@code j, j + 1}: each column's bytes for half the set ({@code 2 * lanes} rows) widened to one short
         * vector, multiplied by the broadcast activation in 16 bits, the two columns added in 16 bits (exact:
         * {@code 2 * 128 * 127 = 32512}, a file may hold -128), then each half widened to ints and added into the
         * tile's four int vectors of rows; per tile one float FMA per row with {@code dw * dx}. The widening to
         * shorts takes one instruction per {@code 2 * lanes} weights where widening to floats took two per
         * {@code lanes} (PERFORMANCE.md, "Int8 dot products in pure Java"). 4 lanes need no special case: the
         * half-set byte vector is then 64 bits, a shape the Vector API has. Every vector operation is written out
         * here rather than in helpers: a vector passed to or returned from a call the JIT does not inline is boxed.
         */
        static void single(MemorySegment w, long base, int tiles, short[] xq, int xo, float[] dx, int dxo,
                           float[] out, int oo, float[] scales) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            VectorSpecies<Integer> i32 = VectorShapes.INT;
            VectorSpecies<Short> s16 = VectorShapes.SHORT_WIDE;
            VectorSpecies<Byte> b8 = VectorShapes.BYTE_WIDE;
            int lanes = VectorShapes.LANES;
            int rows = 4 * lanes;
            int half = 2 * lanes;
            long tileBytes = (long) rows * BLOCK_BYTES;
            FloatVector t0 = FloatVector.zero(f);
            FloatVector t1 = t0;
            FloatVector t2 = t0;
            FloatVector t3 = t0;
            for (int b = 0; b < tiles; b++) {
                long s0 = base + b * tileBytes;
                long q0 = s0 + 2L * rows;
                int xb = xo + b * TILE;
                IntVector a0 = IntVector.zero(i32);
                IntVector a1 = a0;
                IntVector a2 = a0;
                IntVector a3 = a0;
                for (int j = 0; j < TILE; j += 2) {
                    ShortVector xa = ShortVector.broadcast(s16, xq[xb + j]);
                    ShortVector xc = ShortVector.broadcast(s16, xq[xb + j + 1]);
                    long o = q0 + (long) j * rows;
                    ShortVector lo0 = (ShortVector) ByteVector.fromMemorySegment(b8, w, o, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2S, s16, 0);
                    ShortVector lo1 = (ShortVector) ByteVector.fromMemorySegment(b8, w, o + half,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, s16, 0);
                    ShortVector hi0 = (ShortVector) ByteVector.fromMemorySegment(b8, w, o + rows,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, s16, 0);
                    ShortVector hi1 = (ShortVector) ByteVector.fromMemorySegment(b8, w, o + rows + half,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, s16, 0);
                    ShortVector p0 = lo0.mul(xa).add(hi0.mul(xc));
                    ShortVector p1 = lo1.mul(xa).add(hi1.mul(xc));
                    a0 = ((IntVector) p0.convertShape(VectorOperators.S2I, i32, 0)).add(a0);
                    a1 = ((IntVector) p0.convertShape(VectorOperators.S2I, i32, 1)).add(a1);
                    a2 = ((IntVector) p1.convertShape(VectorOperators.S2I, i32, 0)).add(a2);
                    a3 = ((IntVector) p1.convertShape(VectorOperators.S2I, i32, 1)).add(a3);
                }
                F16Tensor.Vectorized.scales(w, s0, 2L * lanes, 4, scales, 0);
                float d = dx[dxo + b];
                t0 = ((FloatVector) a0.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(f, scales, 0).mul(d), t0);
                t1 = ((FloatVector) a1.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(f, scales, lanes).mul(d), t1);
                t2 = ((FloatVector) a2.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(f, scales, 2 * lanes).mul(d), t2);
                t3 = ((FloatVector) a3.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(f, scales, 3 * lanes).mul(d), t3);
            }
            t0.intoArray(out, oo);
            t1.intoArray(out, oo + lanes);
            t2.intoArray(out, oo + 2 * lanes);
            t3.intoArray(out, oo + 3 * lanes);
        }

        /**
         * Two tokens' quantized activations as floats ({@code x}, whole numbers -127..127) times a set: each byte
         * vector is widened to floats once and serves both tokens, which is what makes two sequences in a step
         * cheaper than two steps; decoding whole tiles to memory for the tiled kernel costs more than it saves at
         * the token counts of a decode batch. Float FMAs of whole numbers give a tile's integer sum exactly (every
         * partial sum is below 2^24), then one FMA per row with {@code dw * dx} as in {@link #single}. Token
         * {@code i}'s activations start at {@code x[xo + i * xs]}, its tile scales at {@code dx[dxo + i * dxs]},
         * its outputs at {@code out[oo + i * os]}.
         */
        static void pair(MemorySegment w, long base, int tiles, float[] x, int xo, int xs, float[] dx, int dxo,
                         int dxs, float[] out, int oo, int os, float[] scales) {
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
                float da = dx[dxo + b];
                float db = dx[dxo + dxs + b];
                t00 = p00.fma(d0.mul(da), t00);
                t10 = p10.fma(d1.mul(da), t10);
                t20 = p20.fma(d2.mul(da), t20);
                t30 = p30.fma(d3.mul(da), t30);
                t01 = p01.fma(d0.mul(db), t01);
                t11 = p11.fma(d1.mul(db), t11);
                t21 = p21.fma(d2.mul(db), t21);
                t31 = p31.fma(d3.mul(db), t31);
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
         * Six tokens times half a set ({@code 2 * lanes} rows, the half {@code half}), as {@link #pair} (quantized
         * activations as floats, exact tile sums): each byte vector widened to floats serves six tokens, so a
         * decode batch spends a larger share of its instructions on FMAs; half a set keeps the twelve partial and
         * twelve running sums in registers.
         */
        static void six(MemorySegment w, long base, int tiles, int half, float[] x, int xo, int xs, float[] dx,
                        int dxo, int dxs, float[] out, int oo, int os, float[] scales) {
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
                int db = dxo + b;
                float d = dx[db];
                t00 = p00.fma(d0.mul(d), t00);
                t10 = p10.fma(d1.mul(d), t10);
                d = dx[db + dxs];
                t01 = p01.fma(d0.mul(d), t01);
                t11 = p11.fma(d1.mul(d), t11);
                d = dx[db + 2 * dxs];
                t02 = p02.fma(d0.mul(d), t02);
                t12 = p12.fma(d1.mul(d), t12);
                d = dx[db + 3 * dxs];
                t03 = p03.fma(d0.mul(d), t03);
                t13 = p13.fma(d1.mul(d), t13);
                d = dx[db + 4 * dxs];
                t04 = p04.fma(d0.mul(d), t04);
                t14 = p14.fma(d1.mul(d), t14);
                d = dx[db + 5 * dxs];
                t05 = p05.fma(d0.mul(d), t05);
                t15 = p15.fma(d1.mul(d), t15);
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
