package dev.continuum.model;

/** Root-mean-square layer normalisation, reducing in double as llama.cpp does so results track it closely. */
final class RmsNorm {
    private RmsNorm() {
    }

    /** {@code out[o..o+n) = x[xo..xo+n) / rms(x) * weight}. */
    static void apply(float[] out, int o, float[] x, int xo, float[] weight, int n, float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            sum += (double) (v * v);
        }
        float mean = (float) (sum / n);
        float scale = (float) (1.0 / Math.sqrt(mean + eps));
        for (int i = 0; i < n; i++) {
            out[o + i] = (x[xo + i] * scale) * weight[i];
        }
    }
}
