package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * Q5_0 ({@code quantize_row_q5_0_ref}): d = max / -16 (max: the value of largest magnitude),
 * q = min(31, trunc(x/d + 16.5)); the fifth bits go to a 32-bit mask.
 * <pre>
 * | d: f16 | qh: u32 LE | qs[0..15] |   qs[j] = q[j] & 15 | (q[j+16] & 15) << 4
 *                                       qh bit j = q[j] >> 4, bit j+16 = q[j+16] >> 4
 *                                       value = d * (q - 16)                     (22 bytes)
 * </pre>
 */
final class Q5_0Encoder implements BlockEncoder {
    @Override
    public GgmlType type() {
        return GgmlType.Q5_0;
    }

    @Override
    public void encodeBlock(float[] x, int xo, byte[] out, int oo) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[xo + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        BlockEncoder.putHalf(out, oo, d);
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(31, (int) (x[xo + j] * id + 16.5f));
            int hi = Math.min(31, (int) (x[xo + 16 + j] * id + 16.5f));
            out[oo + 6 + j] = (byte) ((lo & 15) | (hi & 15) << 4);
            qh |= (lo >> 4) << j;
            qh |= (hi >> 4) << (j + 16);
        }
        Q5_1Encoder.putInt(out, oo + 2, qh);
    }
}
