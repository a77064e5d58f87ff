package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * Q3_K ({@code quantize_row_q3_K_ref}): 256 values in 16 groups of 16, symmetric levels -4..3 with a signed
 * 6-bit scale per group ({@link ScaleSearch#q3Quants}), scales scaled by one block-wide half.
 * <pre>
 * | hmask[32] | qs[64] | scales[12] | d: f16 |                                        (110 bytes)
 *   L = level + 4 in 0..7; bit 2 of L[j] -> hmask[j % 32] bit (j / 32); low 2 bits packed as in Q2_K
 *   scale s[j] + 32 (6 bits): low nibble in scales[j] (j < 8) or scales[j-8] >> 4,
 *                             high 2 bits in scales[8 + j%4] at bit 2*(j/4)
 *   value = d * s * (L - 4)
 * </pre>
 */
final class Q3_KEncoder implements BlockEncoder {
    private final byte[] levels = new byte[256];
    private final float[] scales = new float[16];

    @Override
    public GgmlType type() {
        return GgmlType.Q3_K;
    }

    @Override
    public void encodeBlock(float[] x, int xo, byte[] out, int oo) {
        final int sOff = oo + 96;
        float maxScale = 0;
        float amax = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = ScaleSearch.q3Quants(16, 4, x, xo + 16 * j, levels, 16 * j);
            float scale = Math.abs(scales[j]);
            if (scale > amax) {
                amax = scale;
                maxScale = scales[j];
            }
        }
        for (int i = 0; i < 12; i++) {
            out[sOff + i] = 0;
        }
        if (maxScale != 0) {
            float iscale = -32.f / maxScale;
            for (int j = 0; j < 16; j++) {
                // ggml narrows to int8_t before clamping; |iscale * scale| <= 32 keeps that lossless.
                int l = ScaleSearch.clamp((byte) ScaleSearch.nearestInt(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) {
                    out[sOff + j] = (byte) (l & 0xF);
                } else {
                    out[sOff + j - 8] |= (byte) ((l & 0xF) << 4);
                }
                l >>= 4;
                out[sOff + 8 + j % 4] |= (byte) (l << (2 * (j / 4)));
            }
            BlockEncoder.putHalf(out, oo + 108, 1 / iscale);
        } else {
            BlockEncoder.putHalf(out, oo + 108, 0f);
        }
        float dAll = BlockEncoder.half(out, oo + 108);
        for (int j = 0; j < 16; j++) {
            int lo = j < 8 ? out[sOff + j] & 0xF : (out[sOff + j - 8] & 0xff) >> 4;
            int sc = (lo | ((out[sOff + 8 + j % 4] >> (2 * (j / 4))) & 3) << 4) - 32;
            float d = dAll * sc;
            if (d == 0) {
                continue;
            }
            for (int ii = 0; ii < 16; ii++) {
                int l = ScaleSearch.clamp(ScaleSearch.nearestInt(x[xo + 16 * j + ii] / d), -4, 3);
                levels[16 * j + ii] = (byte) (l + 4);
            }
        }
        for (int i = 0; i < 32; i++) {
            out[oo + i] = 0;
        }
        for (int j = 0; j < 256; j++) {
            if (levels[j] > 3) {
                out[oo + j % 32] |= (byte) (1 << (j / 32));
                levels[j] -= 4;
            }
        }
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; l++) {
                out[oo + 32 + j / 4 + l] = (byte) (levels[j + l] | levels[j + l + 32] << 2
                        | levels[j + l + 64] << 4 | levels[j + l + 96] << 6);
            }
        }
    }
}
