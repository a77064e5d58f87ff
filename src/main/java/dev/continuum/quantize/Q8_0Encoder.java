package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * Q8_0 ({@code quantize_row_q8_0_ref}): 32 values, d = amax/127, q = round(x/d) half away from zero.
 * <pre>
 * | d: f16 | q[0..31]: int8 |   value = d * q        (34 bytes)
 * </pre>
 */
final class Q8_0Encoder implements BlockEncoder {
    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public void encodeBlock(float[] x, int xo, byte[] out, int oo) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[xo + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        BlockEncoder.putHalf(out, oo, d);
        for (int j = 0; j < 32; j++) {
            out[oo + 2 + j] = (byte) roundHalfAway(x[xo + j] * id);
        }
    }

    /**
     * C's {@code roundf}. Not {@code floor(v + 0.5f)}: that sum rounds up to 1 for the float just below 0.5, and
     * not {@link Math#round(float)}, which rounds negative ties up.
     */
    static int roundHalfAway(float v) {
        float a = Math.abs(v);
        int r = (int) a;
        if (a - r >= 0.5f) {
            r++;
        }
        return v < 0 ? -r : r;
    }
}
