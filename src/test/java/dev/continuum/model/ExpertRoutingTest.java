package dev.continuum.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Mixtral's routing as llama.cpp computes it: softmax, ggml's argsort order for the top k, normalised weights. */
class ExpertRoutingTest {
    @Test
    void picksTheMostProbableExpertsMostProbableFirst() {
        int[] chosen = new int[2];
        float[] weights = new float[2];
        ExpertRouting.route(new float[] {1, 4, 2, 3}, 0, 4, 2, new int[4], chosen, weights, 0);
        assertArrayEquals(new int[] {1, 3}, chosen);
        // Normalised over the two: e^4 / (e^4 + e^3) and e^3 / (e^4 + e^3).
        assertEquals(0.7310586f, weights[0], 1e-7f);
        assertEquals(0.26894143f, weights[1], 1e-7f);
        assertEquals(1f, weights[0] + weights[1], 1e-7f);
    }

    @Test
    void tiesComeOutInGgmlsExchangeSortOrder() {
        // ggml's argsort swaps in every later index strictly larger than the one at j: [0, 3, 3, 5] ends 3, 2, 1, 0,
        // the later of the tied pair first (a stable sort would give 3, 1, 2, 0).
        int[] chosen = new int[4];
        ExpertRouting.route(new float[] {0, 3, 3, 5}, 0, 4, 4, new int[4], chosen, new float[4], 0);
        assertArrayEquals(new int[] {3, 2, 1, 0}, chosen);
        int[] two = new int[2];
        ExpertRouting.route(new float[] {0, 3, 3, 5}, 0, 4, 2, new int[4], two, new float[2], 0);
        assertArrayEquals(new int[] {3, 2}, two, "the tie at the second place goes to expert 2");
        // No swap among equals: all tied, the first k in index order, each weight exactly 1/k.
        float[] weights = new float[2];
        ExpertRouting.route(new float[] {7, 7, 7, 7}, 0, 4, 2, new int[4], two, weights, 0);
        assertArrayEquals(new int[] {0, 1}, two);
        assertArrayEquals(new float[] {0.5f, 0.5f}, weights);
    }

    @Test
    void oneExpertUsedGetsTheWholeWeight() {
        int[] chosen = new int[1];
        float[] weights = new float[1];
        ExpertRouting.route(new float[] {-2, 0.5f, 0.25f}, 0, 3, 1, new int[3], chosen, weights, 0);
        assertEquals(1, chosen[0]);
        assertEquals(1f, weights[0]);
    }

    @Test
    void routesTheRowAndWritesTheEntryItIsGiven() {
        // Token 1 of a batch: its logits at offset 4, its entries at 2 and 3; neighbours untouched.
        float[] logits = {9, 9, 9, 9, 0, 0, 10, 1};
        int[] chosen = {-1, -1, -1, -1, -1, -1};
        float[] weights = new float[6];
        ExpertRouting.route(logits, 4, 4, 2, new int[4], chosen, weights, 2);
        assertArrayEquals(new int[] {-1, -1, 2, 3, -1, -1}, chosen);
        assertArrayEquals(new float[] {9, 9, 9, 9}, java.util.Arrays.copyOf(logits, 4));
        assertEquals(0, weights[0]);
        assertEquals(0, weights[4]);
    }

    @Test
    void softmaxIsGgmls() {
        float[] a = {1, 2, 3};
        ExpertRouting.softmax(a, 0, 3);
        double sum = Math.exp(-2) + Math.exp(-1) + 1;
        assertEquals((float) Math.exp(-2) * (float) (1 / sum), a[0]);
        assertEquals((float) Math.exp(-1) * (float) (1 / sum), a[1]);
        assertEquals((float) (1 / sum), a[2]);
    }
}
