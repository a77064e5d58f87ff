package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * Q4_1 ({@code quantize_row_q4_1_ref}): m = min, d = (max - min)/15, q = min(15, trunc((x - m)/d + 0.5)).
 * <pre>
 * | d: f16 | m: f16 | qs[0..15] |   qs[j] = q[j] | q[j+16] << 4,   value = d * q + m   (20 bytes)
 * </pre>
 */
final class Q4_1Encoder implements BlockEncoder {
    @Override
    public GgmlType type() {
        return GgmlType.Q4_1;
    }

    @Override
    public void encodeBlock(float[] x, int xo, byte[] out, int oo) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            float v = x[xo + j];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
        }
        float d = (max - min) / 15;
        float id = d != 0 ? 1.0f / d : 0.0f;
        BlockEncoder.putHalf(out, oo, d);
        BlockEncoder.putHalf(out, oo + 2, min);
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) ((x[xo + j] - min) * id + 0.5f));
            int hi = Math.min(15, (int) ((x[xo + 16 + j] - min) * id + 0.5f));
            out[oo + 4 + j] = (byte) (lo | hi << 4);
        }
    }
}
