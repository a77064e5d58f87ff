package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * Q6_K ({@code quantize_row_q6_K_ref}): 256 values in 16 groups of 16, levels -32..31 with a signed 8-bit scale
 * per group ({@link ScaleSearch#qxQuants}) under one block-wide half.
 * <pre>
 * | ql[128] | qh[64] | scales[16]: int8 | d: f16 |                                    (210 bytes)
 *   L = level + 32 (6 bits); for half h (128 values) and l < 32:
 *     ql[64h + l]      = L[128h+l]    & 15 | (L[128h+l+64] & 15) << 4
 *     ql[64h + l + 32] = L[128h+l+32] & 15 | (L[128h+l+96] & 15) << 4
 *     qh[32h + l]      = L[128h+l] >> 4 | L[..+32] >> 4 << 2 | L[..+64] >> 4 << 4 | L[..+96] >> 4 << 6
 *   value = d * scale * (L - 32)
 * </pre>
 */
final class Q6_KEncoder implements BlockEncoder {
    private final byte[] levels = new byte[256];
    private final float[] scales = new float[16];

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public void encodeBlock(float[] x, int xo, byte[] out, int oo) {
        float maxScale = 0;
        float maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float scale = ScaleSearch.qxQuants(16, 32, x, xo + 16 * ib, levels, 16 * ib);
            scales[ib] = scale;
            float abs = Math.abs(scale);
            if (abs > maxAbsScale) {
                maxAbsScale = abs;
                maxScale = scale;
            }
        }
        if (maxAbsScale < ScaleSearch.GROUP_MAX_EPS) {
            for (int i = 0; i < 210; i++) {
                out[oo + i] = 0;
            }
            return;
        }
        float iscale = -128.f / maxScale;
        BlockEncoder.putHalf(out, oo + 208, 1 / iscale);
        for (int ib = 0; ib < 16; ib++) {
            out[oo + 192 + ib] = (byte) Math.min(127, ScaleSearch.nearestInt(iscale * scales[ib]));
        }
        float dAll = BlockEncoder.half(out, oo + 208);
        for (int j = 0; j < 16; j++) {
            float d = dAll * out[oo + 192 + j];
            if (d == 0) {
                continue;
            }
            for (int ii = 0; ii < 16; ii++) {
                int l = ScaleSearch.clamp(ScaleSearch.nearestInt(x[xo + 16 * j + ii] / d), -32, 31);
                levels[16 * j + ii] = (byte) (l + 32);
            }
        }
        int ql = oo;
        int qh = oo + 128;
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; l++) {
                int q1 = levels[j + l];
                int q2 = levels[j + l + 32];
                int q3 = levels[j + l + 64];
                int q4 = levels[j + l + 96];
                out[ql + l] = (byte) ((q1 & 0xF) | (q3 & 0xF) << 4);
                out[ql + l + 32] = (byte) ((q2 & 0xF) | (q4 & 0xF) << 4);
                out[qh + l] = (byte) ((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
            }
            ql += 64;
            qh += 32;
        }
    }
}
