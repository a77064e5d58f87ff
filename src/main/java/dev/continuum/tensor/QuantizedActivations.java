package dev.continuum.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Activation rows quantized to 8 bits per 32-column tile, as llama.cpp quantizes them to Q8_0 before multiplying
 * by Q4_0 weights: per tile {@code d = max|x| / 127} and {@code q = round(x / d)} (half away from zero). Products of
 * 4-bit weights and these 8-bit values are small integers, so a tile's sum is exact in any order and in 16-bit
 * lanes, which is what lets the single-token Q4_0 kernel multiply 32 rows per instruction.
 *
 * <p>Holds the quantized rows in the forms the kernels read: as floats ({@link #values}) for the tiled float path,
 * as shorts ({@link #shorts}) for the 16-bit kernels, as signed bytes ({@link #bytes}, what an int8 dot-product
 * instruction reads, for a native kernel), the per-tile scales ({@link #scales}) and the per-tile sums of the
 * quantized values ({@link #sums}) and of their first 16 ({@link #halfSums}, for the block formats whose mins
 * cover 16 columns, see {@link BlockQuantTensor}). All three copies of the values share offsets: token {@code t}'s column
 * {@code c} is at {@code t * cols + c}. Buffers grow as needed and are reused; not thread-safe.
 */
final class QuantizedActivations {
    float[] values = new float[0];
    short[] shorts = new short[0];
    byte[] bytes = new byte[0];
    float[] scales = new float[0];
    int[] sums = new int[0];
    /** Per tile, the sum of its first 16 quantized values (the second 16 sum to {@code sums - halfSums}). */
    int[] halfSums = new int[0];
    int cols;
    int tiles;

    /** Quantizes {@code tokens} rows of {@code cols} floats from {@code x[0..]}; {@code cols} must be whole tiles. */
    void quantize(float[] x, int tokens, int cols) {
        int n = tokens * cols;
        this.cols = cols;
        this.tiles = cols / WeightTensor.TILE;
        if (values.length < n) {
            values = new float[n];
            shorts = new short[n];
            bytes = new byte[n];
        }
        int tileCount = tokens * tiles;
        if (scales.length < tileCount) {
            scales = new float[tileCount];
            sums = new int[tileCount];
            halfSums = new int[tileCount];
        }
        if (VectorSupport.ENABLED) {
            Vectorized.quantize(x, tileCount, values, shorts, bytes, scales, sums, halfSums);
            return;
        }
        for (int t = 0; t < tileCount; t++) {
            quantizeTile(x, t * WeightTensor.TILE, values, shorts, scales, sums, t);
            int o = t * WeightTensor.TILE;
            int half = 0;
            for (int j = 0; j < WeightTensor.TILE; j++) {
                bytes[o + j] = (byte) shorts[o + j];
                half += j < WeightTensor.TILE / 2 ? shorts[o + j] : 0;
            }
            halfSums[t] = half;
        }
    }

    /** Scale of token {@code token}'s tile {@code tile}. */
    float scale(int token, int tile) {
        return scales[token * tiles + tile];
    }

    /** Quantizes one tile of 32 values at {@code x[xo..]} into {@code q}/{@code s} at the same offset. */
    static void quantizeTile(float[] x, int xo, float[] q, short[] s, float[] scales, int[] sums, int tile) {
        float amax = 0f;
        for (int j = 0; j < WeightTensor.TILE; j++) {
            amax = Math.max(amax, Math.abs(x[xo + j]));
        }
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        int sum = 0;
        for (int j = 0; j < WeightTensor.TILE; j++) {
            float v = x[xo + j] * id;
            int r = (int) (v < 0 ? -Math.floor(-v + 0.5f) : Math.floor(v + 0.5f));
            q[xo + j] = r;
            if (s != null) {
                s[xo + j] = (short) r;
            }
            sum += r;
        }
        scales[tile] = d;
        if (sums != null) {
            sums[tile] = sum;
        }
    }

    /** The same quantization with the Vector API, bit for bit: max, products and rounding are exact per lane. */
    static final class Vectorized {
        private Vectorized() {
        }

        static void quantize(float[] x, int tileCount, float[] q, short[] s, byte[] b, float[] scales,
                             int[] sums, int[] halfSums) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            int lanes = VectorShapes.LANES;
            for (int t = 0; t < tileCount; t++) {
                int o = t * WeightTensor.TILE;
                FloatVector max = FloatVector.zero(f);
                for (int j = 0; j < WeightTensor.TILE; j += lanes) {
                    max = FloatVector.fromArray(f, x, o + j).abs().max(max);
                }
                float d = max.reduceLanes(VectorOperators.MAX) / 127f;
                float id = d != 0f ? 1f / d : 0f;
                IntVector sum = IntVector.zero(VectorShapes.INT);
                IntVector half = sum;
                for (int j = 0; j < WeightTensor.TILE; j += lanes) {
                    FloatVector v = FloatVector.fromArray(f, x, o + j).mul(id);
                    IntVector magnitude = (IntVector) v.abs().add(0.5f)
                            .convert(VectorOperators.F2I, 0);
                    IntVector r = magnitude.lanewise(VectorOperators.NEG,
                            v.compare(VectorOperators.LT, 0f).cast(VectorShapes.INT));
                    ((FloatVector) r.convert(VectorOperators.I2F, 0))
                            .intoArray(q, o + j);
                    ((ShortVector) r.convertShape(VectorOperators.I2S,
                            VectorShapes.SHORT, 0)).intoArray(s, o + j);
                    if (lanes >= 8) {
                        ((ByteVector) r.convertShape(VectorOperators.I2B, VectorShapes.BYTE, 0)).intoArray(b, o + j);
                    }
                    sum = r.add(sum);
                    if (j < WeightTensor.TILE / 2) {
                        half = r.add(half);
                    }
                }
                if (lanes == 4) {
                    // A 4-lane byte vector (32 bits) does not exist: copy the tile's shorts (-127..127) instead.
                    for (int j = 0; j < WeightTensor.TILE; j++) {
                        b[o + j] = (byte) s[o + j];
                    }
                }
                scales[t] = d;
                sums[t] = sum.reduceLanes(VectorOperators.ADD);
                halfSums[t] = half.reduceLanes(VectorOperators.ADD);
            }
        }
    }
}
