package dev.continuum.sampling;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log-softmax normaliser against a float64 reference ({@code Math.exp} summed in double, what llama.cpp's
 * perplexity does), on rows shaped like real logits and on the edges: one finite logit among -inf, all -inf,
 * logits far below the largest (the exponential's cut-off at e^-64), huge magnitudes.
 */
class LogprobsTest {

    private static double reference(float[] logits, int o, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[o + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[o + i] - max);
        }
        return max + Math.log(sum);
    }

    @Test
    void logSumExpIsTheFloat64ReferenceWithinAFewUlp() {
        Random random = new Random(21);
        for (int n : new int[] {1, 2, 15, 16, 17, 255, 1000, 32000, 151936}) {
            for (double scale : new double[] {0.1, 3, 30, 300}) {
                float[] logits = new float[n + 5];
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = (float) (random.nextGaussian() * scale + 7);
                }
                double want = reference(logits, 5, n);
                float got = Logprobs.logSumExp(logits, 5, n);
                // The float result's own rounding plus the exponentials' ~2 ulp relative error in the sum.
                double bound = 4 * Math.ulp((float) want) + 1e-6;
                assertEquals(want, got, bound, n + " logits at scale " + scale);
            }
        }
    }

    @Test
    void edgesHaveTheirExactAnswers() {
        float[] one = new float[40];
        java.util.Arrays.fill(one, Float.NEGATIVE_INFINITY);
        one[33] = 2.5f;
        assertEquals(2.5f, Logprobs.logSumExp(one, 0, one.length), "one possible token: logprob 0 for it");

        float[] none = new float[40];
        java.util.Arrays.fill(none, Float.NEGATIVE_INFINITY);
        assertEquals(Float.NEGATIVE_INFINITY, Logprobs.logSumExp(none, 0, none.length));

        float[] far = new float[64];
        java.util.Arrays.fill(far, -1e30f);
        far[7] = 1e30f;
        assertEquals(1e30f, Logprobs.logSumExp(far, 0, far.length), "everything else below e^-64 of the top");

        float[] equal = new float[32000];
        java.util.Arrays.fill(equal, -3f);
        assertEquals(-3 + Math.log(32000), Logprobs.logSumExp(equal, 0, equal.length), 2e-6);
    }

    @Test
    void theRowIsLeftAsItWas() {
        Random random = new Random(22);
        float[] logits = new float[32000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) random.nextGaussian() * 5;
        }
        float[] before = logits.clone();
        float lse = Logprobs.logSumExp(logits, 0, logits.length);
        assertTrue(lse > 0, "sanity: the normaliser of 32 000 gaussians exceeds 0");
        assertArrayEquals(before, logits);
    }
}
