package dev.continuum.loader;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.tensor.ComputePool;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Each hyper-parameter of {@code stories260K.gguf} overwritten with a value the tensor table contradicts or no
 * sane model has: the loader refuses the file with a ModelFormatException naming the key, the value and what it
 * must be, before sizing anything from it. Among them the two values the fuzzer found taking the server down:
 * a block count that sized a billion-entry layer array, and a context length whose attention scratch overflowed.
 */
@IntegrationTest
class GgufHyperParameterTest {
    private static byte[] original;
    private static GgufFieldMap map;

    @BeforeAll
    static void read() throws IOException {
        original = Files.readAllBytes(SharedTestData.require("models/stories260K.gguf"));
        map = GgufFieldMap.of(original);
    }

    private static byte[] with(String key, long value) {
        GgufFieldMap.Field f = map.fields().stream().filter(x -> key.equals(x.key())).findFirst().orElseThrow();
        byte[] b = original.clone();
        for (int k = 0; k < f.width(); k++) {
            b[(int) f.offset() + k] = (byte) (value >>> (8 * k));
        }
        return b;
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "llama.block_count            | 1703570710 | must equal the number of layers in the tensor table (5: blk.0 to blk.4)",
            "llama.block_count            | 4          | must equal the number of layers in the tensor table (5",
            "llama.block_count            | 0          | must be positive",
            "llama.context_length         | 2047620241 | must be at most 16777216",
            "llama.context_length         | 2147483647 | must be at most 16777216",
            "llama.context_length         | 0          | must be positive",
            "llama.embedding_length       | 128        | must equal the width of tensor 'token_embd.weight' (64)",
            "llama.feed_forward_length    | 173        | must equal the rows of tensor 'blk.0.ffn_gate.weight' (172)",
            "llama.attention.head_count   | 7          | must divide embedding_length 64",
            "llama.attention.head_count_kv| 3          | must divide attention.head_count 8",
            "llama.attention.head_count_kv| 8          | must be the rows of tensor 'blk.0.attn_k.weight' (32) divided by the head dimension 8",
            "llama.rope.dimension_count   | 7          | must be even and at most the head dimension 8",
            "llama.rope.dimension_count   | 16         | must be even and at most the head dimension 8",
    })
    void hostileValueIsRefusedNamingKeyValueAndBound(String key, long value, String must) {
        assertEquals(value, (int) value, "the test writes 32-bit fields");
        String refusal;
        try (ComputePool pool = new ComputePool(1)) {
            refusal = GgufFuzzMain.loadAndRun(with(key, value), "hostile.gguf", pool);
        }
        assertNotNull(refusal, "loaded with " + key + " = " + value);
        assertTrue(refusal.startsWith("hostile.gguf: metadata '" + key + "' = " + value + " is invalid: it "), refusal);
        assertTrue(refusal.contains(must), () -> "expected '" + must + "' in: " + refusal);
    }

    @Test
    void theLargestContextLengthAllowedLoadsAndRuns() {
        try (ComputePool pool = new ComputePool(1)) {
            assertNull(GgufFuzzMain.loadAndRun(with("llama.context_length", 1 << 24), "long.gguf", pool));
        }
    }

    @Test
    void theOriginalLoadsAndRuns() {
        try (ComputePool pool = new ComputePool(1)) {
            assertNull(GgufFuzzMain.loadAndRun(original, "stories260K.gguf", pool));
        }
    }
}
