package dev.continuum.model;

import java.util.Arrays;

/**
 * How a model stretches its rotary positions past the context it was trained on, as llama.cpp applies it (ggml's
 * {@code rope_yarn} over {@code ggml_rope_ext}'s arguments), per rotated pair i with angle theta_i = pos * base^(-2i/d):
 * <pre>
 *   extrap = theta_i / freqFactors[i]                     (Llama 3.x: the file's rope_freqs tensor; else 1)
 *   interp = freqScale * extrap                           (linear and YaRN: 1 / rope.scaling.factor)
 *   angle  = interp                                       (none, linear, llama3)
 *          = interp (1 - r_i) + extrap r_i                (YaRN: r_i = ramp(i) * extFactor, ext 1)
 *   cos, sin = cos(angle) * m, sin(angle) * m             m = attnFactor (YaRN: times 1 + 0.1 ln(1 / freqScale))
 *   ramp(i) = 1 - clamp((i - low) / max(0.001, high - low), 0, 1), [low, high] = YaRN's correction dimensions for
 *             betaFast and betaSlow rotations over the original context
 * </pre>
 * {@link #NONE} leaves every angle as it was.
 *
 * @param type            how the file says to scale
 * @param freqScale       1 / rope.scaling.factor (1: no interpolation)
 * @param attnFactor      the cos/sin magnitude before YaRN's correction (rope.scaling.attn_factor, 1 unless set)
 * @param originalContext the context the model was trained on (rope.scaling.original_context_length)
 * @param freqFactors     per-pair divisors of the angle (rope_freqs.weight), or null
 */
public record RopeScaling(Type type, float freqScale, float attnFactor, int originalContext, float[] freqFactors) {
    /** The scaling types llama.cpp reads from {@code rope.scaling.type} that Continuum computes. */
    public enum Type { NONE, LINEAR, YARN }

    /** YaRN's rotation counts where extrapolation ends and interpolation begins (llama.cpp's defaults). */
    public static final float YARN_BETA_FAST = 32f;
    public static final float YARN_BETA_SLOW = 1f;

    public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1f, 1f, 1, null);

    public RopeScaling {
        if (type == null) {
            throw new IllegalArgumentException("invalid model config: rope scaling type missing");
        }
        if (!(freqScale > 0) || !Float.isFinite(freqScale) || !(attnFactor > 0) || !Float.isFinite(attnFactor)) {
            throw new IllegalArgumentException("invalid model config: rope scaling factor " + (1 / freqScale)
                    + " and attention factor " + attnFactor + " must be positive and finite");
        }
        if (originalContext <= 0) {
            throw new IllegalArgumentException("invalid model config: rope scaling original context "
                    + originalContext + " must be positive");
        }
        if (freqFactors != null) {
            freqFactors = freqFactors.clone();
            for (float f : freqFactors) {
                if (!(f > 0) || !Float.isFinite(f)) {
                    throw new IllegalArgumentException("invalid model config: rope_freqs holds " + f
                            + "; every frequency factor must be positive and finite");
                }
            }
        }
    }

    /** YaRN's extrapolation mix (1 for YaRN, 0 otherwise: llama.cpp's yarn_ext_factor when not set). */
    public float extFactor() {
        return type == Type.YARN ? 1f : 0f;
    }

    /** Whether every angle and magnitude is left as without scaling. */
    public boolean isIdentity() {
        return freqScale == 1f && attnFactor == 1f && extFactor() == 0f && freqFactors == null;
    }

    /** YaRN's correction dimensions {low, high} for {@code ropeDims} rotated dimensions and base {@code theta}. */
    public float[] correctionDims(int ropeDims, float theta) {
        float low = (float) Math.floor(correctionDim(ropeDims, YARN_BETA_FAST, theta));
        float high = (float) Math.ceil(correctionDim(ropeDims, YARN_BETA_SLOW, theta));
        return new float[] {Math.max(0, low), Math.min(ropeDims - 1, high)};
    }

    private float correctionDim(int ropeDims, float rotations, float theta) {
        return ropeDims * (float) Math.log(originalContext / (rotations * 2 * (float) Math.PI))
                / (2 * (float) Math.log(theta));
    }

    @Override
    public float[] freqFactors() {
        return freqFactors == null ? null : freqFactors.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RopeScaling r && r.type == type && r.freqScale == freqScale && r.attnFactor == attnFactor
                && r.originalContext == originalContext && Arrays.equals(r.freqFactors, freqFactors);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + Float.hashCode(freqScale) + Arrays.hashCode(freqFactors);
    }

    @Override
    public String toString() {
        return type == Type.NONE && freqFactors == null ? "none" : type.name().toLowerCase(java.util.Locale.ROOT)
                + " x" + (1 / freqScale) + (freqFactors != null ? " with " + freqFactors.length + " frequency factors" : "")
                + ", original context " + originalContext;
    }
}
