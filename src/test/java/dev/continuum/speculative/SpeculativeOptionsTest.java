package dev.continuum.speculative;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The options' validation names each bad option in both its spellings, the flag of generate, bench and serve and
 * the server's property, so whoever set it reads the name they used.
 */
class SpeculativeOptionsTest {
    private static void refused(String message, Executable build) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, build).getMessage());
    }

    @Test
    void eachBadOptionIsNamedAsFlagAndProperty() {
        refused("--speculative-model (continuum.speculative-model) and --speculative-ngram"
                + " (continuum.speculative-ngram) exclude each other: choose one proposer",
                () -> new SpeculativeOptions("draft.gguf", 3, 5, 8));
        refused("--speculative-ngram (continuum.speculative-ngram) must be in [1, 64] (0: off), got 65",
                () -> new SpeculativeOptions(null, 65, 5, 8));
        refused("--num-speculative-tokens (continuum.num-speculative-tokens) must be in [1, 32], got 0",
                () -> new SpeculativeOptions(null, 3, 0, 8));
        refused("--speculative-disable-above (continuum.speculative-disable-above) must be >= 0, or -1 (the default:"
                + " decided by measured step costs), got -2", () -> new SpeculativeOptions(null, 3, 5, -2));
        // The proposers' own guards say the same.
        refused("--speculative-ngram (continuum.speculative-ngram) must be in [1, 64], got 0",
                () -> new NgramProposer(0, 5));
        refused("--num-speculative-tokens (continuum.num-speculative-tokens) must be in [1, 32], got 33",
                () -> new DraftModelProposer(null, 33, null));
    }

    @Test
    void aBlankModelIsNoModel() {
        SpeculativeOptions blank = new SpeculativeOptions(" ", 0, 5, 8);
        assertNull(blank.model());
        assertFalse(blank.enabled());
        assertTrue(new SpeculativeOptions(null, 2, 5, 8).enabled());
    }
}
