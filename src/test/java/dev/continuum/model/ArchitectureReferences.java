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
 * What the architecture tests share besides {@link ReferenceComparison}: their reference JSON, one prompt's logits,
 * a greedy argmax, a byte search to corrupt a file.
 */
final class ArchitectureReferences {
    /** Prompt chunks of 20 rows: more than one step, the last one partial, chunk edges off the block edges. */
    static final int CHUNK = 20;

    private ArchitectureReferences() {
    }

    /** The last position's logits of {@code prompt} run in one step. */
    static float[] promptLogits(CpuModelRunner runner, int[] prompt) {
        int block = ReferenceComparison.BLOCK;
        int blocks = (prompt.length + block - 1) / block;
        runner.allocateKvCache(blocks, block);
        int[][] table = new int[1][blocks];
        for (int b = 0; b < blocks; b++) {
            table[0][b] = b;
        }
        StepBatch batch = new StepBatch(prompt.length, 1, table, block);
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
