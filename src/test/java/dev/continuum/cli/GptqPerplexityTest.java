package dev.continuum.cli;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPTQ against round-to-nearest at the same type, end to end on the one trained model: stories260K quantized to
 * Q4_K_M (its 64-wide rows take the mix's 32-block fallbacks, which GPTQ writes; the 172-wide ffn_down stays F16)
 * with and without {@code --gptq}, calibrated on {@code perplexity/calibration.txt} (our own stories, none of them
 * in the scored text), then scored on {@code perplexity/story.txt} against the F32 model. Measured (deterministic):
 * round-to-nearest PPL 5.4200, mean KLD 0.018503, top-1 92.46 %; GPTQ PPL 5.3576, KLD 0.012913, top-1 93.67 %
 * (F32: 5.2885).
 */
@IntegrationTest
class GptqPerplexityTest {
    private static final Pattern PPL = Pattern.compile("Mean PPL\\(Q\\) +: +([0-9.]+)");
    private static final Pattern KLD = Pattern.compile("Mean +KLD +: +([0-9.]+)");

    @TempDir
    Path tmp;

    @Test
    void gptqScoresBetterThanRoundToNearestOnHeldOutText() {
        String base = SharedTestData.require("models/stories260K.gguf").toString();
        double[] rtn = score(quantize(base, "rtn", false), base);
        double[] gptq = score(quantize(base, "gptq", true), base);
        assertEquals(5.4200, rtn[0], 1e-4);
        assertEquals(0.018503, rtn[1], 1e-6);
        // Measured 5.3576 and 0.012913; asserted with a margin, so a change that keeps GPTQ's gain passes.
        assertTrue(gptq[0] < rtn[0] - 0.04, "GPTQ PPL " + gptq[0] + " vs round-to-nearest " + rtn[0]);
        assertTrue(gptq[1] < 0.8 * rtn[1], "GPTQ KLD " + gptq[1] + " vs round-to-nearest " + rtn[1]);
    }

    private String quantize(String base, String name, boolean gptq) {
        Path out = tmp.resolve("s260-" + name + ".gguf");
        GenerateCommandTest.Run r = gptq
                ? GenerateCommandTest.run("quantize", "--model", base, "--type", "Q4_K_M", "--out", out.toString(),
                        "--gptq", "--calibration", resource("calibration.txt").toString())
                : GenerateCommandTest.run("quantize", "--model", base, "--type", "Q4_K_M", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        if (gptq) {
            assertTrue(r.err().contains("GPTQ: 31 matrices by GPTQ"), r.err());
        }
        return out.toString();
    }

    private static double[] score(String model, String base) {
        GenerateCommandTest.Run r = GenerateCommandTest.run("perplexity", "--model", model, "--kl-base", base,
                "--file", resource("story.txt").toString(), "--ctx", "128", "--batch", "128", "--threads", "2");
        assertEquals(0, r.exitCode(), r.err());
        return new double[] {value(PPL, r.out()), value(KLD, r.out())};
    }

    private static double value(Pattern p, String text) {
        Matcher m = p.matcher(text);
        assertTrue(m.find(), p + " in " + text);
        return Double.parseDouble(m.group(1));
    }

    private static Path resource(String name) {
        try {
            return Path.of(GptqPerplexityTest.class.getResource("/perplexity/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
