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
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPT-2 against llama.cpp c392e509 on the same files: {@link Gpt2Models}' F32 and F16 files, written with the
 * project's GGUF writer and read by its loader, the last prompt position's logits and 64 greedy tokens against
 * llama.cpp's ({@code src/test/resources/reference/architectures/README.md} says how they were made).
 */
@IntegrationTest
class Gpt2Test {
    /** Prompt chunks of 20 rows: more than one step, the last one partial. */
    private static final int CHUNK = 20;
    /**
     * About twice the largest logit difference measured between the engines (F32 3.2e-3, F16 3.8e-3, logits
     * spanning -8.5 to 7.8: llama.cpp rounds queries and attention weights to float16 against its float16 KV cache,
     * and for F16 weights every matrix's activations). Greedy: 64 of 64 tokens on both (smallest margin 0.0164).
     */
    static final double LOGIT_TOLERANCE = 7e-3;

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16"})
    void matchesLlamaCpp(GgmlType type, @TempDir Path tmp) throws IOException {
        JsonNode ref = ArchitectureReferences.json("gpt2-" + type.name().toLowerCase(Locale.ROOT));
        int[] prompt = Gpt2Models.prompt();
        assertEquals(prompt.length, ref.get("prompt_length").asInt());
        Path file = tmp.resolve("gpt2-test.gguf");
        Gpt2Models.write(file, type, false, null);
        try (LoadedModel m = GgufModelLoader.load(file); ComputePool pool = new ComputePool(2)) {
            assertEquals(Architecture.GPT2, m.config().architecture());
            assertEquals(type, m.weights().layers()[0].wq().type());
            assertEquals(Gpt2Models.EPS, m.config().rmsEps());
            ReferenceComparison.Result r = ReferenceComparison.run(new CpuModelRunner(m.config(), m.weights(), pool),
                    prompt, ref, Gpt2Models.VOCAB, CHUNK, 2 * LOGIT_TOLERANCE);
            assertTrue(r.maxDifference() <= LOGIT_TOLERANCE, "prompt logits differ by " + r.maxDifference());
            System.out.printf("%s: max logit difference %.3g, %d of 64 greedy tokens equal, %d near-ties, smallest"
                    + " margin pinned %.4g%n", "gpt2 " + type, r.maxDifference(), r.matched(), r.nearTies(),
                    r.smallestMargin());
        }
    }

    /**
     * Without {@code output.weight} the output is the token embedding itself (GPT-2 ties them), and the logits are
     * exactly those of the file that carries the copy.
     */
    @Test
    void theOutputIsTiedWhenTheFileHasNone(@TempDir Path tmp) throws IOException {
        Path copied = tmp.resolve("gpt2-copied.gguf");
        Path tied = tmp.resolve("gpt2-tied.gguf");
        Gpt2Models.write(copied, GgmlType.F32, false, null);
        Gpt2Models.write(tied, GgmlType.F32, true, null);
        try (LoadedModel a = GgufModelLoader.load(copied); LoadedModel b = GgufModelLoader.load(tied);
             ComputePool pool = new ComputePool(2)) {
            assertSame(b.weights().tokenEmbedding(), b.weights().output());
            float[] expected = ArchitectureReferences.promptLogits(new CpuModelRunner(a.config(), a.weights(), pool),
                    Gpt2Models.prompt()).clone();
            float[] actual = ArchitectureReferences.promptLogits(new CpuModelRunner(b.config(), b.weights(), pool),
                    Gpt2Models.prompt());
            assertArrayEquals(expected, java.util.Arrays.copyOf(actual, expected.length));
        }
    }

    /** A gpt2 file without one of the tensors llama.cpp requires is refused at load, naming it. */
    @ParameterizedTest
    @ValueSource(strings = {"position_embd.weight", "blk.1.attn_qkv.bias", "blk.0.ffn_norm.bias", "output_norm.bias",
            "blk.0.attn_output.bias", "blk.1.ffn_down.bias"})
    void aMissingTensorIsRefusedByName(String name, @TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("gpt2-test.gguf");
        Gpt2Models.write(file, GgmlType.F32, false, name);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufModelLoader.load(file).close());
        assertTrue(e.getMessage().contains("'" + name + "'"), e.getMessage());
    }
}
