package dev.continuum.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.runner.StepBatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Runs a prompt and greedy decoding on a runner against one of llama.cpp's reference JSONs ({@code ids}: the last
 * prompt position's logits, greedy tokens and their margins): the prompt in chunks, several steps with the last one
 * partial, then each greedy token fed back as a one-token step, as llama.cpp's program does.
 */
final class ReferenceComparison {
    /** Positions per KV block. */
    static final int BLOCK = 16;

    /**
     * @param maxDifference the largest prompt-logit difference from the reference
     * @param pinned        greedy tokens equal to the reference's before its first near-tie (all, when none)
     * @param nearTieAt     the reference's first near-tie (margin under the limit), or -1
     */
    record Result(double maxDifference, int pinned, int nearTieAt) {
    }

    private ReferenceComparison() {
    }

    /**
     * Compares, stopping the greedy tokens at the reference's first step whose margin is under {@code tieMargin}
     * (there the float rounding of either engine may pick the other token); every token before it must be equal.
     */
    static Result run(CpuModelRunner runner, int[] prompt, JsonNode ref, int vocab, int chunk, double tieMargin) {
        JsonNode greedy = ref.get("greedy");
        int generate = greedy.size();
        int blocks = (prompt.length + generate + BLOCK - 1) / BLOCK;
        runner.allocateKvCache(blocks, BLOCK);
        int[][] table = new int[1][blocks];
        for (int b = 0; b < blocks; b++) {
            table[0][b] = b;
        }
        StepBatch batch = new StepBatch(chunk, 1, table, BLOCK);
        float[] logits = null;
        for (int s = 0; s < prompt.length; s += chunk) {
            batch.clear();
            int end = Math.min(prompt.length, s + chunk);
            for (int p = s; p < end; p++) {
                batch.addRow(prompt[p], p, 0);
            }
            if (end == prompt.length) {
                batch.requestLogits(end - s - 1);
            }
            logits = runner.forward(batch).logits();
        }
        assertNotNull(logits);
        JsonNode expected = ref.get("logits");
        double max = 0;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, Math.abs(expected.get(i).asDouble() - logits[i]));
        }
        JsonNode margins = ref.get("margins");
        int pinned = 0;
        int nearTie = -1;
        for (int g = 0; g < generate; g++) {
            if (margins.get(g).asDouble() < tieMargin) {
                nearTie = g;
                break;
            }
            int token = ArchitectureReferences.argmax(logits, vocab);
            assertEquals(greedy.get(g).asInt(), token, "greedy token " + g);
            pinned++;
            batch.clear();
            batch.addRow(token, prompt.length + g, 0);
            batch.requestLogits(0);
            logits = runner.forward(batch).logits();
        }
        return new Result(max, pinned, nearTie);
    }
}
