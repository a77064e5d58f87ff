package dev.continuum.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** {@code serve}'s speculative-decoding flags become the {@code continuum.*} properties the server's config reads. */
class ServeSpeculativeOptionsTest {
    private static final String[] KEYS = {"continuum.speculative-model", "continuum.speculative-ngram",
            "continuum.num-speculative-tokens", "continuum.speculative-disable-above"};

    @Test
    void theFlagsBecomeTheConfigProperties() {
        Map<String, String> before = new HashMap<>();
        for (String key : KEYS) {
            before.put(key, System.clearProperty(key));
        }
        try {
            ServeCommand serve = new ServeCommand();
            new CommandLine(serve).parseArgs("--speculative-ngram", "3", "--num-speculative-tokens", "7",
                    "--speculative-disable-above", "4");
            serve.applyAsSystemProperties();
            assertEquals("3", System.getProperty("continuum.speculative-ngram"));
            assertEquals("7", System.getProperty("continuum.num-speculative-tokens"));
            assertEquals("4", System.getProperty("continuum.speculative-disable-above"));
            assertNull(System.getProperty("continuum.speculative-model"), "an absent flag leaves the config's default");

            ServeCommand draft = new ServeCommand();
            new CommandLine(draft).parseArgs("--speculative-model", "draft.gguf");
            draft.applyAsSystemProperties();
            assertEquals("draft.gguf", System.getProperty("continuum.speculative-model"));
        } finally {
            for (String key : KEYS) {
                if (before.get(key) == null) {
                    System.clearProperty(key);
                } else {
                    System.setProperty(key, before.get(key));
                }
            }
        }
    }
}
