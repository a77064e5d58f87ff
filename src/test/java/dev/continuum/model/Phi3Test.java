package dev.continuum.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.IntegrationTest;
import dev.continuum.format.ModelFormatException;
import dev.continuum.loader.GgufModelLoader;
import dev.continuum.loader.LoadedModel;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Phi-3 against llama.cpp c392e509 on the same files: {@link Phi3Models}' files (F32 and F16 at a 4 096-token
 * context, past the original 256, so the long rope factors; F32 at 256, the short ones), written with the
 * project's GGUF writer and read by its loader; a 64-token prompt crossing the 32-position sliding window, its last
 * position's logits and 64 greedy tokens against llama.cpp's
 * ({@code src/test/resources/reference/architectures/README.md} says how they were made).
 */
@IntegrationTest
class Phi3Test {
    /** Prompt chunks of 20 rows: more than one step, the last one partial. */
    private static final int CHUNK = 20;
    /**
     * Where a greedy step counts as a near-tie: a reference margin under twice the F32 tolerance. Past it the
     * argmax must be llama.cpp's token.
     */
    static final double NEAR_TIE = 2e-2;

    @ParameterizedTest
    @CsvSource({"phi3-f32, F32, 4096, 1e-2", "phi3-f16, F16, 4096, 3.5e-2", "phi3-short-f32, F32, 256, 1e-2"})
    void matchesLlamaCpp(String name, GgmlType type, int context, double tolerance, @TempDir Path tmp)
            throws IOException {
        JsonNode ref = ArchitectureReferences.json(name);
        int[] prompt = Phi3Models.prompt();
        assertEquals(prompt.length, ref.get("prompt_length").asInt());
        Path file = tmp.resolve(name + ".gguf");
        Phi3Models.write(file, type, context, null, true);
        try (LoadedModel m = GgufModelLoader.load(file); ComputePool pool = new ComputePool(2)) {
            LlamaConfig c = m.config();
            assertEquals(Architecture.PHI3, c.architecture());
            assertEquals(type, m.weights().layers()[0].wq().type());
            assertEquals(SlidingWindow.everyLayer(Phi3Models.WINDOW), c.slidingWindow());
            assertEquals(Phi3Models.ATTN_FACTOR, c.ropeScaling().attnFactor());
            assertArrayEquals(context > Phi3Models.ORIGINAL_CONTEXT ? Phi3Models.longFactors()
                    : Phi3Models.shortFactors(), c.ropeScaling().freqFactors());
            ReferenceComparison.Result r = ReferenceComparison.run(new CpuModelRunner(c, m.weights(), pool),
                    prompt, ref, Phi3Models.VOCAB, CHUNK, NEAR_TIE);
            assertTrue(r.maxDifference() <= tolerance, "prompt logits differ by " + r.maxDifference());
            System.out.printf("%s: max logit difference %.3g, %d of 64 greedy tokens equal, %d near-ties, smallest"
                    + " margin pinned %.4g%n", name, r.maxDifference(), r.matched(), r.nearTies(),
                    r.smallestMargin());
        }
    }

    /**
     * The choice of factors is what the served context decides: the same weights at the original context (short
     * factors) are far from llama.cpp's logits at the long one.
     */
    @Test
    void theLongFactorsMatterPastTheOriginalContext(@TempDir Path tmp) throws IOException {
        JsonNode ref = ArchitectureReferences.json("phi3-f32");
        Path file = tmp.resolve("phi3-short.gguf");
        Phi3Models.write(file, GgmlType.F32, Phi3Models.ORIGINAL_CONTEXT, null, true);
        try (LoadedModel m = GgufModelLoader.load(file); ComputePool pool = new ComputePool(2)) {
            ReferenceComparison.Result r = ReferenceComparison.run(new CpuModelRunner(m.config(), m.weights(), pool),
                    Phi3Models.prompt(), ref, Phi3Models.VOCAB, CHUNK, Double.POSITIVE_INFINITY);
            assertTrue(r.maxDifference() > 0.5, "with the short factors the logits differ by only "
                    + r.maxDifference());
        }
    }

    /** A phi3 file without one of the tensors llama.cpp requires is refused at load, naming it. */
    @ParameterizedTest
    @ValueSource(strings = {"blk.1.attn_qkv.weight", "blk.0.ffn_up.weight", "output.weight"})
    void aMissingTensorIsRefusedByName(String name, @TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("phi3-test.gguf");
        Phi3Models.write(file, GgmlType.F32, Phi3Models.LONG_CONTEXT, name, true);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufModelLoader.load(file).close());
        assertTrue(e.getMessage().contains("'" + name + "'"), e.getMessage());
    }

    /** Without its sliding window key, a file whose layer counts match no known Phi-3 is refused, as llama.cpp does. */
    @Test
    void aMissingSlidingWindowIsRefusedByName(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("phi3-test.gguf");
        Phi3Models.write(file, GgmlType.F32, Phi3Models.LONG_CONTEXT, null, false);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufModelLoader.load(file).close());
        assertTrue(e.getMessage().contains("'phi3.attention.sliding_window' is missing"), e.getMessage());
    }
}
