package dev.continuum.model;

import dev.continuum.runner.StepBatch;

/**
 * One architecture's forward pass on the CPU over a flattened batch of tokens: any mix of prefill chunks and
 * single decode tokens from different sequences, each token at its own position, attending to its own sequence's
 * keys and values in the paged cache. Implementations share the kernels, norms, rope and attention; each keeps
 * its own scratch and is run by one caller (the engine thread).
 */
interface Transformer {
    /**
     * Runs the batch's rows: row {@code i}'s token at its position, its keys and values written into {@code kv}
     * at the block its sequence's table names (which the engine must have reserved). For each of the batch's
     * logits rows {@code j}, writes the logits of batch row {@code batch.logitRow(j)} to {@code logits[j * vocab ..]}.
     */
    void forward(StepBatch batch, Float16KvStore kv, float[] logits);
}
