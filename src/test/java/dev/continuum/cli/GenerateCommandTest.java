package dev.continuum.cli;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code generate} prints only the text on stdout and exactly one {@code stats:} line on stderr. */
@IntegrationTest
class GenerateCommandTest {
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
    void greedyStoryOnStdoutStatsOnStderr() {
        Run r = run("generate", "--model", SharedTestData.require("models/stories260K.gguf").toString(),
                "--prompt", "Once upon a time", "--max-tokens", "20");
        assertEquals(0, r.exitCode(), r.err());
        // The first 20 tokens of the llama.cpp reference completion.
        assertEquals(dev.continuum.model.ReferenceCompletionsAccess.stories260k().get(0).textOfFirst(20) + "\n",
                r.out());
        long statsLines = r.err().lines().filter(l -> l.startsWith("stats: ")).count();
        assertEquals(1, statsLines, r.err());
        String last = r.err().strip().lines().reduce((a, b) -> b).orElseThrow();
        assertTrue(last.matches("stats: prompt_tokens=5 generated_tokens=20 prefill_tok_s=[0-9.]+ decode_tok_s=[0-9.]+"),
                last);
    }

    @Test
    void badArgumentsFailWithAMessage() {
        Run r = run("generate", "--model", "dummy:tiny", "--prompt", "x", "--top-p", "0");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("top_p"), r.err());
        Run missing = run("generate", "--model", "/nope.gguf", "--prompt", "x");
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("no such model file"), missing.err());
    }

    @Test
    void quantizeAtLoadGeneratesAndRefusesClearly() {
        String model = SharedTestData.require("models/stories260K.gguf").toString();
        Run int8 = run("generate", "--model", model, "--quantize", "int8", "--prompt", "Once upon a time",
                "--max-tokens", "20", "--no-warmup");
        assertEquals(0, int8.exitCode(), int8.err());
        // int8 keeps stories260K's first 20 greedy tokens (LoadQuantizedLogitsTest measures the logits).
        assertEquals(dev.continuum.model.ReferenceCompletionsAccess.stories260k().get(0).textOfFirst(20) + "\n",
                int8.out());
        assertTrue(int8.err().contains("weights quantized at load to int8 ("), int8.err());
        Run nf4 = run("generate", "--model", model, "--quantize", "nf4", "--prompt", "Once upon a time",
                "--max-tokens", "8", "--no-warmup");
        assertEquals(0, nf4.exitCode(), nf4.err());
        assertTrue(nf4.err().contains("weights quantized at load to nf4 ("), nf4.err());
        Run bad = run("generate", "--model", model, "--quantize", "int4:48", "--prompt", "x");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("error: --quantize int4:48: the int4 group size must be 32..256 and a multiple"
                + " of 32, got '48'"), bad.err());
        Run quantized = run("generate", "--model", "dummy:tiny:q8_0", "--quantize", "nf4", "--prompt", "x");
        assertEquals(1, quantized.exitCode());
        assertTrue(quantized.err().contains("--quantize needs float weights; dummy:tiny:q8_0 holds Q8_0"),
                quantized.err());
        Run bench = run("bench", "--model", "dummy:tiny", "--quantize", "q4", "--gen-tokens", "1");
        assertEquals(2, bench.exitCode());
        assertTrue(bench.err().contains("error: --quantize q4: unknown format 'q4'"), bench.err());
    }

    /**
     * --max-tokens 0 is allowed and means no tokens, finish reason length, on both paths: the plain generator and
     * the engine (speculating), which would refuse a request for 0 tokens. bench has nothing to time at 0 tokens.
     */
    @Test
    void zeroMaxTokensGeneratesNothingOnEitherPath() {
        for (String[] extra : new String[][]{{}, {"--speculative-ngram", "2"}}) {
            String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("generate", "--model",
                    "dummy:tiny", "--prompt", "Once", "--max-tokens", "0", "--no-warmup"),
                    java.util.Arrays.stream(extra)).toArray(String[]::new);
            Run r = run(args);
            assertEquals(0, r.exitCode(), r.err());
            assertEquals("\n", r.out());
            assertTrue(r.err().contains("stats: prompt_tokens=") && r.err().contains(" generated_tokens=0 "), r.err());
        }
        Run bench = run("bench", "--model", "dummy:tiny", "--gen-tokens", "0");
        assertEquals(2, bench.exitCode());
        assertTrue(bench.err().contains("error: --gen-tokens must be >= 1, got 0"), bench.err());
    }
}
