package dev.continuum.model;

/**
 * Rotary position embeddings. Angles follow llama.cpp's recurrence ({@code theta *= base^(-2/d)} in float), then
 * its scaling ({@link RopeScaling}: frequency factors, linear interpolation, YaRN's ramp and magnitude), in its float
 * order, so that rotations match the reference implementation bit for bit where the platform's cos/sin agree.
 */
final class Rope {
    private final int dims;
    private final float thetaScale;
    private final RopeType type;
    private final boolean scaled;
    private final float freqScale;
    private final float extFactor;
    private final float magnitude;
    private final float[] freqFactors;
    private final float rampLow;
    private final float rampHigh;

    Rope(LlamaConfig config) {
        this.dims = config.ropeDims();
        this.thetaScale = (float) Math.pow(config.ropeTheta(), -2.0 / dims);
        this.type = config.ropeType();
        RopeScaling s = config.ropeScaling();
        this.scaled = !s.isIdentity();
        this.freqScale = s.freqScale();
        this.extFactor = s.extFactor();
        this.freqFactors = s.freqFactors();
        float m = s.attnFactor();
        if (extFactor != 0) {
            m *= 1.0f + 0.1f * (float) Math.log(1.0f / freqScale);
        }
        this.magnitude = m;
        float[] corr = s.correctionDims(dims, config.ropeTheta());
        this.rampLow = corr[0];
        this.rampHigh = corr[1];
    }

    int tableSize() {
        return dims / 2;
    }

    /** Fills {@code cos/sin[o .. o+dims/2)} for position {@code pos}. */
    void angles(int pos, float[] cos, float[] sin, int o) {
        if (scaled) {
            scaledAngles(pos, cos, sin, o);
            return;
        }
        float theta = pos;
        for (int i = 0; i < dims / 2; i++) {
            cos[o + i] = (float) Math.cos(theta);
            sin[o + i] = (float) Math.sin(theta);
            theta *= thetaScale;
        }
    }

    /** ggml's rope_yarn for each pair: the angle divided by its factor, interpolated, mixed, and scaled. */
    private void scaledAngles(int pos, float[] cos, float[] sin, int o) {
        float theta = pos;
        for (int i = 0; i < dims / 2; i++) {
            float extrap = freqFactors != null ? theta / freqFactors[i] : theta;
            float interp = freqScale * extrap;
            float angle = interp;
            if (extFactor != 0) {
                float y = (i - rampLow) / Math.max(0.001f, rampHigh - rampLow);
                float mix = (1 - Math.min(1, Math.max(0, y))) * extFactor;
                angle = interp * (1 - mix) + extrap * mix;
            }
            cos[o + i] = (float) Math.cos(angle) * magnitude;
            sin[o + i] = (float) Math.sin(angle) * magnitude;
            theta *= thetaScale;
        }
    }

    /** Rotates {@code heads} consecutive heads of {@code headDim} floats starting at {@code x[xo]}. */
    void rotate(float[] x, int xo, int heads, int headDim, float[] cos, float[] sin, int co) {
        int half = dims / 2;
        for (int h = 0; h < heads; h++) {
            int base = xo + h * headDim;
            if (type == RopeType.INTERLEAVED) {
                for (int i = 0; i < half; i++) {
                    float x0 = x[base + 2 * i];
                    float x1 = x[base + 2 * i + 1];
                    float c = cos[co + i];
                    float s = sin[co + i];
                    x[base + 2 * i] = x0 * c - x1 * s;
                    x[base + 2 * i + 1] = x0 * s + x1 * c;
                }
            } else {
                for (int i = 0; i < half; i++) {
                    float x0 = x[base + i];
                    float x1 = x[base + i + half];
                    float c = cos[co + i];
                    float s = sin[co + i];
                    x[base + i] = x0 * c - x1 * s;
                    x[base + i + half] = x0 * s + x1 * c;
                }
            }
        }
    }
}
