package dev.continuum.model;

import dev.continuum.loader.LoadedModel;
import dev.continuum.runner.StepBatch;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.MatMul;
import dev.continuum.tensor.WeightTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mixture-of-experts feed-forward: the right sum of experts (against a plain float64 loop over each token's
 * experts), and batch invariance: a token's result is the same bits alone, in any batch, grouped per expert or run
 * token by token.
 */
class ExpertFeedForwardTest {
    private static final int ROWS = 13;

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "Q8_0", "Q4_0"})
    void sumsEachTokensExpertsWithTheirWeights(GgmlType type) {
        try (LoadedModel m = MixtralModels.create(type, 8, 2); ComputePool pool = new ComputePool(2)) {
            LlamaWeights w = m.weights().interleaved();
            LayerWeights layer = w.layers()[1];
            float[] in = inputs(ROWS, 5);
            float[] x = inputs(ROWS, 6);
            float[] expected = x.clone();
            for (int t = 0; t < ROWS; t++) {
                reference(layer.experts(), 2, in, t, expected);
            }
            new ExpertFeedForward(m.config(), w, new MatMul(pool), ExpertFeedForward.Schedule.GROUPED)
                    .addTo(layer, in.clone(), ROWS, x);
            for (int i = 0; i < x.length; i++) {
                assertEquals(expected[i], x[i], 1e-5 + 1e-5 * Math.abs(expected[i]), "element " + i);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "Q8_0"})
    void aTokensResultDoesNotDependOnTheBatchOrTheSchedule(GgmlType type) {
        try (LoadedModel m = MixtralModels.create(type, 8, 2); ComputePool pool = new ComputePool(2)) {
            LlamaWeights w = m.weights().interleaved();
            LayerWeights layer = w.layers()[0];
            float[] in = inputs(ROWS, 7);
            float[] x = inputs(ROWS, 8);
            ExpertFeedForward grouped = new ExpertFeedForward(m.config(), w, new MatMul(pool),
                    ExpertFeedForward.Schedule.GROUPED);
            float[] batched = x.clone();
            grouped.addTo(layer, in.clone(), ROWS, batched);
            float[] perToken = x.clone();
            new ExpertFeedForward(m.config(), w, new MatMul(pool), ExpertFeedForward.Schedule.PER_TOKEN)
                    .addTo(layer, in.clone(), ROWS, perToken);
            assertArrayEquals(batched, perToken, "grouped and token by token");
            int dim = MixtralModels.DIM;
            for (int t = 0; t < ROWS; t++) {
                float[] one = Arrays.copyOfRange(x, t * dim, (t + 1) * dim);
                grouped.addTo(layer, Arrays.copyOfRange(in, t * dim, (t + 1) * dim), 1, one);
                assertArrayEquals(Arrays.copyOfRange(batched, t * dim, (t + 1) * dim), one, "token " + t + " alone");
            }
            // The batch's tokens shared experts (8 experts, 26 routed rows), so grouping did group.
            assertTrue(routedToMoreThanOne(m.config(), w, layer, in, pool));
        }
    }

    /** The whole forward pass: one sequence's logits alone and in a batch with another are the same bits. */
    @Test
    void logitsAreTheSameBitsAloneAndInABatch() {
        try (LoadedModel m = MixtralModels.create(GgmlType.F32); ComputePool pool = new ComputePool(2)) {
            int[] a = MixtralModels.prompt();
            int[] b = RopeScalingModels.prompt(40);
            for (int i = 0; i < b.length; i++) {
                b[i] = (b[i] * 5 + 11) % MixtralModels.VOCAB;
            }
            CpuModelRunner runner = new CpuModelRunner(m.config(), m.weights(), pool);
            int block = 16;
            runner.allocateKvCache(8, block);
            int[][] tables = {{0, 1, 2, 3}, {4, 5, 6, 7}};
            StepBatch batch = new StepBatch(a.length + b.length, 2, tables, block);
            for (int p = 0; p < a.length; p++) {
                batch.addRow(a[p], p, 0);
            }
            batch.requestLogits(a.length - 1);
            float[] alone = runner.forward(batch).logits().clone();
            batch.clear();
            // Sequence 1's prompt first, then sequence 0's again (its KV entries are rewritten with the same bits).
            for (int p = 0; p < b.length; p++) {
                batch.addRow(b[p], p, 1);
            }
            for (int p = 0; p < a.length; p++) {
                batch.addRow(a[p], p, 0);
            }
            batch.requestLogits(b.length + a.length - 1);
            float[] together = runner.forward(batch).logits();
            assertArrayEquals(Arrays.copyOf(alone, MixtralModels.VOCAB), Arrays.copyOf(together, MixtralModels.VOCAB));
        }
    }

    @Test
    void refusesLayersWithoutExperts() {
        try (LoadedModel moe = MixtralModels.create(GgmlType.F32); LoadedModel dense = Qwen3Models.create();
             ComputePool pool = new ComputePool(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new ExpertFeedForward(moe.config(), dense.weights(), new MatMul(pool),
                            ExpertFeedForward.Schedule.GROUPED));
            assertTrue(e.getMessage().contains("8 experts"), e.getMessage());
        }
    }

    @Test
    void theScheduleIsReadFromItsProperty() {
        String before = System.getProperty(ExpertFeedForward.Schedule.PROPERTY);
        try {
            System.clearProperty(ExpertFeedForward.Schedule.PROPERTY);
            assertEquals(ExpertFeedForward.Schedule.GROUPED, ExpertFeedForward.Schedule.fromSystemProperty());
            System.setProperty(ExpertFeedForward.Schedule.PROPERTY, "per-token");
            assertEquals(ExpertFeedForward.Schedule.PER_TOKEN, ExpertFeedForward.Schedule.fromSystemProperty());
            System.setProperty(ExpertFeedForward.Schedule.PROPERTY, "sometimes");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    ExpertFeedForward.Schedule::fromSystemProperty);
            assertTrue(e.getMessage().contains("sometimes"), e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(ExpertFeedForward.Schedule.PROPERTY);
            } else {
                System.setProperty(ExpertFeedForward.Schedule.PROPERTY, before);
            }
        }
    }

    private static boolean routedToMoreThanOne(LlamaConfig c, LlamaWeights w, LayerWeights layer, float[] in,
                                               ComputePool pool) {
        int[] counts = new int[c.expertCount()];
        float[] logits = new float[ROWS * c.expertCount()];
        MatMul.matmul(layer.experts().router(), in, ROWS, logits, pool);
        int[] chosen = new int[c.expertsUsed()];
        for (int t = 0; t < ROWS; t++) {
            ExpertRouting.route(logits, t * c.expertCount(), c.expertCount(), c.expertsUsed(),
                    new int[c.expertCount()], chosen, new float[c.expertsUsed()], 0);
            for (int e : chosen) {
                counts[e]++;
            }
        }
        return Arrays.stream(counts).anyMatch(n -> n > 1);
    }

    /** {@code x[t] += sum_r w_r * expert_r(in[t])} in float64 over the weights' own dot products. */
    private static void reference(Experts ex, int k, float[] in, int t, float[] x) {
        int dim = ex.router().cols();
        int experts = ex.count();
        double[] p = new double[experts];
        double max = Double.NEGATIVE_INFINITY;
        for (int e = 0; e < experts; e++) {
            p[e] = ex.router().dot(e, in, t * dim);
            max = Math.max(max, p[e]);
        }
        Integer[] order = new Integer[experts];
        for (int e = 0; e < experts; e++) {
            p[e] = Math.exp(p[e] - max);
            order[e] = e;
        }
        Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        double total = 0;
        for (int r = 0; r < k; r++) {
            total += p[order[r]];
        }
        int ffn = ex.gate()[0].rows();
        float[] h = new float[ffn];
        float[] row = Arrays.copyOfRange(in, t * dim, (t + 1) * dim);
        for (int r = 0; r < k; r++) {
            int e = order[r];
            for (int i = 0; i < ffn; i++) {
                double g = ex.gate()[e].dot(i, row, 0);
                h[i] = (float) (g / (1 + Math.exp(-g)) * ex.up()[e].dot(i, row, 0));
            }
            WeightTensor down = ex.down()[e];
            for (int d = 0; d < dim; d++) {
                x[t * dim + d] += (float) (p[e] / total * down.dot(d, h, 0));
            }
        }
    }

    private static float[] inputs(int rows, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[rows * MixtralModels.DIM];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }
}
