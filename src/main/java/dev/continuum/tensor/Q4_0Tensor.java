package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
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
 */
public final class Q4_0Tensor extends WeightTensor {
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 18;
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    Q4_0Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        return VectorSupport.ENABLED ? dotVector(row, x, xOffset) : dotScalar(row, x, xOffset);
    }

    @Override
    float dotScalar(int row, float[] x, int xOffset) {
        checkDotArguments(row, x, xOffset);
        return dotScalar(data, rowOffset(row), cols / BLOCK, x, xOffset);
    }

    @Override
    float dotVector(int row, float[] x, int xOffset) {
        checkDotArguments(row, x, xOffset);
        return Vectorized.dot(data, rowOffset(row), cols / BLOCK, x, xOffset);
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = rowOffset(row);
        for (int b = 0; b < cols / BLOCK; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(SHORT_LE, block));
            int o = outOffset + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j++) {
                int packed = data.get(ValueLayout.JAVA_BYTE, block + 2 + j);
                out[o + j] = d * ((packed & 0x0f) - 8);
                out[o + j + BLOCK / 2] = d * (((packed >> 4) & 0x0f) - 8);
            }
        }
    }

    private long rowOffset(int row) {
        return (long) row * (cols / BLOCK) * BLOCK_BYTES;
    }

    static float dotScalar(MemorySegment w, long base, int blocks, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            int xb = xo + b * BLOCK;
            float blockSum = 0f;
            for (int j = 0; j < BLOCK / 2; j++) {
                int packed = w.get(ValueLayout.JAVA_BYTE, block + 2 + j);
                blockSum += ((packed & 0x0f) - 8) * x[xb + j];
                blockSum += (((packed >> 4) & 0x0f) - 8) * x[xb + j + BLOCK / 2];
            }
            sum += Float.float16ToFloat(w.get(SHORT_LE, block)) * blockSum;
        }
        return sum;
    }

    /**
     * The Vector API kernel, kept in a nested class because verifying code that uses vector types loads
     * {@code jdk.incubator.vector}: this way the outer class still links, and runs its scalar kernel, on a JVM
     * started without that module. Only scalars cross into {@link #dot}, so no vector is ever boxed.
     */
    static final class Vectorized {
        private Vectorized() {
        }

        static float dot(MemorySegment w, long base, int blocks, float[] x, int xo) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            // Even and odd blocks go to separate accumulators so consecutive blocks' FMAs do not wait on each other.
            FloatVector acc0 = FloatVector.zero(f);
            FloatVector acc1 = FloatVector.zero(f);
            int b = 0;
            for (; b + 1 < blocks; b += 2) {
                acc0 = block(w, base + (long) b * BLOCK_BYTES, x, xo + b * BLOCK, acc0);
                acc1 = block(w, base + (long) (b + 1) * BLOCK_BYTES, x, xo + (b + 1) * BLOCK, acc1);
            }
            if (b < blocks) {
                acc0 = block(w, base + (long) b * BLOCK_BYTES, x, xo + b * BLOCK, acc0);
            }
            return VectorShapes.sumLanes(acc0.add(acc1));
        }

        /** acc + d * (q . x) for one block; low nibbles pair with x[0..16), high nibbles with x[16..32). */
        private static FloatVector block(MemorySegment w, long block, float[] x, int xb, FloatVector acc) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            int lanes = f.length();
            FloatVector partial = null;
            for (int i = 0; i < BLOCK / 2; i += lanes) {
                ByteVector packed = ByteVector.fromMemorySegment(VectorShapes.BYTE, w, block + 2 + i,
                        ByteOrder.LITTLE_ENDIAN);
                ByteVector lo = packed.and((byte) 0x0f).sub((byte) 8);
                ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
                FloatVector lof = (FloatVector) lo.convertShape(VectorOperators.B2F, f, 0);
                FloatVector hif = (FloatVector) hi.convertShape(VectorOperators.B2F, f, 0);
                FloatVector xlo = FloatVector.fromArray(f, x, xb + i);
                // Start from a product: an fma into a zero vector is a wasted dependent op on every block.
                partial = i == 0 ? lof.mul(xlo) : lof.fma(xlo, partial);
                partial = hif.fma(FloatVector.fromArray(f, x, xb + BLOCK / 2 + i), partial);
            }
            float d = Float.float16ToFloat(w.get(SHORT_LE, block));
            return partial.fma(FloatVector.broadcast(f, d), acc);
        }
    }
}
