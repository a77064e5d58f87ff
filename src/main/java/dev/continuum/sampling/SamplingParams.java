package dev.continuum.sampling;

/**
 * How to pick each next token. {@code temperature == 0} is greedy. {@code topK <= 0} and {@code topP >= 1} and
 * {@code minP <= 0} disable those filters; penalties of 0 (presence/frequency) and 1 (repetition) are neutral;
 * {@code logitBias} is added to the logits first, for greedy too.
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        float minP,
        float presencePenalty,
        float frequencyPenalty,
        float repetitionPenalty,
        long seed,
        LogitBias logitBias) {

    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0f, 0f, 0f, 1f, 0L);

    /** Without a logit bias. */
    public SamplingParams(float temperature, int topK, float topP, float minP, float presencePenalty,
                          float frequencyPenalty, float repetitionPenalty, long seed) {
        this(temperature, topK, topP, minP, presencePenalty, frequencyPenalty, repetitionPenalty, seed,
                LogitBias.NONE);
    }

    public SamplingParams {
        if (logitBias == null) {
            logitBias = LogitBias.NONE;
        }
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("min_p must be in [0, 1], got " + minP);
        }
        if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition_penalty must be a finite number > 0, got " + repetitionPenalty);
        }
        if (!Float.isFinite(presencePenalty) || !Float.isFinite(frequencyPenalty)) {
            throw new IllegalArgumentException("penalties must be finite numbers");
        }
    }

    public boolean greedy() {
        return temperature == 0f;
    }

    public boolean hasPenalties() {
        return presencePenalty != 0f || frequencyPenalty != 0f || repetitionPenalty != 1f;
    }

    /** Whether sampling changes the logits before choosing (penalties or a bias): log-probabilities need a copy. */
    public boolean modifiesLogits() {
        return hasPenalties() || !logitBias.isEmpty();
    }

    /** The same parameters with another seed (choice i of n samples with seed + i). */
    public SamplingParams withSeed(long newSeed) {
        return new SamplingParams(temperature, topK, topP, minP, presencePenalty, frequencyPenalty,
                repetitionPenalty, newSeed, logitBias);
    }
}
