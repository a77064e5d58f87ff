package dev.continuum.sampling;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** logit_bias is added before any choice: greedy follows it, a -100 ban holds under sampling, bad values refuse. */
class LogitBiasTest {
    private static SamplingParams params(float temperature, LogitBias bias) {
        return new SamplingParams(temperature, 0, 1f, 0f, 0f, 0f, 1f, 7L, bias);
    }

    @Test
    void greedyPicksTheBiasedToken() {
        float[] logits = {3f, 1f, 0f, 2f};
        Sampler plain = new Sampler(params(0f, LogitBias.NONE), 4);
        assertEquals(0, plain.sample(logits.clone(), 0));
        Sampler biased = new Sampler(params(0f, new LogitBias(new int[]{2}, new float[]{5f})), 4);
        assertEquals(2, biased.sample(logits.clone(), 0));
    }

    @Test
    void aBanHoldsWhenSampling() {
        Sampler s = new Sampler(params(1f, new LogitBias(new int[]{0}, new float[]{-100f})), 3);
        for (int i = 0; i < 2000; i++) {
            float[] row = {0f, 1f, 0f, 0f, 0f};
            int token = s.sample(row, 1); // offset 1: the bias lands on the row, not the array start
            assertEquals(true, token != 0, "banned token drawn");
        }
    }

    @Test
    void valuesOutsideTheRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LogitBias(new int[]{1}, new float[]{100.5f}));
        assertThrows(IllegalArgumentException.class, () -> new LogitBias(new int[]{1}, new float[]{Float.NaN}));
        assertThrows(IllegalArgumentException.class, () -> new LogitBias(new int[]{1, 2}, new float[]{1f}));
    }
}
