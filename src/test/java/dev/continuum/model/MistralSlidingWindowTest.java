package dev.continuum.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.IntegrationTest;
import dev.continuum.format.ModelFormatException;
import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.GgufModelLoader;
import dev.continuum.loader.LoadedModel;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mistral's sliding-window attention where the file sets it ({@code llama.attention.sliding_window}), against the
 * independent float64 reference {@code llama_reference.py} (llama.cpp c392e509 reads the key only for Phi-3 and
 * Gemma 2 and computes a llama file without the window; with the window turned off the same script agrees with
 * llama.cpp on all 64 greedy tokens, see the README): {@link MistralModels}' F32 and F16 files, written by the
 * exporter, read back by the loader, their prompt run in chunks that end off the window's and the blocks' edges.
 */
@IntegrationTest
class MistralSlidingWindowTest {
    private static final int GENERATE = 64;
    /**
     * Ten times the largest logit difference measured (9.4e-6 F32, 4.0e-6 F16) against the float64 reference run
     * with its keys and values rounded to float16 as Continuum's cache stores them (see the README).
     */
    static final double LOGIT_TOLERANCE = 1e-4;
    /**
     * Against the exact reference: the float16 cache alone moves the reference's own logits by 7.9e-3 (F32) and
     * 5.6e-3 (F16); this bounds Continuum's at a little over that.
     */
    static final double EXACT_TOLERANCE = 1e-2;
    private static final byte[] KEY = "llama.attention.sliding_window".getBytes(StandardCharsets.US_ASCII);

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16"})
    void matchesTheFloat64Reference(GgmlType type, @TempDir Path tmp) throws IOException {
        JsonNode ref = ArchitectureReferences.json("mistral-" + type.name().toLowerCase(Locale.ROOT));
        assertEquals(MistralModels.WINDOW, ref.get("window").asInt());
        int[] prompt = MistralModels.prompt();
        ArchitectureReferences.samePrompt(ref, prompt);
        try (LoadedModel m = load(type, tmp); ComputePool pool = new ComputePool(2)) {
            assertEquals(SlidingWindow.everyLayer(MistralModels.WINDOW), m.config().slidingWindow());
            CpuModelRunner runner = new CpuModelRunner(m.config(), m.weights(), pool);
            ReferenceComparison.Result r = ReferenceComparison.run(runner, prompt, ref.get("f16_cache"),
                    MistralModels.VOCAB, ArchitectureReferences.CHUNK, 2 * LOGIT_TOLERANCE);
            assertTrue(r.maxDifference() <= LOGIT_TOLERANCE, "prompt logits differ by " + r.maxDifference());
            assertEquals(GENERATE, r.matched(), "greedy tokens equal to the reference's");
            double exact = ArchitectureReferences.maxDifference(ref.get("logits"),
                    ArchitectureReferences.promptLogits(runner, prompt), MistralModels.VOCAB);
            assertTrue(exact <= EXACT_TOLERANCE, "prompt logits differ from the exact reference by " + exact);
            for (int g = 0; g < GENERATE; g++) {
                assertEquals(ref.get("greedy").get(g).asInt(), ref.get("f16_cache").get("greedy").get(g).asInt(),
                        "the float16 cache changes no greedy token of the reference");
            }
        }
    }

    /** Without the window the model attends to the whole prompt, and its logits are far off the reference. */
    @Test
    void theWindowMatters(@TempDir Path tmp) throws IOException {
        JsonNode ref = ArchitectureReferences.json("mistral-f32");
        try (LoadedModel m = load(GgmlType.F32, tmp); ComputePool pool = new ComputePool(2)) {
            LlamaConfig c = m.config();
            LlamaConfig whole = new LlamaConfig(c.architecture(), c.dim(), c.layers(), c.heads(), c.kvHeads(),
                    c.headDim(), c.ffnDim(), c.vocabSize(), c.contextLength(), c.rmsEps(), c.ropeTheta(),
                    c.ropeDims(), c.ropeType(), c.ropeScaling());
            float[] logits = ArchitectureReferences.promptLogits(new CpuModelRunner(whole, m.weights(), pool),
                    MistralModels.prompt());
            double diff = ArchitectureReferences.maxDifference(ref.get("f16_cache").get("logits"), logits,
                    MistralModels.VOCAB);
            assertTrue(diff > 100 * LOGIT_TOLERANCE, "without the window the logits differ by only " + diff);
        }
    }

    /** A window of at least the context is no window; a window of 0 positions is refused, naming the key. */
    @Test
    void theKeyIsValidated(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("mistral.gguf");
        try (LoadedModel m = MistralModels.create(GgmlType.F32)) {
            GgufExporter.write(m, file);
        }
        setWindow(file, MistralModels.CONTEXT);
        try (LoadedModel m = GgufModelLoader.load(file)) {
            assertEquals(SlidingWindow.NONE, m.config().slidingWindow());
        }
        setWindow(file, 0);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufModelLoader.load(file).close());
        assertTrue(e.getMessage().contains("llama.attention.sliding_window"), e.getMessage());
    }

    private static LoadedModel load(GgmlType type, Path tmp) throws IOException {
        Path file = tmp.resolve("mistral-" + type + ".gguf");
        try (LoadedModel m = MistralModels.create(type)) {
            GgufExporter.write(m, file);
        }
        return GgufModelLoader.load(file);
    }

    /** Rewrites the key's uint32 value in place: after the key come its value type (4 bytes) and the value. */
    private static void setWindow(Path file, int window) throws IOException {
        byte[] b = Files.readAllBytes(file);
        int at = ArchitectureReferences.indexOf(b, KEY);
        assertTrue(at > 0);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at + KEY.length + 4, window);
        Files.write(file, b);
    }
}
