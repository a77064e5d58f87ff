package dev.continuum.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.runner.StepBatch;

import java.io.IOException;
import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the architecture tests share: their reference JSON, the check of a runner against one (prompt logits, then
 * greedy tokens), a greedy argmax, a byte search to corrupt a file.
 */
final class ArchitectureReferences {
    /** Cache blocks of 16 positions, as the server's default. */
    static final int BLOCK = 16;
    /** Prompt chunks of 20 rows: more than one step, the last one partial, chunk edges off the block edges. */
    static final int CHUNK = 20;

    private ArchitectureReferences() {
    }

    /** What {@link #check} measured: the prompt logits' largest difference and the greedy tokens compared. */
    record Agreement(double maxLogitDifference, int tokensPinned) {
    }

    /**
     * Runs {@code prompt} through {@code runner} in chunks of {@link #CHUNK}, then {@code ref}'s greedy tokens one
     * per step, and asserts that the last prompt position's logits lie within {@code tolerance} of {@code ref}'s
     * {@code logits} and that every greedy token equals {@code ref}'s {@code greedy} up to its first near-tie (a
     * {@code margins} entry below twice the tolerance, where float32 may rightly pick the other token).
     */
    static Agreement check(JsonNode ref, CpuModelRunner runner, int[] prompt, int vocab, double tolerance) {
        JsonNode greedy = ref.get("greedy");
        JsonNode margins = ref.get("margins");
        int generate = greedy.size();
        int blocks = (prompt.length + generate + BLOCK - 1) / BLOCK;
        runner.allocateKvCache(blocks, BLOCK);
        StepBatch batch = new StepBatch(CHUNK, 1, identityTable(blocks), BLOCK);
        float[] logits = null;
        for (int s = 0; s < prompt.length; s += CHUNK) {
            batch.clear();
            int end = Math.min(prompt.length, s + CHUNK);
            for (int p = s; p < end; p++) {
                batch.addRow(prompt[p], p, 0);
            }
            if (end == prompt.length) {
                batch.requestLogits(end - s - 1);
            }
            logits = runner.forward(batch).logits();
        }
        assertNotNull(logits);
        double diff = maxDifference(ref.get("logits"), logits, vocab);
        assertTrue(diff <= tolerance, "prompt logits differ by " + diff);
        int pinned = 0;
        for (int g = 0; g < generate; g++) {
            if (margins.get(g).asDouble() < 2 * tolerance) {
                break;
            }
            int token = argmax(logits, vocab);
            assertEquals(greedy.get(g).asInt(), token, "greedy token " + g);
            pinned++;
            batch.clear();
            batch.addRow(token, prompt.length + g, 0);
            batch.requestLogits(0);
            logits = runner.forward(batch).logits();
        }
        return new Agreement(diff, pinned);
    }

    /** The last position's logits of {@code prompt} run in one step. */
    static float[] promptLogits(CpuModelRunner runner, int[] prompt) {
        int blocks = (prompt.length + BLOCK - 1) / BLOCK;
        runner.allocateKvCache(blocks, BLOCK);
        StepBatch batch = new StepBatch(prompt.length, 1, identityTable(blocks), BLOCK);
        for (int p = 0; p < prompt.length; p++) {
            batch.addRow(prompt[p], p, 0);
        }
        batch.requestLogits(prompt.length - 1);
        return runner.forward(batch).logits();
    }

    /** The largest {@code |expected[i] - logits[i]|} over {@code i < n}. */
    static double maxDifference(JsonNode expected, float[] logits, int n) {
        assertEquals(n, expected.size(), "reference logits");
        double max = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(expected.get(i).asDouble() - logits[i]));
        }
        return max;
    }

    /** Asserts that {@code ref}'s {@code prompt_ids} are {@code prompt}. */
    static void samePrompt(JsonNode ref, int[] prompt) {
        assertEquals(prompt.length, ref.get("prompt_ids").size());
        for (int i = 0; i < prompt.length; i++) {
            assertEquals(ref.get("prompt_ids").get(i).asInt(), prompt[i], "prompt id " + i);
        }
    }

    private static int[][] identityTable(int blocks) {
        int[][] table = new int[1][blocks];
        for (int b = 0; b < blocks; b++) {
            table[0][b] = b;
        }
        return table;
    }

    /** {@code src/test/resources/reference/architectures/NAME.json}. */
    static JsonNode json(String name) throws IOException {
        String path = "/reference/architectures/" + name + ".json";
        try (InputStream in = ArchitectureReferences.class.getResourceAsStream(path)) {
            assertNotNull(in, path);
            return new ObjectMapper().readTree(in);
        }
    }

    /** The first of the largest of {@code logits[0..n)}. */
    static int argmax(float[] logits, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Where {@code v} first occurs in {@code b}, or -1. */
    static int indexOf(byte[] b, byte[] v) {
        outer:
        for (int i = 0; i + v.length <= b.length; i++) {
            for (int j = 0; j < v.length; j++) {
                if (b[i + j] != v[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
