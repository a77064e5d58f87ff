package dev.continuum.cli;

import dev.continuum.loader.GgufFile;
import dev.continuum.loader.GgufTensorInfo;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code quantize} on the command line: it writes a loadable file, and bad input gets a clear error and code. */
class QuantizeCommandTest {
    @TempDir
    Path tmp;

    record Run(int exitCode, String out, String err) {
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = new CommandLine(new RootCommand()).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void quantizesADummyModelToAGgufFile() throws Exception {
        Path out = tmp.resolve("tiny-q8.gguf");
        Run r = run("quantize", "--model", "dummy:tiny:f16", "--type", "q8_0", "--out", out.toString(), "--threads", "1");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("wrote " + out + ": Q8_0, 21 tensors"), r.err());
        assertFalse(r.err().contains("quantizing: tensor"), "no progress line when stderr is not a terminal");
        try (Arena arena = Arena.ofConfined()) {
            GgufFile f = GgufFile.open(out, arena);
            assertEquals(2L, f.metadata().get("general.quantization_version"));
            assertEquals(7L, f.metadata().get("general.file_type"));
            // dim 64: token_embd doubles as nothing (the dummy has its own output), both are Q8_0; norms stay F32.
            assertEquals(GgmlType.Q8_0, f.tensor("output.weight").type());
            assertEquals(GgmlType.Q8_0, f.tensor("blk.1.ffn_down.weight").type());
            assertEquals(GgmlType.F32, f.tensor("blk.0.attn_norm.weight").type());
            assertEquals("output.weight", f.tensors().values().stream().map(GgufTensorInfo::name).findFirst().orElseThrow());
        }
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.count(), "the temporary export is deleted");
        }
    }

    @Test
    void anUnknownTypeIsAUsageError() {
        Run r = run("quantize", "--model", "dummy:tiny:f16", "--type", "Q7_K", "--out", tmp.resolve("x.gguf").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("unknown quantization type 'Q7_K'") && r.err().contains("Q4_K_M"), r.err());
    }

    @Test
    void aMissingModelFileSaysSo() {
        Run r = run("quantize", "--model", tmp.resolve("nope.gguf").toString(), "--type", "Q4_0",
                "--out", tmp.resolve("x.gguf").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("nope.gguf: no such model file"), r.err());
    }

    @Test
    void anAlreadyQuantizedModelIsRefused() {
        Run r = run("quantize", "--model", "dummy:tiny:q8_0", "--type", "Q4_0", "--out", tmp.resolve("x.gguf").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("requantizing is not supported"), r.err());
    }

    @Test
    void aMissingOptionIsAPicocliUsageError() {
        Run r = run("quantize", "--model", "dummy:tiny:f16", "--out", tmp.resolve("x.gguf").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("Missing required option: '--type=<type>'"), r.err());
    }

    @Test
    void gptqCalibratesOnATextFile() throws Exception {
        Path text = tmp.resolve("calibration.txt");
        Files.writeString(text, "The quick brown fox jumps over the lazy dog, again and again, until the sun sets.");
        Path out = tmp.resolve("tiny-gptq.gguf");
        Run r = run("quantize", "--model", "dummy:tiny:f16", "--type", "Q4_0", "--out", out.toString(), "--gptq",
                "--calibration", text.toString(), "--calibration-tokens", "64");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("GPTQ: Hessians of 15 matrices from " + text), r.err());
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(GgmlType.Q4_0, GgufFile.open(out, arena).tensor("blk.0.attn_q.weight").type());
        }
    }

    @Test
    void gptqNeedsCalibration() {
        Run alone = run("quantize", "--model", "dummy:tiny:f16", "--type", "Q4_0", "--out", tmp.resolve("x.gguf").toString(), "--gptq");
        assertEquals(2, alone.exitCode());
        assertTrue(alone.err().contains("--gptq and --calibration go together"), alone.err());
    }

    /** The tiny model's 64- and 192-wide rows take the mix's 32-block fallbacks, which GPTQ writes: all 15 matrices. */
    @Test
    void gptqRoundsAMixsFallbackMatrices() throws Exception {
        Path text = tmp.resolve("calibration.txt");
        Files.writeString(text, "The quick brown fox jumps over the lazy dog, again and again, until the sun sets.");
        Path out = tmp.resolve("tiny-q4km-gptq.gguf");
        Run r = run("quantize", "--model", "dummy:tiny:f16", "--type", "Q4_K_M", "--out", out.toString(), "--gptq",
                "--calibration", text.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("GPTQ: 15 matrices by GPTQ, the others rounded to nearest"), r.err());
        try (Arena arena = Arena.ofConfined()) {
            GgufFile f = GgufFile.open(out, arena);
            assertEquals(GgmlType.Q5_0, f.tensor("blk.0.attn_q.weight").type());
        }
    }
}
