package dev.continuum.loader;

import dev.continuum.IntegrationTest;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The GGUF files produced by llama.cpp in the shared test data parse, with the facts we know about them. */
@IntegrationTest
class GgufRealFilesTest {

    /** The shared models directory; skips the test when it is absent, except on CI where that is an error. */
    private static Path models() {
        Path shared = Path.of(System.getProperty("continuum.shared.dir", "../shared"));
        Path models = shared.resolve("models");
        boolean present = Files.isDirectory(models);
        String reason = "shared test data not found at " + models.toAbsolutePath()
                + " (set -Dcontinuum.shared.dir)";
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(present, reason);
        }
        Assumptions.assumeTrue(present, reason);
        return models;
    }

    @Test
    void stories260K() {
        try (Arena arena = Arena.ofConfined()) {
            GgufFile gguf = GgufFile.open(models().resolve("stories260K.gguf"), arena);
            GgufMetadata m = gguf.metadata();
            assertEquals("llama", m.getString("general.architecture"));
            assertEquals(64, m.getInt("llama.embedding_length"));
            assertEquals(5, m.getInt("llama.block_count"));
            assertEquals(512, m.getInt("llama.context_length"));
            assertEquals(8, m.getInt("llama.attention.head_count"));
            assertEquals(4, m.getInt("llama.attention.head_count_kv"));
            assertEquals(512, m.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(512, m.getFloatArray("tokenizer.ggml.scores").length);
            assertEquals(0xFFFF_FFFFL, m.get("tokenizer.ggml.padding_token_id"), "uint32 -1 stays unsigned");

            GgufTensorInfo embd = gguf.tensor("token_embd.weight");
            assertArrayEquals(new long[]{64, 512}, embd.dims());
            assertEquals(GgmlType.F32, embd.type());
            assertEquals(64 * 512 * 4, embd.byteSize());
            assertEquals(GgmlType.F32, gguf.tensor("output.weight").type());
            assertEquals(3 + 5 * 9, gguf.tensors().size());
            assertTrue(gguf.tensors().values().stream().allMatch(t -> t.offset() % gguf.alignment() == 0));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"F16", "Q8_0", "Q4_0"})
    void dummy15M(String variant) {
        try (Arena arena = Arena.ofConfined()) {
            GgufFile gguf = GgufFile.open(models().resolve("dummy/dummy-15M-" + variant + ".gguf"), arena);
            GgufMetadata m = gguf.metadata();
            assertEquals(288, m.getInt("llama.embedding_length"));
            assertEquals(6, m.getInt("llama.block_count"));
            assertEquals(2048, m.getInt("llama.context_length"));
            assertEquals(32000, m.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(56, gguf.tensors().size());

            // The output matrix is tied to the token embedding: there is no output.weight.
            assertFalse(gguf.tensors().containsKey("output.weight"));
            GgufTensorInfo embd = gguf.tensor("token_embd.weight");
            assertArrayEquals(new long[]{288, 32000}, embd.dims());
            GgmlType layers = GgmlType.valueOf(variant);
            // llama-quantize's Q4_0 mix keeps the output matrix (here the embedding) at Q8_0.
            assertEquals(variant.equals("Q4_0") ? GgmlType.Q8_0 : layers, embd.type());
            GgufTensorInfo wq = gguf.tensor("blk.0.attn_q.weight");
            assertEquals(layers, wq.type());
            assertArrayEquals(new long[]{288, 288}, wq.dims());
            assertEquals(GgmlType.F32, gguf.tensor("output_norm.weight").type(), "norms stay F32");
        }
    }

    @Test
    void everyVocabularyFileOpens() throws IOException {
        List<Path> files;
        try (Stream<Path> listing = Files.list(models().resolve("vocab"))) {
            files = listing.filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
        }
        assertFalse(files.isEmpty());
        for (Path file : files) {
            try (Arena arena = Arena.ofConfined()) {
                GgufMetadata m = GgufFile.open(file, arena).metadata();
                String model = m.getString("tokenizer.ggml.model");
                assertTrue(List.of("llama", "gpt2", "bert").contains(model), file + ": " + model);
                String[] tokens = m.getStringArray("tokenizer.ggml.tokens");
                assertTrue(tokens.length > 1000, file + " has " + tokens.length + " tokens");
                int[] types = m.getIntArray("tokenizer.ggml.token_type");
                assertEquals(tokens.length, types.length, file.toString());
            }
        }
    }
}
