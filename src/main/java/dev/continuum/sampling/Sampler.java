package dev.continuum.sampling;

import java.util.SplittableRandom;

/**
 * Picks tokens from logits for one sequence: logit bias and penalties, then greedy or temperature + top-k + top-p + min-p
 * sampling from its own seeded generator, so its choices depend only on its own logits and seed, never on what
 * else shares the batch. Reuses its buffers: no allocation per token.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private final int vocab;
    private final float[] probs;
    private final int[] order;
    private final int[] counts;
    /** The total weight of the candidates {@link #candidates} left in {@code order}. */
    private double candidateSum;

    public Sampler(SamplingParams params, int vocab) {
        this.params = params;
        this.vocab = vocab;
        this.random = new SplittableRandom(params.seed());
        this.probs = params.greedy() ? null : new float[vocab];
        this.order = params.greedy() ? null : new int[vocab];
        this.counts = params.hasPenalties() ? new int[vocab] : null;
    }

    /** Records a token already in the context (prompt or generated) for the penalties. */
    public void accept(int token) {
        if (counts != null && token >= 0 && token < vocab) {
            counts[token]++;
        }
    }

    /** Undoes one {@link #accept} of {@code token}: a proposed token that was in the context only tentatively. */
    public void forget(int token) {
        if (counts != null && token >= 0 && token < vocab) {
            counts[token]--;
        }
    }

    public boolean greedy() {
        return params.greedy();
    }

    /**
     * Fills {@code out[0..vocab)} with the distribution {@link #sample} draws from for this row: logit bias,
     * penalties, temperature, top-k, top-p and min-p applied, normalized, zero outside the candidates; greedy is
     * all mass on the argmax. The logits may be modified. Uses no randomness.
     */
    public void distribution(float[] logits, int offset, float[] out) {
        if (!params.logitBias().isEmpty()) {
            params.logitBias().apply(logits, offset);
        }
        if (counts != null) {
            applyPenalties(logits, offset);
        }
        java.util.Arrays.fill(out, 0, vocab, 0f);
        if (params.greedy()) {
            out[argmax(logits, offset, vocab)] = 1f;
            return;
        }
        int n = candidates(logits, offset);
        double inv = 1 / candidateSum;
        for (int i = 0; i < n; i++) {
            out[order[i]] = (float) (probs[order[i]] * inv);
        }
    }

    /**
     * Speculative sampling's test of a proposal {@code x} drawn from distribution {@code q}, against this row's own
     * distribution {@code p} (from {@link #distribution}): accepted with probability min(1, p(x) / q(x)), using this
     * sampler's generator.
     */
    public boolean acceptsProposal(float[] p, float[] q, int x) {
        if (p[x] >= q[x]) {
            return true;
        }
        return random.nextDouble() * q[x] < p[x];
    }

    /**
     * After a rejected proposal: a token drawn from normalize(max(0, p - q)), the part of the target's distribution
     * the proposal distribution did not cover, so that accepted-or-replaced tokens follow p exactly. Returns -1 when
     * rounding leaves that residual empty (p and q equal). {@code p} is overwritten.
     */
    public int drawResidual(float[] p, float[] q) {
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            float r = p[i] - q[i];
            p[i] = r > 0 ? r : 0f;
            sum += p[i];
        }
        return sum > 0 ? draw(p, sum, random) : -1;
    }

    /** A token drawn from the weights {@code w} with {@code rnd}. */
    public static int draw(float[] w, SplittableRandom rnd) {
        double sum = 0;
        for (float v : w) {
            sum += v;
        }
        return draw(w, sum, rnd);
    }

    /** A token drawn from the weights {@code w} (summing to {@code sum}) with {@code rnd}. */
    public static int draw(float[] w, double sum, SplittableRandom rnd) {
        double r = rnd.nextDouble() * sum;
        double acc = 0;
        int last = 0;
        for (int i = 0; i < w.length; i++) {
            if (w[i] > 0) {
                acc += w[i];
                last = i;
                if (acc > r) {
                    return i;
                }
            }
        }
        return last;
    }

    /** Picks the next token from {@code logits[offset .. offset+vocab)}; the logits may be modified. */
    public int sample(float[] logits, int offset) {
        if (!params.logitBias().isEmpty()) {
            params.logitBias().apply(logits, offset);
        }
        if (counts != null) {
            applyPenalties(logits, offset);
        }
        if (params.greedy()) {
            return argmax(logits, offset, vocab);
        }
        return sampleStochastic(logits, offset);
    }

    /** Index of the largest value; the lowest index wins ties, as in llama.cpp. */
    public static int argmax(float[] logits, int offset, int n) {
        int best = 0;
        float max = logits[offset];
        for (int i = 1; i < n; i++) {
            if (logits[offset + i] > max) {
                max = logits[offset + i];
                best = i;
            }
        }
        return best;
    }

    private void applyPenalties(float[] logits, int o) {
        float rep = params.repetitionPenalty();
        for (int t = 0; t < vocab; t++) {
            int c = counts[t];
            if (c == 0) {
                continue;
            }
            float l = logits[o + t];
            if (rep != 1f) {
                l = l > 0 ? l / rep : l * rep;
            }
            logits[o + t] = l - c * params.frequencyPenalty() - params.presencePenalty();
        }
    }

    private int sampleStochastic(float[] logits, int o) {
        int n = candidates(logits, o);
        double r = random.nextDouble() * candidateSum;
        double acc = 0;
        for (int i = 0; i < n; i++) {
            acc += probs[order[i]];
            if (acc > r) {
                return order[i];
            }
        }
        return order[n - 1];
    }

    /**
     * Narrows the row to the tokens sampling may draw: {@code probs} gets the unnormalized weights
     * exp((logit - max) / T), {@code order[0..n)} the candidates after top-k, top-p and min-p, and
     * {@link #candidateSum} their total. Returns n.
     */
    private int candidates(float[] logits, int o) {
        float invT = 1f / params.temperature();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[o + i]);
        }
        // Candidates: indices into probs, narrowed by top-k and then sorted by probability.
        int n = vocab;
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        int k = params.topK() > 0 ? Math.min(params.topK(), vocab) : vocab;
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            float p = (float) Math.exp((logits[o + i] - max) * invT);
            probs[i] = p;
            sum += p;
        }
        if (k < vocab || params.topP() < 1f || params.minP() > 0f) {
            n = TopSelection.partialSortDescending(order, probs, vocab, k);
            double kept = 0;
            for (int i = 0; i < n; i++) {
                kept += probs[order[i]];
            }
            sum = kept;
            float minProb = params.minP() > 0 ? params.minP() * probs[order[0]] : 0f;
            double cumulative = 0;
            int cut = n;
            for (int i = 0; i < n; i++) {
                float p = probs[order[i]];
                if (i > 0 && p < minProb) {
                    cut = i;
                    break;
                }
                cumulative += p;
                if (cumulative / sum >= params.topP()) {
                    cut = i + 1;
                    break;
                }
            }
            n = cut;
            sum = 0;
            for (int i = 0; i < n; i++) {
                sum += probs[order[i]];
            }
        }
        candidateSum = sum;
        return n;
    }
}
