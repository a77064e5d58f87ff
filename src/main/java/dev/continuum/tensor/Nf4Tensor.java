package dev.continuum.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * bitsandbytes' 4-bit NormalFloat ({@code --quantize nf4}, {@code quant_type="nf4"}, {@code blocksize=64},
 * {@code compress_statistics=True}): each block of 64 weights (within a row; rows must be whole blocks) keeps its
 * {@code absmax}, and each weight the index of the nearest of the 16 {@link #LEVELS} to {@code w / absmax} (ties
 * between two levels go to the lower; thresholds are the float midpoints of neighbouring levels, which
 * bitsandbytes' decision tree writes out as decimal literals).
 *
 * <p>Double quantization, as bitsandbytes' {@code quantize_4bit} does with {@code compress_statistics}: the mean
 * of all the tensor's absmax values is subtracted ({@code offset}, one float), and the centred values are
 * quantized blockwise in blocks of 256 with bitsandbytes' default 8-bit signed dynamic map
 * ({@code create_dynamic_map(signed=True)}, {@link DynamicMap}): a float absmax per 256 block and one byte per
 * 64-weight block, the nearest code. Decoding gives {@code absmax' = map[code] * absmax2 + offset} (a multiply
 * then an add, as {@code dequantize_blockwise} then {@code += offset}); the weight codes were chosen against the
 * exact absmax, as bitsandbytes chooses them.
 *
 * <p>Layout: codes nibble-packed in 32-column tiles as {@link Int4Tensor} draws it; block scales as the decoded
 * float {@code absmax'} per block (decoded once at load: the 8-bit codes, {@code absmax2} and {@code offset} are
 * what the format means, the floats what the kernel reads). Order: the shared one of {@link LoadTimeQuantized}
 * with {@code w[j] = LEVELS[q[j]] * absmax'} (float activations times decoded levels, as bitsandbytes' kernels in
 * float); no final scale.
 */
public final class Nf4Tensor extends LoadTimeQuantized {
    /** Weights per absmax block. */
    public static final int BLOCK = 64;
    /** 64-weight blocks per double-quantization block. */
    public static final int STAT_BLOCK = 256;
    /** bitsandbytes' NF4 code book ({@code get_4bit_type("nf4")}), index 0..15. */
    public static final float[] LEVELS = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    };
    /** Byte {@code k} (little-endian) of each level's float bits: four 16-entry tables the kernel looks up. */
    private static final byte[][] LEVEL_BYTES = levelBytes();

    private final byte[] packed;
    private final float[] absmax;

    private Nf4Tensor(String name, byte[] packed, float[] absmax, int rows, int cols, GgmlType source) {
        super(name, MemorySegment.ofArray(packed), rows, cols, source);
        this.packed = packed;
        this.absmax = absmax;
    }

    private static byte[][] levelBytes() {
        byte[][] t = new byte[4][16];
        for (int i = 0; i < 16; i++) {
            int bits = Float.floatToRawIntBits(LEVELS[i]);
            for (int k = 0; k < 4; k++) {
                t[k][i] = (byte) (bits >>> 8 * k);
            }
        }
        return t;
    }

    /** The index of the level nearest {@code v} (a value in [-1, 1]); the lower on a tie. */
    static int nearestLevel(float v) {
        int i = 0;
        while (i < 15 && v > (LEVELS[i] + LEVELS[i + 1]) / 2f) {
            i++;
        }
        return i;
    }

    /** Quantizes a float tensor whose rows are whole 64-weight blocks. */
    public static Nf4Tensor quantize(WeightTensor src) {
        int rows = src.rows();
        int cols = src.cols();
        if (cols % BLOCK != 0) {
            throw new IllegalArgumentException("tensor '" + src.name() + "' rows of " + cols
                    + " columns are not whole NF4 blocks of " + BLOCK);
        }
        int perRow = cols / BLOCK;
        byte[] packed = new byte[Math.multiplyExact(rows, cols / 2)];
        float[] exact = new float[rows * perRow];
        float[] w = new float[cols];
        for (int r = 0; r < rows; r++) {
            src.dequantizeRow(r, w, 0);
            for (int b = 0; b < perRow; b++) {
                float m = 0f;
                for (int j = b * BLOCK; j < (b + 1) * BLOCK; j++) {
                    m = Math.max(m, Math.abs(w[j]));
                }
                exact[r * perRow + b] = m;
                for (int j = b * BLOCK; j < (b + 1) * BLOCK; j++) {
                    int c = m == 0f ? 7 : nearestLevel(w[j] / m);
                    Int4Tensor.setNibble(packed, r * (cols / 2), j, c);
                }
            }
        }
        return new Nf4Tensor(src.name(), packed, DynamicMap.doubleQuantize(exact), rows, cols, src.type());
    }

    @Override
    public String format() {
        return "nf4";
    }

    /** The 4-bit level index of an element, for tests. */
    public int code(int row, int col) {
        return Int4Tensor.nibble(packed, row * (cols / 2), col);
    }

    /** The decoded absmax of {@code row}'s block {@code b}, for tests. */
    public float blockAbsmax(int row, int b) {
        return absmax[row * (cols / BLOCK) + b];
    }

    @Override
    float weight(int row, int col) {
        return LEVELS[code(row, col)] * absmax[row * (cols / BLOCK) + col / BLOCK];
    }

    @Override
    float vectorDot(int row, float[] x, int xOffset) {
        return kernel(packed, row * (cols / 2), cols, absmax, row * (cols / BLOCK), x, xOffset);
    }

    /**
     * A tile of 32 columns per step, as {@link Int4Tensor#kernel}; each half's 16 codes look up the four bytes of
     * their levels' float bits in 16-entry byte tables (one shuffle each), which are put together as int lanes and
     * reinterpreted: an exact table lookup at any width, 128-bit included.
     */
    static float kernel(byte[] packed, int base, int cols, float[] absmax, int b0, float[] x, int xo) {
        VectorSpecies<Float> f = VectorShapes.FLOAT;
        ByteVector t0 = ByteVector.fromArray(ByteVector.SPECIES_128, LEVEL_BYTES[0], 0);
        ByteVector t1 = ByteVector.fromArray(ByteVector.SPECIES_128, LEVEL_BYTES[1], 0);
        ByteVector t2 = ByteVector.fromArray(ByteVector.SPECIES_128, LEVEL_BYTES[2], 0);
        ByteVector t3 = ByteVector.fromArray(ByteVector.SPECIES_128, LEVEL_BYTES[3], 0);
        FloatVector zero = FloatVector.zero(f);
        FloatVector a0 = zero;
        FloatVector a1 = zero;
        FloatVector a2 = zero;
        FloatVector a3 = zero;
        int lanes = VectorShapes.LANES;
        for (int j = 0; j < cols; j += NIBBLE_TILE) {
            FloatVector d = FloatVector.broadcast(f, absmax[b0 + j / BLOCK]);
            ByteVector b = ByteVector.fromArray(ByteVector.SPECIES_128, packed, base + j / 2);
            for (int h = 0; h < 2; h++) {
                ByteVector c = h == 0 ? b.and((byte) 0xF) : b.lanewise(VectorOperators.LSHR, 4);
                ByteVector c0 = c.selectFrom(t0);
                ByteVector c1 = c.selectFrom(t1);
                ByteVector c2 = c.selectFrom(t2);
                ByteVector c3 = c.selectFrom(t3);
                int xc = xo + j + 16 * h;
                a0 = level(c0, c1, c2, c3, 0).mul(d).fma(FloatVector.fromArray(f, x, xc), a0);
                if (lanes <= 8) {
                    a1 = level(c0, c1, c2, c3, 1).mul(d).fma(FloatVector.fromArray(f, x, xc + lanes), a1);
                }
                if (lanes == 4) {
                    a2 = level(c0, c1, c2, c3, 2).mul(d).fma(FloatVector.fromArray(f, x, xc + 8), a2);
                    a3 = level(c0, c1, c2, c3, 3).mul(d).fma(FloatVector.fromArray(f, x, xc + 12), a3);
                }
            }
        }
        return foldLanes(a0, a1, a2, a3);
    }

    /** Part {@code part} (one float vector's lanes) of the looked-up levels, from their four bytes. */
    private static FloatVector level(ByteVector c0, ByteVector c1, ByteVector c2, ByteVector c3, int part) {
        VectorSpecies<Integer> i32 = VectorShapes.INT;
        IntVector v = ((IntVector) c0.convertShape(VectorOperators.B2I, i32, part)).and(0xFF)
                .or(((IntVector) c1.convertShape(VectorOperators.B2I, i32, part)).and(0xFF).lanewise(VectorOperators.LSHL, 8))
                .or(((IntVector) c2.convertShape(VectorOperators.B2I, i32, part)).and(0xFF).lanewise(VectorOperators.LSHL, 16))
                .or(((IntVector) c3.convertShape(VectorOperators.B2I, i32, part)).lanewise(VectorOperators.LSHL, 24));
        return v.reinterpretAsFloats();
    }
}
