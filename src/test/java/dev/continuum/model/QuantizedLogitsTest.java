package dev.continuum.model;

import dev.continuum.SharedTestData;
import dev.continuum.loader.GgmlType;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.tensor.ComputePool;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The quantized kernels compute what their weights mean: logits of llama.cpp's Q8_0 and Q4_0 files equal a plain
 * float computation on the dequantized weights, within float rounding. Tolerance: the largest logit difference
 * stays below 1e-4 of the largest logit magnitude (observed about 1e-6; only summation order differs, since
 * activations stay float32 in both).
 */
class QuantizedLogitsTest {
    private static final float RELATIVE_TOLERANCE = 1e-4f;

    @ParameterizedTest
    @ValueSource(strings = {"dummy-15M-Q8_0.gguf", "dummy-15M-Q4_0.gguf"})
    void logitsMatchDequantizedFloatModel(String file) {
        String path = SharedTestData.require("models/dummy/" + file).toString();
        try (LoadedModel m = ModelLoader.load(path, null); Arena arena = Arena.ofShared();
             ComputePool pool = ModelHarness.pool()) {
            GgmlType expected = file.contains("Q8_0") ? GgmlType.Q8_0 : GgmlType.Q4_0;
            assertEquals(expected, m.weights().layers()[0].down().type(), "the file really is " + expected);
            LlamaModel quantized = new LlamaModel(m.config(), m.weights(), pool);
            LlamaModel reference = new LlamaModel(m.config(), ModelHarness.dequantized(m.weights(), arena), pool);
            int[] tokens = {1, 9038, 2501, 263, 931, 29892, 727, 471};
            float[][] q = ModelHarness.prefillLogits(quantized, tokens);
            float[][] r = ModelHarness.prefillLogits(reference, tokens);
            for (int i = 0; i < tokens.length; i++) {
                float scale = ModelHarness.maxAbs(r[i]);
                float diff = ModelHarness.maxAbsDiff(q[i], r[i]);
                assertTrue(scale > 0, "logits are not all zero");
                assertTrue(diff <= RELATIVE_TOLERANCE * scale,
                        "position " + i + ": max |diff| " + diff + " exceeds " + RELATIVE_TOLERANCE + " x " + scale);
            }
        }
    }
}
