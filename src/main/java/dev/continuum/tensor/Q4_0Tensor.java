package dev.continuum.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q4_0 weights: blocks of 32 elements, each a float16 scale and 16 bytes of 4-bit values; element value =
 * d * (nibble - 8). Byte j carries element j in its low nibble and element j + 16 in its high nibble:
 * <pre>
 *   byte:  0    2             3             ...  17
 *         [ d  ][e16 | e0    ][e17 | e1    ] ... [e31 | e15   ]     18 bytes per block
 *               hi 4   lo 4
 * </pre>
 * Like llama.cpp, Q4_0 multiplies activations quantized to 8 bits per tile ({@link QuantizedActivations}): a
 * tile's sum of products is then an exact integer, {@code sum_j (nibble_j - 8) * xq_j}, and a row's output is
 * {@code total = fma(sum, d * dx, total)} over its tiles, whatever kernel computes it. That is what lets the
 * single-token kernel multiply in 16-bit lanes, a whole group of rows per instruction.
 *
 * <p>The interleaved layout therefore differs from the other formats': a group is a whole set of {@code G} rows
 * ({@link Interleaving#SET_ROWS}, one sequential stream for the kernel), and its tile stores, after the {@code G}
 * scales, eight 16-bit "columns" of {@code G} lanes each; lane {@code r} of column {@code c} packs row {@code r}'s
 * nibbles for tile columns {@code c, c+8, c+16, c+24} (bits 0-3, 4-7, 8-11, 12-15). One load then feeds four
 * multiplies with no widening, the costliest operation on the machines this was tuned on:
 * <pre>
 *   [d r0 .. d r(G-1)] [c0: r0 .. r(G-1)] [c1: r0 ..] ... [c7: r0 .. r(G-1)]      G * 18 bytes, as before
 * </pre>
 */
public final class Q4_0Tensor extends WeightTensor {
    private static final int BLOCK_BYTES = 18;

    private final FormatKernels kernels;
    /** Whether the interleaved sets are in the native kernel's layout ({@link VnniLayout}) rather than the one above. */
    private final boolean vnni;

    Q4_0Tensor(String name, MemorySegment data, int rows, int cols, int interleavedRows) {
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
                null,
                // The pair kernel decodes each nibble once for two tokens in registers: measured faster than
                // decoding 16-bit tiles to memory at two and three tokens; at four, level in the kernel benchmark
                // but faster end to end; from five to eight, level in both, so five and up keep the tiles
                // (PERFORMANCE.md, "Kernel design choices measured").
                5,
                VectorSupport.ENABLED ? this::decodeSetTileShorts : null);
        this.kernels = hasOnlyNormalScales() ? all : all.withoutFusedKernels();
    }

    @Override
    FormatKernels kernels() {
        return kernels;
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    int scaleBytes() {
        return 2;
    }

    @Override
    int tileUnits() {
        return TILE / 2;
    }

    @Override
    int unitBytes() {
        return 1;
    }

    @Override
    float weight(int row, int col) {
        int j = col % TILE;
        if (row < interleavedRows && vnni) {
            int g = Interleaving.SET_ROWS;
            int packed = data.get(ValueLayout.JAVA_BYTE, tileOffset(row / g, col / TILE) + VnniLayout.q4Offset(row % g, j));
            return ((VnniLayout.q4High(j) ? packed >> 4 : packed) & 0x0f) - 8;
        }
        if (row < interleavedRows) {
            int g = Interleaving.SET_ROWS;
            long column = tileOffset(row / g, col / TILE) + 2L * g + 2L * ((j % 8) * g + row % g);
            return ((data.get(Q8_0Tensor.SHORT_LE, column) >>> (4 * (j / 8))) & 0x0f) - 8;
        }
        int packed = data.get(ValueLayout.JAVA_BYTE, unitOffset(row, col / TILE, j % (TILE / 2)));
        return (j < TILE / 2 ? packed & 0x0f : (packed >> 4) & 0x0f) - 8;
    }

    /** Nibble-level repacking into (and out of) the 16-bit column layout described on the class. */
    @Override
    void permuteGroup(MemorySegment src, MemorySegment dst, long base, boolean toInterleaved) {
        if (NativeCpuKernels.enabled()) {
            VnniLayout.permuteQ4_0(src, dst, base, rowBytes(), cols / TILE, toInterleaved);
            return;
        }
        int g = Interleaving.SET_ROWS;
        long rowBytes = rowBytes();
        for (int t = 0; t < cols / TILE; t++) {
            long interleavedTile = (long) t * g * BLOCK_BYTES;
            for (int r = 0; r < g; r++) {
                long block = r * rowBytes + (long) t * BLOCK_BYTES;
                long scale = interleavedTile + 2L * r;
                if (toInterleaved) {
                    dst.set(Q8_0Tensor.SHORT_LE, base + scale, src.get(Q8_0Tensor.SHORT_LE, block));
                } else {
                    dst.set(Q8_0Tensor.SHORT_LE, base + block, src.get(Q8_0Tensor.SHORT_LE, scale));
                }
                for (int c = 0; c < 8; c++) {
                    long column = interleavedTile + 2L * g + 2L * (c * g + r);
                    if (toInterleaved) {
                        int v = 0;
                        for (int k = 0; k < 4; k++) {
                            int j = c + 8 * k;
                            int packed = src.get(ValueLayout.JAVA_BYTE, block + 2 + j % 16);
                            v |= (j < 16 ? packed & 0x0f : (packed >> 4) & 0x0f) << (4 * k);
                        }
                        dst.set(Q8_0Tensor.SHORT_LE, base + column, (short) v);
                    } else {
                        int v = src.get(Q8_0Tensor.SHORT_LE, column);
                        for (int k = 0; k < 4; k++) {
                            int j = c + 8 * k;
                            int nibble = (v >>> (4 * k)) & 0x0f;
                            long at = base + block + 2 + j % 16;
                            int packed = dst.get(ValueLayout.JAVA_BYTE, at);
                            packed = j < 16 ? (packed & 0xf0) | nibble : (packed & 0x0f) | (nibble << 4);
                            dst.set(ValueLayout.JAVA_BYTE, at, (byte) packed);
                        }
                    }
                }
            }
        }
    }

    @Override
    float scale(int row, int tile) {
        return Float.float16ToFloat(data.get(Q8_0Tensor.SHORT_LE, scaleOffset(row, tile)));
    }

    /** The reference: quantizes {@code x} as {@link MatMul} does, then sums each tile exactly. */
    @Override
    public float dot(int row, float[] x, int xOffset) {
        return quantizedDot(row, x, xOffset);
    }

    @Override
    float dotRowMajor(int row, float[] x, int xOffset) {
        return dot(row, x, xOffset);
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
            for (int j = 0; j < TILE / 2; j++) {
                int packed = data.get(ValueLayout.JAVA_BYTE, block + 2 + j);
                sum += ((packed & 0x0f) - 8) * qa.shorts[xb + j];
                sum += (((packed >> 4) & 0x0f) - 8) * qa.shorts[xb + j + TILE / 2];
            }
            float d = Float.float16ToFloat(data.get(Q8_0Tensor.SHORT_LE, block));
            total = Math.fma((float) sum, d * qa.scale(token, b), total);
        }
        return total;
    }

    @Override
    void decodeSetTile(int set, int tile, float[] w, float[] s) {
        int lanes = Interleaving.LANES;
        int g = Interleaving.SET_ROWS;
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
        for (int r = 0; r < g; r++) {
            s[r] = Float.float16ToFloat(data.get(Q8_0Tensor.SHORT_LE, base + 2L * r));
        }
        long q = base + 2L * g;
        for (int c = 0; c < 8; c++) {
            for (int r = 0; r < g; r++) {
                int v = data.get(Q8_0Tensor.SHORT_LE, q + 2L * (c * g + r));
                for (int k = 0; k < 4; k++) {
                    w[(c + 8 * k) * g + r] = ((v >>> (4 * k)) & 0x0f) - 8;
                }
            }
        }
    }

    private void multiplyNative(int set, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                                int outOffset, int outStride) {
        NativeCpuKernels.q4_0(data.address() + tileOffset(set, 0), cols / TILE, tokens, na, scratch, out, outOffset,
                outStride);
    }

    /** Tile {@code tile} of set {@code set} as 16-bit {@code nibble - 8}, {@code w[k * SET_ROWS + r]}, and its scales. */
    void decodeSetTileShorts(int set, int tile, short[] w, float[] s) {
        long base = tileOffset(set, tile);
        int g = Interleaving.SET_ROWS;
        for (int r = 0; r < g; r++) {
            s[r] = Float.float16ToFloat(data.get(Q8_0Tensor.SHORT_LE, base + 2L * r));
        }
        long q = base + 2L * g;
        if (VectorSupport.ENABLED) {
            Vectorized.decodeShorts(data, q, w);
            return;
        }
        for (int c = 0; c < 8; c++) {
            for (int r = 0; r < g; r++) {
                int v = data.get(Q8_0Tensor.SHORT_LE, q + 2L * (c * g + r));
                for (int k = 0; k < 4; k++) {
                    w[(c + 8 * k) * g + r] = (short) (((v >>> (4 * k)) & 0x0f) - 8);
                }
            }
        }
    }

    private void multiplyPair(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                              int outStride, float[] scratch) {
        int tilesPerRow = cols / TILE;
        Vectorized.pair(data, tileOffset(set, 0), tilesPerRow, qa.shorts, token * cols, cols, qa.scales,
                token * tilesPerRow, tilesPerRow, out, outOffset, outStride, scratch);
    }

    private void multiplySingle(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                                float[] scratch) {
        Vectorized.single(data, tileOffset(set, 0), cols / TILE, qa.shorts, token * cols, qa.scales, qa.sums,
                token * (cols / TILE), out, outOffset, scratch);
    }

    /**
     * The Vector API kernels, kept in a nested class because verifying code that uses vector types loads
     * {@code jdk.incubator.vector}: this way the outer class still links, and runs its scalar code, on a JVM
     * started without that module. Every vector operation is written out in the kernels rather than in helpers:
     * a vector passed to or returned from a call the JIT does not inline is boxed.
     */
    static final class Vectorized {
        /**
         * Float bits of {@code (i & 15) - 8} for the {@code 2 * lanes} entries a two-table lookup can index; the
         * lookup wraps its index, so a whole byte can index its low nibble, and the byte shifted right by 4 its
         * high nibble. That takes 16 entries, two vectors of 8 or 16 lanes; at 4 lanes {@link #decode} computes
         * the values instead, and these stay null.
         */
        private static final IntVector NIBBLES_LOW = VectorShapes.LANES >= 8 ? nibbleTable(0) : null;
        private static final IntVector NIBBLES_HIGH = VectorShapes.LANES >= 8 ? nibbleTable(VectorShapes.LANES) : null;
        /** A float16's exponent and mantissa moved to a float's positions (bits 13-27). */
        private static final int HALF_MAGNITUDE = 0x0fffe000;
        private static final int HALF_REBIAS = F16Tensor.Vectorized.REBIAS;
        private static final int SIGN = 0x80000000;

        private Vectorized() {
        }

        private static IntVector nibbleTable(int first) {
            int[] t = new int[VectorShapes.LANES];
            for (int i = 0; i < t.length; i++) {
                t[i] = Float.floatToRawIntBits(((first + i) & 15) - 8);
            }
            return IntVector.fromArray(VectorShapes.INT, t, 0);
        }

        /**
         * One token times a set of {@code 4 * lanes} rows starting at byte {@code base}, as two halves of
         * {@code 2 * lanes} rows (one 16-bit vector each). Each 16-bit column holds four nibbles per row; they
         * multiply the broadcast quantized activations of their four tile columns in 16-bit lanes. Sixteen columns
         * of products (at most 16 * 15 * 127 in magnitude) fit a 16-bit accumulator exactly, then widen into
         * 32-bit sums. The weights' offset of 8 comes off at the end of each tile: sum (q-8) x = sum q x - 8 sum x.
         */
        static void single(MemorySegment w, long base, int tiles, short[] xq, int xo, float[] dx, int[] xsum,
                           int to, float[] out, int oo, float[] scratch) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            VectorSpecies<Integer> i32 = VectorShapes.INT;
            VectorSpecies<Short> s16 = VectorShapes.SHORT_WIDE;
            int lanes = VectorShapes.LANES;
            int rows = 4 * lanes;
            long tileBytes = (long) rows * BLOCK_BYTES;
            long columnBytes = 2L * rows;
            long halfBytes = 4L * lanes;
            ShortVector nibble = ShortVector.broadcast(s16, (short) 0x0f);
            // Shift counts as scalars: with broadcast-vector counts some compilations left the shifts
            // unintrinsified and boxed every vector.
            // Accumulators hold even rows (t0, t2) and odd rows (t1, t3) of each half: a 16-bit lane pair read as
            // one 32-bit lane splits into its even and odd row by two shifts, where widening the halves in row
            // order costs a cross-lane permute each. The tile's scales are read the same way, so they pair up.
            FloatVector t0 = FloatVector.zero(f);
            FloatVector t1 = t0;
            FloatVector t2 = t0;
            FloatVector t3 = t0;
            for (int b = 0; b < tiles; b++) {
                long s0 = base + b * tileBytes;
                long q0 = s0 + 2L * rows;
                long q1 = q0 + halfBytes;
                int xb = xo + b * TILE;
                IntVector i0 = IntVector.zero(i32);
                IntVector i1 = i0;
                IntVector i2 = i0;
                IntVector i3 = i0;
                for (int half = 0; half < 8; half += 4) {
                    ShortVector a0 = ShortVector.zero(s16);
                    ShortVector a1 = a0;
                    for (int c = half; c < half + 4; c++) {
                        ShortVector x0 = ShortVector.broadcast(s16, xq[xb + c]);
                        ShortVector x1 = ShortVector.broadcast(s16, xq[xb + c + 8]);
                        ShortVector x2 = ShortVector.broadcast(s16, xq[xb + c + 16]);
                        ShortVector x3 = ShortVector.broadcast(s16, xq[xb + c + 24]);
                        ShortVector v0 = ShortVector.fromMemorySegment(s16, w, q0 + c * columnBytes,
                                ByteOrder.LITTLE_ENDIAN);
                        ShortVector v1 = ShortVector.fromMemorySegment(s16, w, q1 + c * columnBytes,
                                ByteOrder.LITTLE_ENDIAN);
                        a0 = v0.and(nibble).mul(x0).add(a0)
                                .add(v0.lanewise(VectorOperators.LSHR, 4).and(nibble).mul(x1))
                                .add(v0.lanewise(VectorOperators.LSHR, 8).and(nibble).mul(x2))
                                .add(v0.lanewise(VectorOperators.LSHR, 12).mul(x3));
                        a1 = v1.and(nibble).mul(x0).add(a1)
                                .add(v1.lanewise(VectorOperators.LSHR, 4).and(nibble).mul(x1))
                                .add(v1.lanewise(VectorOperators.LSHR, 8).and(nibble).mul(x2))
                                .add(v1.lanewise(VectorOperators.LSHR, 12).mul(x3));
                    }
                    IntVector p0 = a0.reinterpretAsInts();
                    IntVector p1 = a1.reinterpretAsInts();
                    i0 = p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i0);
                    i1 = p0.lanewise(VectorOperators.ASHR, 16).add(i1);
                    i2 = p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i2);
                    i3 = p1.lanewise(VectorOperators.ASHR, 16).add(i3);
                }
                int offset = 8 * xsum[to + b];
                FloatVector d = FloatVector.broadcast(f, dx[to + b]);
                // float16 scales to float bits (as F16Tensor.Vectorized.scales, which see), even and odd rows.
                // Written out here and in pair: as a call writing to scratch it measured clearly slower in both
                // (PERFORMANCE.md, "Kernel design choices measured").
                IntVector h0 = IntVector.fromMemorySegment(i32, w, s0, ByteOrder.LITTLE_ENDIAN);
                IntVector h1 = IntVector.fromMemorySegment(i32, w, s0 + halfBytes, ByteOrder.LITTLE_ENDIAN);
                IntVector m0 = h0.lanewise(VectorOperators.LSHL, 13).and(HALF_MAGNITUDE);
                IntVector m1 = h0.lanewise(VectorOperators.LSHR, 3).and(HALF_MAGNITUDE);
                IntVector m2 = h1.lanewise(VectorOperators.LSHL, 13).and(HALF_MAGNITUDE);
                IntVector m3 = h1.lanewise(VectorOperators.LSHR, 3).and(HALF_MAGNITUDE);
                FloatVector d0 = m0.lanewise(VectorOperators.ADD, HALF_REBIAS, m0.compare(VectorOperators.NE, 0))
                        .or(h0.lanewise(VectorOperators.LSHL, 16).and(SIGN)).reinterpretAsFloats();
                FloatVector d1 = m1.lanewise(VectorOperators.ADD, HALF_REBIAS, m1.compare(VectorOperators.NE, 0))
                        .or(h0.and(SIGN)).reinterpretAsFloats();
                FloatVector d2 = m2.lanewise(VectorOperators.ADD, HALF_REBIAS, m2.compare(VectorOperators.NE, 0))
                        .or(h1.lanewise(VectorOperators.LSHL, 16).and(SIGN)).reinterpretAsFloats();
                FloatVector d3 = m3.lanewise(VectorOperators.ADD, HALF_REBIAS, m3.compare(VectorOperators.NE, 0))
                        .or(h1.and(SIGN)).reinterpretAsFloats();
                t0 = ((FloatVector) i0.sub(offset).convert(VectorOperators.I2F, 0)).fma(d0.mul(d), t0);
                t1 = ((FloatVector) i1.sub(offset).convert(VectorOperators.I2F, 0)).fma(d1.mul(d), t1);
                t2 = ((FloatVector) i2.sub(offset).convert(VectorOperators.I2F, 0)).fma(d2.mul(d), t2);
                t3 = ((FloatVector) i3.sub(offset).convert(VectorOperators.I2F, 0)).fma(d3.mul(d), t3);
            }
            // Back to row order, once per set.
            t0.intoArray(scratch, 0);
            t1.intoArray(scratch, lanes);
            t2.intoArray(scratch, 2 * lanes);
            t3.intoArray(scratch, 3 * lanes);
            unpair(scratch, out, oo);
        }

        /**
         * Two tokens times a set, as {@link #single} but with each nibble decoded once for both tokens, and
         * decoded as {@code nibble - 8}: a whole tile's products (at most 32 * 8 * 127) then fit one 16-bit
         * accumulator, with no 32-bit sums and no offset. The integer sums, and so the outputs, are the same.
         * Token {@code i}'s activations start at {@code xq[xo + i * xs]}, its tile scales at
         * {@code dx[dxo + i * dxs]}, its outputs at {@code out[oo + i * os]}.
         */
        static void pair(MemorySegment w, long base, int tiles, short[] xq, int xo, int xs, float[] dx, int dxo,
                         int dxs, float[] out, int oo, int os, float[] scratch) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            VectorSpecies<Integer> i32 = VectorShapes.INT;
            VectorSpecies<Short> s16 = VectorShapes.SHORT_WIDE;
            int lanes = VectorShapes.LANES;
            int rows = 4 * lanes;
            long tileBytes = (long) rows * BLOCK_BYTES;
            long columnBytes = 2L * rows;
            long halfBytes = 4L * lanes;
            ShortVector nibble = ShortVector.broadcast(s16, (short) 0x0f);
            ShortVector eight = ShortVector.broadcast(s16, (short) 8);
            // Even rows in t*0 and t*2, odd rows in t*1 and t*3, as in single.
            FloatVector t00 = FloatVector.zero(f);
            FloatVector t01 = t00;
            FloatVector t02 = t00;
            FloatVector t03 = t00;
            FloatVector t10 = t00;
            FloatVector t11 = t00;
            FloatVector t12 = t00;
            FloatVector t13 = t00;
            for (int b = 0; b < tiles; b++) {
                long s0 = base + b * tileBytes;
                long q0 = s0 + 2L * rows;
                long q1 = q0 + halfBytes;
                int xa = xo + b * TILE;
                int xb = xa + xs;
                ShortVector a00 = ShortVector.zero(s16);
                ShortVector a01 = a00;
                ShortVector a10 = a00;
                ShortVector a11 = a00;
                for (int c = 0; c < 8; c++) {
                    ShortVector x0 = ShortVector.broadcast(s16, xq[xa + c]);
                    ShortVector x1 = ShortVector.broadcast(s16, xq[xa + c + 8]);
                    ShortVector x2 = ShortVector.broadcast(s16, xq[xa + c + 16]);
                    ShortVector x3 = ShortVector.broadcast(s16, xq[xa + c + 24]);
                    ShortVector y0 = ShortVector.broadcast(s16, xq[xb + c]);
                    ShortVector y1 = ShortVector.broadcast(s16, xq[xb + c + 8]);
                    ShortVector y2 = ShortVector.broadcast(s16, xq[xb + c + 16]);
                    ShortVector y3 = ShortVector.broadcast(s16, xq[xb + c + 24]);
                    ShortVector v = ShortVector.fromMemorySegment(s16, w, q0 + c * columnBytes,
                            ByteOrder.LITTLE_ENDIAN);
                    ShortVector n0 = v.and(nibble).sub(eight);
                    ShortVector n1 = v.lanewise(VectorOperators.LSHR, 4).and(nibble).sub(eight);
                    ShortVector n2 = v.lanewise(VectorOperators.LSHR, 8).and(nibble).sub(eight);
                    ShortVector n3 = v.lanewise(VectorOperators.LSHR, 12).sub(eight);
                    a00 = n0.mul(x0).add(a00).add(n1.mul(x1)).add(n2.mul(x2)).add(n3.mul(x3));
                    a10 = n0.mul(y0).add(a10).add(n1.mul(y1)).add(n2.mul(y2)).add(n3.mul(y3));
                    v = ShortVector.fromMemorySegment(s16, w, q1 + c * columnBytes, ByteOrder.LITTLE_ENDIAN);
                    n0 = v.and(nibble).sub(eight);
                    n1 = v.lanewise(VectorOperators.LSHR, 4).and(nibble).sub(eight);
                    n2 = v.lanewise(VectorOperators.LSHR, 8).and(nibble).sub(eight);
                    n3 = v.lanewise(VectorOperators.LSHR, 12).sub(eight);
                    a01 = n0.mul(x0).add(a01).add(n1.mul(x1)).add(n2.mul(x2)).add(n3.mul(x3));
                    a11 = n0.mul(y0).add(a11).add(n1.mul(y1)).add(n2.mul(y2)).add(n3.mul(y3));
                }
                // float16 scales to float bits, even and odd rows (as in single).
                IntVector h0 = IntVector.fromMemorySegment(i32, w, s0, ByteOrder.LITTLE_ENDIAN);
                IntVector h1 = IntVector.fromMemorySegment(i32, w, s0 + halfBytes, ByteOrder.LITTLE_ENDIAN);
                IntVector m0 = h0.lanewise(VectorOperators.LSHL, 13).and(HALF_MAGNITUDE);
                IntVector m1 = h0.lanewise(VectorOperators.LSHR, 3).and(HALF_MAGNITUDE);
                IntVector m2 = h1.lanewise(VectorOperators.LSHL, 13).and(HALF_MAGNITUDE);
                IntVector m3 = h1.lanewise(VectorOperators.LSHR, 3).and(HALF_MAGNITUDE);
                FloatVector d0 = m0.lanewise(VectorOperators.ADD, HALF_REBIAS, m0.compare(VectorOperators.NE, 0))
                        .or(h0.lanewise(VectorOperators.LSHL, 16).and(SIGN)).reinterpretAsFloats();
                FloatVector d1 = m1.lanewise(VectorOperators.ADD, HALF_REBIAS, m1.compare(VectorOperators.NE, 0))
                        .or(h0.and(SIGN)).reinterpretAsFloats();
                FloatVector d2 = m2.lanewise(VectorOperators.ADD, HALF_REBIAS, m2.compare(VectorOperators.NE, 0))
                        .or(h1.lanewise(VectorOperators.LSHL, 16).and(SIGN)).reinterpretAsFloats();
                FloatVector d3 = m3.lanewise(VectorOperators.ADD, HALF_REBIAS, m3.compare(VectorOperators.NE, 0))
                        .or(h1.and(SIGN)).reinterpretAsFloats();
                float da = dx[dxo + b];
                float db = dx[dxo + dxs + b];
                IntVector p0 = a00.reinterpretAsInts();
                IntVector p1 = a01.reinterpretAsInts();
                t00 = ((FloatVector) p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(d0.mul(da), t00);
                t01 = ((FloatVector) p0.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(d1.mul(da), t01);
                t02 = ((FloatVector) p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(d2.mul(da), t02);
                t03 = ((FloatVector) p1.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(d3.mul(da), t03);
                p0 = a10.reinterpretAsInts();
                p1 = a11.reinterpretAsInts();
                t10 = ((FloatVector) p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(d0.mul(db), t10);
                t11 = ((FloatVector) p0.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(d1.mul(db), t11);
                t12 = ((FloatVector) p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(d2.mul(db), t12);
                t13 = ((FloatVector) p1.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(d3.mul(db), t13);
            }
            t00.intoArray(scratch, 0);
            t01.intoArray(scratch, lanes);
            t02.intoArray(scratch, 2 * lanes);
            t03.intoArray(scratch, 3 * lanes);
            unpair(scratch, out, oo);
            t10.intoArray(scratch, 0);
            t11.intoArray(scratch, lanes);
            t12.intoArray(scratch, 2 * lanes);
            t13.intoArray(scratch, 3 * lanes);
            unpair(scratch, out, oo + os);
        }

        /** Even-row and odd-row sums (four vectors' worth in {@code sums}) back to row order in {@code out}. */
        private static void unpair(float[] sums, float[] out, int oo) {
            int lanes = VectorShapes.LANES;
            for (int j = 0; j < lanes; j++) {
                out[oo + 2 * j] = sums[j];
                out[oo + 2 * j + 1] = sums[lanes + j];
                out[oo + 2 * lanes + 2 * j] = sums[2 * lanes + j];
                out[oo + 2 * lanes + 2 * j + 1] = sums[3 * lanes + j];
            }
        }

        /** A set's tile quants (at {@code q}) as 16-bit {@code nibble - 8}, in natural column order. */
        static void decodeShorts(MemorySegment w, long q, short[] out) {
            VectorSpecies<Short> s16 = VectorShapes.SHORT_WIDE;
            int half = s16.length();
            int rows = 2 * half;
            // Shift counts and masks as scalars: with vector operands some compilations left the shifts
            // unintrinsified and boxed every vector (SteadyStateAllocationTest failed about one run in three).
            for (int c = 0; c < 8; c++) {
                for (int h = 0; h < rows; h += half) {
                    ShortVector v = ShortVector.fromMemorySegment(s16, w, q + 2L * (c * rows + h),
                            ByteOrder.LITTLE_ENDIAN);
                    v.and((short) 0x0f).sub((short) 8).intoArray(out, c * rows + h);
                    v.lanewise(VectorOperators.LSHR, 4).and((short) 0x0f).sub((short) 8)
                            .intoArray(out, (c + 8) * rows + h);
                    v.lanewise(VectorOperators.LSHR, 8).and((short) 0x0f).sub((short) 8)
                            .intoArray(out, (c + 16) * rows + h);
                    v.lanewise(VectorOperators.LSHR, 12).sub((short) 8).intoArray(out, (c + 24) * rows + h);
                }
            }
        }

        /** A set's tile ({@code 4 * lanes} rows at {@code base}) as floats for {@link TileKernel}, in natural column order. */
        static void decode(MemorySegment w, long base, float[] out, float[] s) {
            IntVector lowTable = NIBBLES_LOW;
            IntVector highTable = NIBBLES_HIGH;
            int lanes = VectorShapes.LANES;
            int rows = 4 * lanes;
            F16Tensor.Vectorized.scales(w, base, 2L * lanes, 4, s, 0);
            long q = base + 2L * rows;
            if (lanes == 4) {
                decodeArithmetic(w, q, out);
                return;
            }
            for (int c = 0; c < 8; c++) {
                for (int part = 0; part < 4; part++) {
                    int o = part * lanes;
                    IntVector v = (IntVector) ShortVector.fromMemorySegment(VectorShapes.SHORT, w,
                            q + 2L * (c * rows + o), ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_S2I, VectorShapes.INT, 0);
                    v.selectFrom(lowTable, highTable).reinterpretAsFloats().intoArray(out, c * rows + o);
                    v.lanewise(VectorOperators.LSHR, 4).selectFrom(lowTable, highTable).reinterpretAsFloats()
                            .intoArray(out, (c + 8) * rows + o);
                    v.lanewise(VectorOperators.LSHR, 8).selectFrom(lowTable, highTable).reinterpretAsFloats()
                            .intoArray(out, (c + 16) * rows + o);
                    v.lanewise(VectorOperators.LSHR, 12).selectFrom(lowTable, highTable).reinterpretAsFloats()
                            .intoArray(out, (c + 24) * rows + o);
                }
            }
        }

        /**
         * {@link #decode}'s tile quants at 4 lanes, where two tables of 4 lanes cannot hold the 16 nibble values:
         * each nibble is masked, offset by 8 and converted, which gives the same floats exactly (small integers).
         */
        private static void decodeArithmetic(MemorySegment w, long q, float[] out) {
            int lanes = VectorShapes.LANES;
            int rows = 4 * lanes;
            for (int c = 0; c < 8; c++) {
                for (int part = 0; part < 4; part++) {
                    int o = part * lanes;
                    IntVector v = (IntVector) ShortVector.fromMemorySegment(VectorShapes.SHORT, w,
                            q + 2L * (c * rows + o), ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_S2I, VectorShapes.INT, 0);
                    ((FloatVector) v.and(0x0f).sub(8).convert(VectorOperators.I2F, 0))
                            .intoArray(out, c * rows + o);
                    ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).and(0x0f).sub(8)
                            .convert(VectorOperators.I2F, 0)).intoArray(out, (c + 8) * rows + o);
                    ((FloatVector) v.lanewise(VectorOperators.LSHR, 8).and(0x0f).sub(8)
                            .convert(VectorOperators.I2F, 0)).intoArray(out, (c + 16) * rows + o);
                    ((FloatVector) v.lanewise(VectorOperators.LSHR, 12).sub(8)
                            .convert(VectorOperators.I2F, 0)).intoArray(out, (c + 24) * rows + o);
                }
            }
        }
    }
}
