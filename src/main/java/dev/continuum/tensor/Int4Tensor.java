package dev.continuum.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * gpt-fast's group-wise int4 ({@code --quantize int4:G}): per group of {@code G} columns of a row (G a multiple of
 * 32 from 32 to 256), {@code scale = max(max - min, 1e-6) / 15} (gpt-fast's clamp guards a constant group),
 * {@code zero = min + scale * 8}, {@code q = clamp(rint((w - min) / scale), 0, 15)}; decoded
 * {@code w = fma(q - 8, scale, zero)}. Scales and zeros are stored as float32, not gpt-fast's bfloat16: the
 * decode then reproduces the {@code min} the codes were rounded against to within float rounding, so every weight
 * stays within about {@code scale / 2} of its code (bfloat16 zeros alone would move a group by up to 2^-9 of its
 * magnitude), at 8 bytes per group (0.25 bit per weight more than bf16 at G = 128).
 *
 * <p>Layout: each row's codes in tiles of 32 columns, 16 bytes a tile:
 * <pre>
 *   byte i (0..15):  bits 7..4 = q[col 16 + i]   bits 3..0 = q[col i]
 * </pre>
 * so one 16-byte load gives columns 0..15 from its low nibbles and 16..31 from its high nibbles, in order. Scales
 * and zeros: float arrays, row after row, one per group. Order: the shared one of {@link LoadTimeQuantized} with
 * {@code w[j]} as above; no final scale.
 */
public final class Int4Tensor extends LoadTimeQuantized {
    private final byte[] packed;
    private final float[] scales;
    private final float[] zeros;
    private final int group;
    private final int groupsPerRow;

    private Int4Tensor(String name, byte[] packed, float[] scales, float[] zeros, int group, int rows, int cols,
                       GgmlType source) {
        super(name, MemorySegment.ofArray(packed), rows, cols, source);
        this.packed = packed;
        this.scales = scales;
        this.zeros = zeros;
        this.group = group;
        this.groupsPerRow = cols / group;
    }

    /** Quantizes a float tensor whose rows are whole groups of {@code group} columns. */
    public static Int4Tensor quantize(WeightTensor src, int group) {
        int rows = src.rows();
        int cols = src.cols();
        if (group % NIBBLE_TILE != 0 || cols % group != 0) {
            throw new IllegalArgumentException("tensor '" + src.name() + "' rows of " + cols
                    + " columns are not whole int4 groups of " + group);
        }
        int groups = cols / group;
        byte[] packed = new byte[Math.multiplyExact(rows, cols / 2)];
        float[] scales = new float[rows * groups];
        float[] zeros = new float[rows * groups];
        float[] w = new float[cols];
        for (int r = 0; r < rows; r++) {
            src.dequantizeRow(r, w, 0);
            for (int g = 0; g < groups; g++) {
                float min = Float.POSITIVE_INFINITY;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = g * group; j < (g + 1) * group; j++) {
                    min = Math.min(min, w[j]);
                    max = Math.max(max, w[j]);
                }
                float scale = Math.max(max - min, 1e-6f) / 15f;
                scales[r * groups + g] = scale;
                zeros[r * groups + g] = min + scale * 8f;
                for (int j = g * group; j < (g + 1) * group; j++) {
                    int c = (int) Math.max(0f, Math.min(15f, (float) Math.rint((w[j] - min) / scale)));
                    setNibble(packed, r * (cols / 2), j, c);
                }
            }
        }
        return new Int4Tensor(src.name(), packed, scales, zeros, group, rows, cols, src.type());
    }

    /** Stores code {@code c} of column {@code j} in a row starting at byte {@code rowBase}, as the layout draws. */
    static void setNibble(byte[] packed, int rowBase, int j, int c) {
        int at = rowBase + j / NIBBLE_TILE * 16 + j % 16;
        int shift = j % NIBBLE_TILE >= 16 ? 4 : 0;
        packed[at] = (byte) (packed[at] & ~(0xF << shift) | c << shift);
    }

    static int nibble(byte[] packed, int rowBase, int j) {
        int b = packed[rowBase + j / NIBBLE_TILE * 16 + j % 16];
        return j % NIBBLE_TILE >= 16 ? b >> 4 & 0xF : b & 0xF;
    }

    @Override
    public String format() {
        return "int4:" + group;
    }

    /** The 4-bit code of an element, 0..15, for tests. */
    public int code(int row, int col) {
        return nibble(packed, row * (cols / 2), col);
    }

    /** The scale of {@code row}'s group {@code g}, for tests. */
    public float groupScale(int row, int g) {
        return scales[row * groupsPerRow + g];
    }

    @Override
    float weight(int row, int col) {
        int g = row * groupsPerRow + col / group;
        return Math.fma((float) (code(row, col) - 8), scales[g], zeros[g]);
    }

    @Override
    float vectorDot(int row, float[] x, int xOffset) {
        return kernel(packed, row * (cols / 2), cols, group, scales, zeros, row * groupsPerRow, x, xOffset);
    }

    /** A tile of 32 columns per step: one 16-byte load, its low then its high nibbles, minus 8, widened. */
    static float kernel(byte[] packed, int base, int cols, int group, float[] scales, float[] zeros, int g0,
                        float[] x, int xo) {
        VectorSpecies<Float> f = VectorShapes.FLOAT;
        FloatVector zero = FloatVector.zero(f);
        FloatVector a0 = zero;
        FloatVector a1 = zero;
        FloatVector a2 = zero;
        FloatVector a3 = zero;
        int lanes = VectorShapes.LANES;
        for (int j = 0; j < cols; j += NIBBLE_TILE) {
            int g = g0 + j / group;
            FloatVector d = FloatVector.broadcast(f, scales[g]);
            FloatVector z = FloatVector.broadcast(f, zeros[g]);
            ByteVector b = ByteVector.fromArray(ByteVector.SPECIES_128, packed, base + j / 2);
            for (int h = 0; h < 2; h++) {
                ByteVector c = (h == 0 ? b.and((byte) 0xF) : b.lanewise(VectorOperators.LSHR, 4)).sub((byte) 8);
                int xc = xo + j + 16 * h;
                a0 = ((FloatVector) c.convertShape(VectorOperators.B2F, f, 0)).fma(d, z)
                        .fma(FloatVector.fromArray(f, x, xc), a0);
                if (lanes <= 8) {
                    a1 = ((FloatVector) c.convertShape(VectorOperators.B2F, f, 1)).fma(d, z)
                            .fma(FloatVector.fromArray(f, x, xc + lanes), a1);
                }
                if (lanes == 4) {
                    a2 = ((FloatVector) c.convertShape(VectorOperators.B2F, f, 2)).fma(d, z)
                            .fma(FloatVector.fromArray(f, x, xc + 8), a2);
                    a3 = ((FloatVector) c.convertShape(VectorOperators.B2F, f, 3)).fma(d, z)
                            .fma(FloatVector.fromArray(f, x, xc + 12), a3);
                }
            }
        }
        return foldLanes(a0, a1, a2, a3);
    }
}
