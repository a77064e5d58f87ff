package dev.continuum.sampling;

/**
 * OpenAI's {@code logit_bias}: values added to chosen tokens' logits before any sampling, greedy included, so a
 * bias of -100 all but bans a token and +100 all but forces it. Parallel arrays so applying it allocates nothing.
 */
public record LogitBias(int[] tokens, float[] biases) {
    public static final LogitBias NONE = new LogitBias(new int[0], new float[0]);
    public static final float MAX = 100f;

    public LogitBias {
        if (tokens.length != biases.length) {
            throw new IllegalArgumentException("logit_bias: " + tokens.length + " tokens, " + biases.length + " biases");
        }
        for (float b : biases) {
            if (!(b >= -MAX && b <= MAX)) {
                throw new IllegalArgumentException("logit_bias values must be in [-100, 100], got " + b);
            }
        }
        tokens = tokens.clone();
        biases = biases.clone();
    }

    public boolean isEmpty() {
        return tokens.length == 0;
    }

    /** Adds the biases to {@code logits[offset + token]}; tokens outside {@code vocab} were refused earlier. */
    public void apply(float[] logits, int offset) {
        for (int i = 0; i < tokens.length; i++) {
            logits[offset + tokens[i]] += biases[i];
        }
    }
}
