package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * Q4_K ({@code quantize_row_q4_K_ref}): 256 values in 8 groups of 32, levels 0..15 with a 6-bit scale and min
 * per group ({@link KScales}).
 * <pre>
 * | d: f16 | dmin: f16 | scales[12] | qs[128] |                                       (144 bytes)
 *   qs[32*c + l] = L[64c + l] | L[64c + l + 32] << 4,   value = d * sc * L - dmin * m
 * </pre>
 */
final class Q4_KEncoder implements BlockEncoder {
    private final byte[] levels = new byte[256];
    private final byte[] aux = new byte[32];
    private final float[] weights = new float[32];
    private final float[] mins = new float[8];
    private final float[] scales = new float[8];

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public void encodeBlock(float[] x, int xo, byte[] out, int oo) {
        for (int i = 0; i < 12; i++) {
            out[oo + 4 + i] = 0;
        }
        KScales.encode(x, xo, 15, -1.f, 20, levels, scales, mins, weights, aux, out, oo);
        int q = oo + 16;
        for (int j = 0; j < 256; j += 64) {
            for (int l = 0; l < 32; l++) {
                out[q + l] = (byte) (levels[j + l] | levels[j + l + 32] << 4);
            }
            q += 32;
        }
    }
}
