package dev.continuum.model;

/**
 * Layer normalisation with weight and bias (GPT-2), in ggml's order so results track llama.cpp closely: the mean
 * summed in double and rounded to float, the centred values {@code v = x - mean} in float, their squares summed in
 * double, {@code scale = 1 / sqrt(variance + eps)} in float, then {@code (v * scale) * weight + bias}.
 */
final class LayerNorm {
    private LayerNorm() {
    }

    /** {@code out[o..o+n) = (x[xo..xo+n) - mean) / sqrt(var + eps) * weight + bias}; out may be x itself. */
    static void apply(float[] out, int o, float[] x, int xo, float[] weight, float[] bias, int n, float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += x[xo + i];
        }
        float mean = (float) (sum / n);
        double squares = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i] - mean;
            squares += (double) (v * v);
        }
        float variance = (float) (squares / n);
        // sqrt of a float in double, rounded to float, is the correctly rounded float sqrt (sqrtf).
        float scale = 1f / (float) Math.sqrt(variance + eps);
        for (int i = 0; i < n; i++) {
            out[o + i] = ((x[xo + i] - mean) * scale) * weight[i] + bias[i];
        }
    }
}
