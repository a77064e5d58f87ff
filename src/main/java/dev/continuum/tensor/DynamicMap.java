package dev.continuum.tensor;

/**
 * bitsandbytes' default 8-bit code for blockwise quantization, {@code create_dynamic_map(signed=True,
 * max_exponent_bits=7, total_bits=8)}: for {@code i = 0..6}, the midpoints of {@code linspace(0.1, 1, 2^i + 1)}
 * scaled by {@code 10^(i - 6)}, each with its negative, plus 0 and 1, sorted: 256 values in [-1, 1], dense near 0.
 * Computed here in float32 as torch does (linspace's two-sided formula, the midpoint and the scaling in float); a
 * last-bit difference from torch's table is possible and would move a code only at an exact tie.
 */
final class DynamicMap {
    static final float[] CODE = build();

    private DynamicMap() {
    }

    private static float[] build() {
        float[] data = new float[256];
        int n = 0;
        for (int i = 0; i < 7; i++) {
            int items = (1 << i) + 1;
            float scale = (float) Math.pow(10, i - 6);
            float step = (1f - 0.1f) / (items - 1);
            float[] b = new float[items];
            for (int k = 0; k < items; k++) {
                b[k] = k < items / 2 ? 0.1f + k * step : 1f - (items - 1 - k) * step;
            }
            for (int k = 0; k + 1 < items; k++) {
                float mean = (b[k] + b[k + 1]) / 2f;
                data[n++] = scale * mean;
                data[n++] = -(scale * mean);
            }
        }
        data[n++] = 0f;
        data[n++] = 1f;
        java.util.Arrays.sort(data, 0, n);
        return data;
    }

    /** The index of the code nearest {@code v}; the lower on a tie. */
    static int nearest(float v) {
        int best = 0;
        for (int i = 1; i < CODE.length; i++) {
            if (Math.abs(CODE[i] - v) < Math.abs(CODE[best] - v)) {
                best = i;
            }
        }
        return best;
    }

    /**
     * bitsandbytes' {@code compress_statistics}: {@code offset = mean(absmax)}, the centred values quantized in
     * blocks of {@link Nf4Tensor#STAT_BLOCK} against their block's absolute maximum; returns the decoded values
     * {@code CODE[q] * absmax2 + offset}, which is what the kernels read.
     */
    static float[] doubleQuantize(float[] absmax) {
        double sum = 0;
        for (float a : absmax) {
            sum += a;
        }
        float offset = (float) (sum / absmax.length);
        float[] decoded = new float[absmax.length];
        for (int s = 0; s < absmax.length; s += Nf4Tensor.STAT_BLOCK) {
            int end = Math.min(absmax.length, s + Nf4Tensor.STAT_BLOCK);
            float m = 0f;
            for (int i = s; i < end; i++) {
                m = Math.max(m, Math.abs(absmax[i] - offset));
            }
            for (int i = s; i < end; i++) {
                int q = m == 0f ? nearest(0f) : nearest((absmax[i] - offset) / m);
                decoded[i] = CODE[q] * m + offset;
            }
        }
        return decoded;
    }
}
