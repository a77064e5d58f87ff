package dev.continuum.model;

import dev.continuum.runner.StepBatch;

/**
 * The checks every forward pass makes on a step's rows before computing anything, and where each row's keys and
 * values go: the same block and offset in every layer, so found once per step.
 */
final class StepRows {
    private StepRows() {
    }

    /**
     * Checks that every row's token is in the vocabulary, its position in the context and its block reserved in
     * {@code kv}, and writes row {@code i}'s block to {@code rowBlocks[i]} and its offset in the block to
     * {@code rowOffsets[i]}. Throws {@link IllegalArgumentException} naming the first bad row's value.
     */
    static void locate(StepBatch batch, Float16KvStore kv, LlamaConfig config, int[] rowBlocks, int[] rowOffsets) {
        int n = batch.rows();
        int[] tokens = batch.tokenArray();
        int[] positions = batch.positionArray();
        int[] slots = batch.slotArray();
        int[][] tables = batch.blockTables();
        int blockSize = kv.blockSize();
        int vocab = config.vocabSize();
        for (int i = 0; i < n; i++) {
            int token = tokens[i];
            if (token < 0 || token >= vocab) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary (0.." + (vocab - 1) + ")");
            }
            if (positions[i] < 0 || positions[i] >= config.contextLength()) {
                throw new IllegalArgumentException("position " + positions[i] + " is outside the context (0.."
                        + (config.contextLength() - 1) + ")");
            }
            int[] table = tables[slots[i]];
            int entry = positions[i] / blockSize;
            if (entry >= table.length || table[entry] < 0 || table[entry] >= kv.blocks()) {
                throw new IllegalArgumentException("slot " + slots[i] + " has no valid block for position "
                        + positions[i]);
            }
            rowBlocks[i] = table[entry];
            rowOffsets[i] = positions[i] % blockSize;
        }
    }
}
