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
}
