package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * IQ4_NL ({@code quantize_iq4_nl} without importance, {@code ntry} 7): 32 values, each the nearest of 16
 * non-linear levels times one scale; llama-quantize falls back to it for Q2_K/Q3_K tensors whose rows are not a
 * multiple of 256. The scale is the weighted (x^2) least-squares one for the best of 15 trial assignments.
 * <pre>
 * | d: f16 | qs[16] |   qs[j] = idx[j] | idx[j+16] << 4,   value = d * LEVELS[idx]   (18 bytes)
 * </pre>
 */
final class IQ4_NLEncoder implements BlockEncoder {
    private static final int[] LEVELS = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    private static final int NTRY = 7;
    private final float[] weight = new float[32];
    private final byte[] index = new byte[32];

    @Override
    public GgmlType type() {
        return GgmlType.IQ4_NL;
    }

    @Override
    public void encodeBlock(float[] x, int xo, byte[] out, int oo) {
        for (int j = 0; j < 32; j++) {
            weight[j] = x[xo + j] * x[xo + j];
        }
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float ax = Math.abs(x[xo + j]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + j];
            }
        }
        float scale;
        if (amax < ScaleSearch.GROUP_MAX_EPS) {
            scale = 0;
        } else {
            float d = -max / LEVELS[0];
            float id = 1 / d;
            float sumqx = 0;
            float sumq2 = 0;
            for (int j = 0; j < 32; j++) {
                float q = LEVELS[bestIndex(id * x[xo + j])];
                float w = weight[j];
                sumqx += w * q * x[xo + j];
                sumq2 += w * q * q;
            }
            d = sumqx / sumq2;
            float best = d * sumqx;
            for (int itry = -NTRY; itry <= NTRY; itry++) {
                id = (itry + LEVELS[0]) / max;
                sumqx = 0;
                sumq2 = 0;
                for (int j = 0; j < 32; j++) {
                    float q = LEVELS[bestIndex(id * x[xo + j])];
                    float w = weight[j];
                    sumqx += w * q * x[xo + j];
                    sumq2 += w * q * q;
                }
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                    d = sumqx / sumq2;
                    best = d * sumqx;
                }
            }
            scale = d;
        }
        BlockEncoder.putHalf(out, oo, scale);
        // ggml picks the final indices with the unrounded scale, not the stored half.
        float id = scale != 0 ? 1 / scale : 0;
        for (int j = 0; j < 32; j++) {
            index[j] = (byte) bestIndex(id * x[xo + j]);
        }
        for (int j = 0; j < 16; j++) {
            out[oo + 2 + j] = (byte) (index[j] | index[j + 16] << 4);
        }
    }

    /** The level of table index {@code i}. */
    static int level(int i) {
        return LEVELS[i];
    }

    /** The nearest level by bisection, ties between neighbours going to the upper one (ggml's best_index_int8). */
    static int bestIndex(float x) {
        if (x <= LEVELS[0]) {
            return 0;
        }
        if (x >= LEVELS[15]) {
            return 15;
        }
        int ml = 0;
        int mu = 15;
        while (mu - ml > 1) {
            int mav = (ml + mu) / 2;
            if (x < LEVELS[mav]) {
                mu = mav;
            } else {
                ml = mav;
            }
        }
        return x - LEVELS[mu - 1] < LEVELS[mu] - x ? mu - 1 : mu;
    }
}
