package dev.continuum.sampling;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static float[] randomLogits(int n, long seed) {
        Random r = new Random(seed);
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) r.nextGaussian() * 3;
        }
        return l;
    }

    private static SamplingParams params(float temperature, int topK, float topP, float minP, long seed) {
        return new SamplingParams(temperature, topK, topP, minP, 0f, 0f, 1f, seed);
    }

    @Test
    void greedyTakesTheMaximumAndTheLowestIndexOnTies() {
        float[] logits = {0.5f, 2f, -1f, 2f, 1.9f};
        assertEquals(1, new Sampler(SamplingParams.GREEDY, 5).sample(logits.clone(), 0));
    }

    @Test
    void sameSeedSameTokensDifferentSeedDifferentTokens() {
        float[] logits = randomLogits(1000, 1);
        int[] a = draw(params(1f, 0, 1f, 0f, 42), logits, 50);
        int[] b = draw(params(1f, 0, 1f, 0f, 42), logits, 50);
        int[] c = draw(params(1f, 0, 1f, 0f, 43), logits, 50);
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c));
    }

    @Test
    void topKOneAndTinyTopPAreGreedy() {
        float[] logits = randomLogits(500, 2);
        int best = Sampler.argmax(logits, 0, logits.length);
        for (int t : draw(params(1.5f, 1, 1f, 0f, 7), logits, 20)) {
            assertEquals(best, t);
        }
        for (int t : draw(params(1.5f, 0, 1e-6f, 0f, 7), logits, 20)) {
            assertEquals(best, t);
        }
    }

    @Test
    void topKKeepsOnlyTheKMostLikely() {
        float[] logits = randomLogits(300, 3);
        float[] sorted = logits.clone();
        java.util.Arrays.sort(sorted);
        float kth = sorted[sorted.length - 5];
        for (int t : draw(params(5f, 5, 1f, 0f, 11), logits, 200)) {
            assertTrue(logits[t] >= kth, "token " + t + " is outside the top 5");
        }
    }

    @Test
    void minPDropsUnlikelyTokens() {
        float[] logits = {10f, 9.5f, 0f, 0f, 0f};
        for (int t : draw(params(1f, 0, 1f, 0.1f, 5), logits, 200)) {
            assertTrue(t <= 1, "token " + t + " has p < 0.1 p_max");
        }
    }

    @Test
    void frequenciesFollowTheSoftmax() {
        float[] logits = {0f, (float) Math.log(3)}; // p = 0.25, 0.75
        int ones = 0;
        int n = 4000;
        Sampler s = new Sampler(params(1f, 0, 1f, 0f, 99), 2);
        for (int i = 0; i < n; i++) {
            ones += s.sample(logits.clone(), 0);
        }
        assertEquals(0.75, ones / (double) n, 0.03);
    }

    @Test
    void repetitionPenaltySteersAwayFromSeenTokens() {
        float[] logits = {2f, 1.9f, 0f};
        Sampler s = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 0f, 0f, 1.5f, 0), 3);
        s.accept(0);
        assertEquals(1, s.sample(logits.clone(), 0));
        Sampler p = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 0.5f, 0f, 1f, 0), 3);
        p.accept(0);
        assertEquals(1, p.sample(logits.clone(), 0));
    }

    @Test
    void invalidParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> params(-0.1f, 0, 1f, 0f, 0));
        assertThrows(IllegalArgumentException.class, () -> params(Float.NaN, 0, 1f, 0f, 0));
        assertThrows(IllegalArgumentException.class, () -> params(1f, 0, 0f, 0f, 0));
        assertThrows(IllegalArgumentException.class, () -> params(1f, 0, 1.5f, 0f, 0));
        assertThrows(IllegalArgumentException.class, () -> params(1f, 0, 1f, 2f, 0));
    }

    private static int[] draw(SamplingParams p, float[] logits, int n) {
        Sampler s = new Sampler(p, logits.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(logits.clone(), 0);
        }
        return out;
    }
}
