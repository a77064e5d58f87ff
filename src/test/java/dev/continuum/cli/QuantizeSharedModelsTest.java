package dev.continuum.cli;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.loader.GgufFile;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code quantize} on the shared models: the GGUF path gives llama-quantize's file, the llama2.c path loads. */
@IntegrationTest
class QuantizeSharedModelsTest {
    @TempDir
    Path tmp;

    @Test
    void theCommandWritesLlamaQuantizesFile() throws Exception {
        Path in = SharedTestData.require("models/dummy/dummy-15M-F16.gguf");
        Path out = tmp.resolve("15m-q4_k_m.gguf");
        QuantizeCommandTest.Run r = QuantizeCommandTest.run("quantize", "--model", in.toString(), "--type", "Q4_K_M",
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("(36 tensors used a fallback type)"), r.err());
        String expected;
        try (InputStream s = getClass().getResourceAsStream("/reference/quantize/15m-Q4_K_M.tsv")) {
            expected = new String(s.readAllBytes(), StandardCharsets.UTF_8).lines().findFirst().orElseThrow()
                    .substring("#file\t".length());
        }
        assertEquals(expected, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(out))));
    }

    @Test
    void aLlama2cCheckpointIsExportedThenQuantized() {
        Path bin = SharedTestData.require("models/stories260K.bin");
        Path tok = SharedTestData.require("models/tok512.bin");
        Path out = tmp.resolve("stories-q4_k_m.gguf");
        QuantizeCommandTest.Run r = QuantizeCommandTest.run("quantize", "--model", bin.toString(), "--tokenizer",
                tok.toString(), "--type", "Q4_K_M", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (Arena arena = Arena.ofConfined()) {
            GgufFile f = GgufFile.open(out, arena);
            // Rows of 64 fall back from Q4_K to Q5_0, ffn_down's rows of 172 on to F16, as in llama-quantize.
            assertEquals(GgmlType.Q5_0, f.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.F16, f.tensor("blk.0.ffn_down.weight").type());
            assertEquals(GgmlType.F32, f.tensor("output_norm.weight").type());
        }
        // Q8_0 has no fallback in llama.cpp for rows that are not a multiple of 32: llama-quantize refuses too.
        QuantizeCommandTest.Run q8 = QuantizeCommandTest.run("quantize", "--model", bin.toString(), "--tokenizer",
                tok.toString(), "--type", "Q8_0", "--out", tmp.resolve("q8.gguf").toString());
        assertEquals(1, q8.exitCode());
        assertTrue(q8.err().contains("tensor 'blk.0.ffn_down.weight' has rows of 172 values"), q8.err());
    }
}
