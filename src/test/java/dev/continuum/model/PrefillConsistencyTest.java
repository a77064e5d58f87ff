package dev.continuum.model;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.tensor.ComputePool;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prefill of N tokens followed by one decode step gives the logits of N+1 single-token steps, and a sequence's
 * logits do not depend on the other sequences sharing its forward pass.
 */
@IntegrationTest
class PrefillConsistencyTest {
    // Prefill and stepwise decode reduce in the same order per row; only attention's running softmax sees the
    // same values, so they agree to float rounding at most.
    private static final float TOLERANCE = 1e-5f;

    @Test
    void prefillThenDecodeEqualsSingleSteps() {
        int[] tokens = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};
        try (LoadedModel m = ModelLoader.load(SharedTestData.require("models/stories260K.gguf").toString(), null);
             ComputePool pool = ModelHarness.pool()) {
            LlamaModel model = ModelHarness.model(m.config(), m.weights(), pool);
            float[][] stepwise = ModelHarness.stepwiseLogits(model, tokens);

            int n = tokens.length - 1;
            ModelHarness.Cache cache = ModelHarness.Cache.of(m.config(), 1, tokens.length);
            int[] positions = new int[n];
            for (int i = 0; i < n; i++) {
                positions[i] = i;
            }
            float[] prefill = ModelHarness.forward(model, cache, Arrays.copyOf(tokens, n), positions, new int[n],
                    new int[]{n - 1});
            assertClose(stepwise[n - 1], prefill, "after the prefill");
            float[] decode = ModelHarness.forward(model, cache, new int[]{tokens[n]}, new int[]{n}, new int[]{0},
                    new int[]{0});
            assertClose(stepwise[n], decode, "after the decode step");
        }
    }

    @Test
    void sequenceLogitsDoNotDependOnBatchNeighbours() {
        try (LoadedModel m = ModelLoader.load("dummy:tiny", null); ComputePool pool = ModelHarness.pool()) {
            LlamaModel model = ModelHarness.model(m.config(), m.weights(), pool);
            int vocab = m.config().vocabSize();
            int[] a = {1, 10, 20, 30, 40};
            float[] solo = ModelHarness.stepwiseLogits(model, a)[a.length - 1];

            // Sequence 1 runs "a"; sequence 0 runs other tokens at other positions in the same passes.
            ModelHarness.Cache cache = ModelHarness.Cache.of(m.config(), 2, 16);
            ModelHarness.forward(model, cache, new int[]{1, 7, 8}, new int[]{0, 1, 2}, new int[]{0, 0, 0}, new int[0]);
            float[] logits = null;
            for (int i = 0; i < a.length; i++) {
                logits = ModelHarness.forward(model, cache, new int[]{a[i], 100 + i}, new int[]{i, 3 + i},
                        new int[]{1, 0}, new int[]{0, 1});
            }
            assertArrayEquals(solo, Arrays.copyOf(logits, vocab), "bit-identical logits alone and batched");
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        float diff = ModelHarness.maxAbsDiff(expected, actual);
        assertTrue(diff <= TOLERANCE * Math.max(1f, ModelHarness.maxAbs(expected)), what + ": max |diff| " + diff);
    }
}
