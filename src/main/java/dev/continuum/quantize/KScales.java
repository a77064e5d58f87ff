package dev.continuum.quantize;

/**
 * The 6-bit scale and min packing Q4_K and Q5_K share, and the per-group search of both.
 * <pre>
 * scales[12], for the 8 groups j of 32 values, 6-bit scale ls and min lm:
 *   j < 4:  scales[j]   = ls | (ls of j+4) >> 4 << 6     scales[j+4] = lm | (lm of j+4) >> 4 << 6
 *   j >= 4: scales[j+4] = (ls & 15) | (lm & 15) << 4
 * </pre>
 */
final class KScales {
    private KScales() {
    }

    /**
     * Finds each 32-group's scale and min with weights sqrt(mean x^2) + |x| ({@code make_qkx2_quants}), packs them
     * at {@code out[oo..]} (d, dmin halves then the 12 scale bytes) and re-derives the levels in [0, nmax] from
     * the stored values, as {@code quantize_row_q4_K_ref} / {@code q5_K_ref} do.
     */
    static void encode(float[] x, int xo, int nmax, float rmin, int nstep, byte[] levels, float[] scales,
                       float[] mins, float[] weights, byte[] aux, byte[] out, int oo) {
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j++) {
            int g = xo + 32 * j;
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) {
                sumX2 += x[g + l] * x[g + l];
            }
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) {
                weights[l] = avX + Math.abs(x[g + l]);
            }
            scales[j] = ScaleSearch.qkx2Quants(32, nmax, x, g, weights, levels, 32 * j, mins, j, aux,
                    rmin, 0.1f, nstep, false);
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        int s = oo + 4;
        for (int j = 0; j < 8; j++) {
            // ggml stores nearest_int in a uint8_t before taking min(63, .)
            int ls = Math.min(63, ScaleSearch.nearestInt(invScale * scales[j]) & 0xff);
            int lm = Math.min(63, ScaleSearch.nearestInt(invMin * mins[j]) & 0xff);
            if (j < 4) {
                out[s + j] = (byte) ls;
                out[s + j + 4] = (byte) lm;
            } else {
                out[s + j + 4] = (byte) ((ls & 0xF) | (lm & 0xF) << 4);
                out[s + j - 4] |= (byte) ((ls >> 4) << 6);
                out[s + j] |= (byte) ((lm >> 4) << 6);
            }
        }
        BlockEncoder.putHalf(out, oo, maxScale / 63.f);
        BlockEncoder.putHalf(out, oo + 2, maxMin / 63.f);
        float dAll = BlockEncoder.half(out, oo);
        float mAll = BlockEncoder.half(out, oo + 2);
        for (int j = 0; j < 8; j++) {
            int sc;
            int m;
            if (j < 4) {
                sc = out[s + j] & 63;
                m = out[s + j + 4] & 63;
            } else {
                sc = (out[s + j + 4] & 0xF) | ((out[s + j - 4] & 0xff) >> 6) << 4;
                m = ((out[s + j + 4] & 0xff) >> 4) | ((out[s + j] & 0xff) >> 6) << 4;
            }
            float d = dAll * sc;
            if (d == 0) {
                continue;
            }
            float dm = mAll * m;
            for (int ii = 0; ii < 32; ii++) {
                levels[32 * j + ii] = (byte) ScaleSearch.clamp(
                        ScaleSearch.nearestInt((x[xo + 32 * j + ii] + dm) / d), 0, nmax);
            }
        }
    }
}
