package dev.continuum.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.runner.StepBatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs a prompt and greedy decoding on a runner against one of llama.cpp's reference JSONs ({@code ids}: the last
 * prompt position's logits, greedy tokens and their margins): the prompt in chunks, several steps with the last one
 * partial, then each of the reference's greedy tokens fed back as a one-token step, as llama.cpp's program does.
 * Feeding the reference's tokens (not this engine's) keeps both on the same sequence past a near-tie, so every
 * one of the steps is compared.
 */
final class ReferenceComparison {
    /** Positions per KV block. */
    static final int BLOCK = 16;

    /**
     * @param maxDifference the largest prompt-logit difference from the reference
     * @param matched       greedy steps whose argmax equals the reference's token
     * @param nearTies      steps where the reference's margin is under the near-tie limit
     * @param smallestMargin the reference's smallest margin at a step that had to match
     */
    record Result(double maxDifference, int matched, int nearTies, double smallestMargin) {
    }

    private ReferenceComparison() {
    }

    /**
     * Compares; at every greedy step whose reference margin is at least {@code tieMargin} the argmax must be the
     * reference's token (under it the float rounding of either engine may pick the other token, but the reference's
     * token must be within {@code tieMargin} of the largest logit).
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
        int matched = 0;
        int nearTies = 0;
        double smallest = Double.POSITIVE_INFINITY;
        for (int g = 0; g < generate; g++) {
            int reference = greedy.get(g).asInt();
            int token = ArchitectureReferences.argmax(logits, vocab);
            double margin = margins.get(g).asDouble();
            if (margin < tieMargin) {
                nearTies++;
                assertTrue(logits[token] - logits[reference] <= tieMargin, "greedy token " + g + ": the reference's "
                        + reference + " is " + (logits[token] - logits[reference]) + " below the argmax " + token);
            } else {
                assertEquals(reference, token, "greedy token " + g + " (reference margin " + margin + ")");
                smallest = Math.min(smallest, margin);
            }
            if (token == reference) {
                matched++;
            }
            batch.clear();
            batch.addRow(reference, prompt.length + g, 0);
            batch.requestLogits(0);
            logits = runner.forward(batch).logits();
        }
        return new Result(max, matched, nearTies, smallest);
    }
}
