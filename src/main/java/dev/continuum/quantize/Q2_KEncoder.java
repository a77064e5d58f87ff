package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * Q2_K ({@code quantize_row_q2_K_ref}): 256 values in 16 groups of 16, each with a 4-bit scale and a 4-bit min
 * (found by {@link ScaleSearch#qkx2Quants} with |x| weights, absolute error), both scaled by block-wide halves.
 * <pre>
 * | scales[16]: sc | mn << 4 | qs[64] | d: f16 | dmin: f16 |                            (84 bytes)
 *   qs[32*h + l] = L[128h+l] | L[128h+l+32] << 2 | L[128h+l+64] << 4 | L[128h+l+96] << 6
 *   value = d * sc * L - dmin * mn
 * </pre>
 */
final class Q2_KEncoder implements BlockEncoder {
    private final byte[] levels = new byte[256];
    private final byte[] aux = new byte[16];
    private final float[] weights = new float[16];
    private final float[] mins = new float[16];
    private final float[] scales = new float[16];

    @Override
    public GgmlType type() {
        return GgmlType.Q2_K;
    }

    @Override
    public void encodeBlock(float[] x, int xo, byte[] out, int oo) {
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) {
                weights[l] = Math.abs(x[xo + 16 * j + l]);
            }
            scales[j] = ScaleSearch.qkx2Quants(16, 3, x, xo + 16 * j, weights, levels, 16 * j, mins, j, aux,
                    -0.5f, 0.1f, 15, true);
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }
        final float q4scale = 15.f;
        if (maxScale > 0) {
            float iscale = q4scale / maxScale;
            for (int j = 0; j < 16; j++) {
                out[oo + j] = (byte) ScaleSearch.nearestInt(iscale * scales[j]);
            }
            BlockEncoder.putHalf(out, oo + 80, maxScale / q4scale);
        } else {
            for (int j = 0; j < 16; j++) {
                out[oo + j] = 0;
            }
            BlockEncoder.putHalf(out, oo + 80, 0f);
        }
        if (maxMin > 0) {
            float iscale = q4scale / maxMin;
            for (int j = 0; j < 16; j++) {
                out[oo + j] |= (byte) (ScaleSearch.nearestInt(iscale * mins[j]) << 4);
            }
            BlockEncoder.putHalf(out, oo + 82, maxMin / q4scale);
        } else {
            BlockEncoder.putHalf(out, oo + 82, 0f);
        }
        float dAll = BlockEncoder.half(out, oo + 80);
        float mAll = BlockEncoder.half(out, oo + 82);
        for (int j = 0; j < 16; j++) {
            int sc = out[oo + j] & 0xff;
            float d = dAll * (sc & 0xF);
            if (d == 0) {
                continue;
            }
            float dm = mAll * (sc >> 4);
            for (int ii = 0; ii < 16; ii++) {
                levels[16 * j + ii] = (byte) ScaleSearch.clamp(ScaleSearch.nearestInt((x[xo + 16 * j + ii] + dm) / d), 0, 3);
            }
        }
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; l++) {
                out[oo + 16 + j / 4 + l] = (byte) (levels[j + l] | levels[j + l + 32] << 2
                        | levels[j + l + 64] << 4 | levels[j + l + 96] << 6);
            }
        }
    }
}
