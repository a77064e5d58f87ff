package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * Q5_K ({@code quantize_row_q5_K_ref}): as Q4_K with levels 0..31; the fifth bits go to qh.
 * <pre>
 * | d: f16 | dmin: f16 | scales[12] | qh[32] | qs[128] |                              (176 bytes)
 *   for chunk c of 64 values: qs[32c + l] = (L[64c+l] & 15) | (L[64c+l+32] & 15) << 4
 *                             qh[l] bit 2c = L[64c+l] >> 4, bit 2c+1 = L[64c+l+32] >> 4
 * </pre>
 */
final class Q5_KEncoder implements BlockEncoder {
    private final byte[] levels = new byte[256];
    private final byte[] aux = new byte[32];
    private final float[] weights = new float[32];
    private final float[] mins = new float[8];
    private final float[] scales = new float[8];

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public void encodeBlock(float[] x, int xo, byte[] out, int oo) {
        for (int i = 0; i < 12; i++) {
            out[oo + 4 + i] = 0;
        }
        KScales.encode(x, xo, 31, -0.5f, 15, levels, scales, mins, weights, aux, out, oo);
        int qh = oo + 16;
        int ql = oo + 48;
        for (int i = 0; i < 32; i++) {
            out[qh + i] = 0;
        }
        int m1 = 1;
        int m2 = 2;
        for (int n = 0; n < 256; n += 64) {
            for (int j = 0; j < 32; j++) {
                int l1 = levels[n + j];
                if (l1 > 15) {
                    l1 -= 16;
                    out[qh + j] |= (byte) m1;
                }
                int l2 = levels[n + j + 32];
                if (l2 > 15) {
                    l2 -= 16;
                    out[qh + j] |= (byte) m2;
                }
                out[ql + j] = (byte) (l1 | l2 << 4);
            }
            m1 <<= 2;
            m2 <<= 2;
            ql += 32;
        }
    }
}
