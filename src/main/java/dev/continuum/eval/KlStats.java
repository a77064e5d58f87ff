package dev.continuum.eval;

import dev.continuum.sampling.Logprobs;

/**
 * What llama.cpp's {@code --kl-divergence} reports over the scored tokens, comparing a model {@code Q} with a base
 * model {@code P} on the same windows: both perplexities, the mean of {@code KL(P || Q) = sum_i p_i (log p_i -
 * log q_i)} over the vocabulary, and how often the two most likely tokens agree ("Same top p").
 *
 * <p>The base's log-probabilities are taken from its logits in full precision; llama.cpp first stores them as
 * 16-bit steps of at most 16/65535 and drops tokens with {@code log p < -16}, so its figures differ from these in
 * the last printed digits. Per token this reads each row three times and allocates nothing.
 */
public final class KlStats {
    private final NllStats model = new NllStats();
    private final NllStats base = new NllStats();
    private final int[] topId = new int[1];
    private final float[] topValue = new float[1];
    private double kldSum;
    private double kldSum2;
    private long sameTop;

    /**
     * Scores one token: {@code modelLogits[mo .. mo+n)} and {@code baseLogits[bo .. bo+n)} are the two models'
     * logits for the same position, {@code token} the text's next token.
     */
    public void add(float[] modelLogits, int mo, float[] baseLogits, int bo, int n, int token) {
        float lseModel = Logprobs.logSumExp(modelLogits, mo, n);
        float lseBase = Logprobs.logSumExp(baseLogits, bo, n);
        model.add((double) lseModel - modelLogits[mo + token]);
        base.add((double) lseBase - baseLogits[bo + token]);
        double kld = 0;
        for (int i = 0; i < n; i++) {
            double logP = (double) baseLogits[bo + i] - lseBase;
            double logQ = (double) modelLogits[mo + i] - lseModel;
            kld += Math.exp(logP) * (logP - logQ);
        }
        kldSum += kld;
        kldSum2 += kld * kld;
        if (argmax(modelLogits, mo, n) == argmax(baseLogits, bo, n)) {
            sameTop++;
        }
    }

    private int argmax(float[] logits, int o, int n) {
        Logprobs.top(logits, o, n, topId, topValue);
        return topId[0];
    }

    public NllStats model() {
        return model;
    }

    public NllStats base() {
        return base;
    }

    public long count() {
        return model.count();
    }

    public double meanKld() {
        return kldSum / count();
    }

    /** Standard error of the mean KL divergence; 0 for 10 tokens or fewer, as llama.cpp. */
    public double meanKldError() {
        long n = count();
        double mean = meanKld();
        double variance = kldSum2 / n - mean * mean;
        return variance > 0 && n > 10 ? Math.sqrt(variance / (n - 1)) : 0;
    }

    /** Fraction of tokens whose most likely next token is the same in both models. */
    public double sameTop() {
        return (double) sameTop / count();
    }

    /** Binomial standard error of {@link #sameTop}. */
    public double sameTopError() {
        double p = sameTop();
        return Math.sqrt(p * (1 - p) / (count() - 1));
    }
}
