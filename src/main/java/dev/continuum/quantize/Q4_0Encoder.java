package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * Q4_0 ({@code quantize_row_q4_0_ref}): d = max / -8 where max is the value of largest magnitude, so that value
 * maps to level 0 exactly; q = min(15, trunc(x/d + 8.5)).
 * <pre>
 * | d: f16 | qs[0..15] |   qs[j] = q[j] | q[j+16] << 4,   value = d * (q - 8)   (18 bytes)
 * </pre>
 */
final class Q4_0Encoder implements BlockEncoder {
    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
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
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        BlockEncoder.putHalf(out, oo, d);
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[xo + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[xo + 16 + j] * id + 8.5f));
            out[oo + 2 + j] = (byte) (lo | hi << 4);
        }
    }
}
