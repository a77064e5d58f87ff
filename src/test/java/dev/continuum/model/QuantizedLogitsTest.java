package dev.continuum.model;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The quantized kernels compute what their weights mean: logits of llama.cpp's Q8_0 and Q4_0 files equal a plain
 * float computation on the dequantized weights, within 3e-2 of the largest logit magnitude for both (observed
 * about 1.2e-2 for Q8_0, 1.3e-2 for Q4_0): like llama.cpp, both formats' layers multiply activations rounded to 8
 * bits per 32 values, which moves each input by up to 1/254 of its block's largest magnitude, compounded over the
 * six layers. The kernels' exact arithmetic on those 8-bit activations is checked bit for bit in MatMulTest.
 */
@IntegrationTest
class QuantizedLogitsTest {

    @ParameterizedTest
    @ValueSource(strings = {"dummy-15M-Q8_0.gguf", "dummy-15M-Q4_0.gguf"})
    void logitsMatchDequantizedFloatModel(String file) {
        String path = SharedTestData.require("models/dummy/" + file).toString();
        try (LoadedModel m = ModelLoader.load(path, null); Arena arena = Arena.ofShared();
             ComputePool pool = ModelHarness.pool()) {
            GgmlType expected = file.contains("Q8_0") ? GgmlType.Q8_0 : GgmlType.Q4_0;
            float tolerance = 3e-2f;
            assertEquals(expected, m.weights().layers()[0].down().type(), "the file really is " + expected);
            LlamaWeights prepared = m.weights().interleaved();
            LlamaModel quantized = new LlamaModel(m.config(), prepared, pool);
            LlamaModel reference = ModelHarness.model(m.config(), ModelHarness.dequantized(prepared, arena), pool);
            int[] tokens = {1, 9038, 2501, 263, 931, 29892, 727, 471};
            float[][] q = ModelHarness.prefillLogits(quantized, tokens);
            float[][] r = ModelHarness.prefillLogits(reference, tokens);
            for (int i = 0; i < tokens.length; i++) {
                float scale = ModelHarness.maxAbs(r[i]);
                float diff = ModelHarness.maxAbsDiff(q[i], r[i]);
                assertTrue(scale > 0, "logits are not all zero");
                assertTrue(diff <= tolerance * scale,
                        "position " + i + ": max |diff| " + diff + " exceeds " + tolerance + " x " + scale);
            }
        }
    }
}
