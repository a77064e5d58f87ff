package dev.continuum.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The KL divergence, perplexities and top-1 agreement of hand-made logits rows, against closed forms. */
class KlStatsTest {
    @Test
    void identicalRowsHaveNoDivergenceAndFullAgreement() {
        float[] row = {0.5f, -1.25f, 3f, 2f};
        KlStats kl = new KlStats();
        for (int token = 0; token < 4; token++) {
            kl.add(row, 0, row, 0, 4, token);
        }
        assertEquals(0.0, kl.meanKld());
        assertEquals(1.0, kl.sameTop());
        assertEquals(kl.base().meanNll(), kl.model().meanNll());
    }

    @Test
    void divergenceOfTwoKnownDistributions() {
        // Base p = (1/2, 1/2), model q = (1/4, 3/4) as logits log p and log q (offsets cancel in the softmax).
        float[] base = {7f, 7f};
        float[] model = {(float) Math.log(0.25) + 1, (float) Math.log(0.75) + 1};
        KlStats kl = new KlStats();
        kl.add(model, 0, base, 0, 2, 1);
        double expected = 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75);
        assertEquals(expected, kl.meanKld(), 1e-7);
        assertEquals(-Math.log(0.75), kl.model().meanNll(), 1e-6);
        assertEquals(Math.log(2), kl.base().meanNll(), 1e-6);
        // Ties go to the lower id: the base's top token is 0, the model's 1.
        assertEquals(0.0, kl.sameTop());
    }

    @Test
    void rowsAreReadAtTheirOffsets() {
        float[] both = {9f, 9f, 1f, 2f, 3f, 9f, 9f, 3f, 2f, 1f};
        KlStats kl = new KlStats();
        kl.add(both, 2, both, 7, 3, 0);
        assertEquals(0.0, kl.sameTop());
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        double expected = 0;
        for (int i = 0; i < 3; i++) {
            double p = Math.exp(3 - i) / z;
            double q = Math.exp(1 + i) / z;
            expected += p * Math.log(p / q);
        }
        assertEquals(expected, kl.meanKld(), 1e-6);
    }
}
