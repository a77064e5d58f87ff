package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * Q5_1 ({@code quantize_row_q5_1_ref}): m = min, d = (max - min)/31, q = trunc((x - m)/d + 0.5).
 * <pre>
 * | d: f16 | m: f16 | qh: u32 LE | qs[0..15] |   bits as in Q5_0,  value = d * q + m   (24 bytes)
 * </pre>
 */
final class Q5_1Encoder implements BlockEncoder {
    @Override
    public GgmlType type() {
        return GgmlType.Q5_1;
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
        float d = (max - min) / 31;
        float id = d != 0 ? 1.0f / d : 0.0f;
        BlockEncoder.putHalf(out, oo, d);
        BlockEncoder.putHalf(out, oo + 2, min);
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            // ggml casts to uint8_t without a clamp: (x - min)/d + 0.5 stays below 32 since x <= max.
            int lo = (int) ((x[xo + j] - min) * id + 0.5f) & 0xff;
            int hi = (int) ((x[xo + 16 + j] - min) * id + 0.5f) & 0xff;
            out[oo + 8 + j] = (byte) ((lo & 15) | (hi & 15) << 4);
            qh |= ((lo & 0x10) >> 4) << j;
            qh |= ((hi & 0x10) >> 4) << (j + 16);
        }
        putInt(out, oo + 4, qh);
    }

    static void putInt(byte[] out, int o, int v) {
        out[o] = (byte) v;
        out[o + 1] = (byte) (v >> 8);
        out[o + 2] = (byte) (v >> 16);
        out[o + 3] = (byte) (v >> 24);
    }
}
