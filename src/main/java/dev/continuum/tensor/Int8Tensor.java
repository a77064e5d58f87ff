package dev.continuum.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * gpt-fast's weight-only int8 ({@code --quantize int8}): one symmetric scale per output row,
 * {@code scale = max|w_row| / 127} (at least float epsilon, so a zero row stays 0), {@code q = clamp(rint(w / scale),
 * -128, 127)} with round-half-even as {@code torch.round}. gpt-fast divides by 127.5 and clamps at 127; dividing by
 * 127 keeps every weight within {@code scale / 2} of its code with no clamped outlier.
 *
 * <p>Layout: {@code q} row after row, one signed byte per weight; the scales as a float array, one per row.
 * Order (see {@link LoadTimeQuantized}): {@code w[j] = (float) q[j]}; the folded sum is multiplied by the row's
 * scale once, as gpt-fast's {@code linear(x, q) * scales}.
 */
public final class Int8Tensor extends LoadTimeQuantized {
    private final byte[] q;
    private final float[] scales;

    private Int8Tensor(String name, byte[] q, float[] scales, int rows, int cols, GgmlType source) {
        super(name, MemorySegment.ofArray(q), rows, cols, source);
        this.q = q;
        this.scales = scales;
    }

    /** Quantizes a float tensor (F32, F16, BF16), row by row. */
    public static Int8Tensor quantize(WeightTensor src) {
        int rows = src.rows();
        int cols = src.cols();
        byte[] q = new byte[Math.multiplyExact(rows, cols)];
        float[] scales = new float[rows];
        float[] w = new float[cols];
        for (int r = 0; r < rows; r++) {
            src.dequantizeRow(r, w, 0);
            float max = 0f;
            for (float v : w) {
                max = Math.max(max, Math.abs(v));
            }
            float scale = Math.max(max / 127f, Math.ulp(1f));
            scales[r] = scale;
            for (int j = 0; j < cols; j++) {
                float c = (float) Math.rint(w[j] / scale);
                q[r * cols + j] = (byte) Math.max(-128f, Math.min(127f, c));
            }
        }
        return new Int8Tensor(src.name(), q, scales, rows, cols, src.type());
    }

    @Override
    public String format() {
        return "int8";
    }

    /** The row's scale, for tests. */
    public float rowScale(int row) {
        return scales[row];
    }

    @Override
    float weight(int row, int col) {
        return q[row * cols + col];
    }

    @Override
    float dequantized(int row, int col) {
        return q[row * cols + col] * scales[row];
    }

    @Override
    float finish(int row, float s) {
        return s * scales[row];
    }

    @Override
    float vectorDot(int row, float[] x, int xOffset) {
        return kernel(q, row * cols, cols, x, xOffset) * scales[row];
    }

    /** Sixteen columns per step: one 128-bit byte load widened into 16 / lanes float vectors. */
    static float kernel(byte[] q, int base, int cols, float[] x, int xo) {
        VectorSpecies<Float> f = VectorShapes.FLOAT;
        int lanes = VectorShapes.LANES;
        FloatVector a0 = FloatVector.zero(f);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int j = 0; j < cols; j += SUMS) {
            ByteVector b = ByteVector.fromArray(ByteVector.SPECIES_128, q, base + j);
            a0 = ((FloatVector) b.convertShape(VectorOperators.B2F, f, 0))
                    .fma(FloatVector.fromArray(f, x, xo + j), a0);
            if (lanes <= 8) {
                a1 = ((FloatVector) b.convertShape(VectorOperators.B2F, f, 1))
                        .fma(FloatVector.fromArray(f, x, xo + j + lanes), a1);
            }
            if (lanes == 4) {
                a2 = ((FloatVector) b.convertShape(VectorOperators.B2F, f, 2))
                        .fma(FloatVector.fromArray(f, x, xo + j + 8), a2);
                a3 = ((FloatVector) b.convertShape(VectorOperators.B2F, f, 3))
                        .fma(FloatVector.fromArray(f, x, xo + j + 12), a3);
            }
        }
        return foldLanes(a0, a1, a2, a3);
    }
}
