package dev.continuum.model;

import dev.continuum.runner.StepBatch;
import dev.continuum.runner.WarmupReport;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.KernelWarmup;

/**
 * Brings the CPU runner to full speed before it serves or is measured: first the matmul kernels on small synthetic
 * matrices ({@link KernelWarmup}, seconds instead of minutes of interpreted vector code on the real weights), then
 * the model itself, a short prompt (the multi-token paths) and a few decode steps (attention, norms), on a KV store
 * of its own, so the JIT has compiled everything a request touches.
 */
final class CpuWarmup {
    private static final int PROMPT_TOKENS = 16;
    private static final long KERNEL_BUDGET_NANOS = 20_000_000_000L;
    private static final int BLOCK_SIZE = 16;

    private CpuWarmup() {
    }

    static WarmupReport run(LlamaConfig config, LlamaWeights weights, Transformer model, ComputePool pool,
                            int decodeSteps) {
        long start = System.nanoTime();
        long calls = KernelWarmup.run(weights.matrixTypes(), pool, KERNEL_BUDGET_NANOS);
        long kernels = System.nanoTime();
        int context = config.contextLength();
        int promptLength = Math.min(PROMPT_TOKENS, context - 1);
        int steps = Math.max(0, Math.min(decodeSteps, context - promptLength - 1));
        if (decodeSteps > 0 && promptLength > 0) {
            decode(config, model, promptLength, steps);
        }
        long end = System.nanoTime();
        return new WarmupReport((end - start) / 1e9, String.format("kernels %.2f s (%d calls), model %.2f s (%d decode"
                + " steps)", (kernels - start) / 1e9, calls, (end - kernels) / 1e9, steps));
    }

    /** A prompt of fixed pseudo-random ids in one pass, then greedy decode steps. */
    private static void decode(LlamaConfig config, Transformer model, int promptLength, int steps) {
        int vocab = config.vocabSize();
        int total = promptLength + steps;
        int blocks = (total + BLOCK_SIZE - 1) / BLOCK_SIZE;
        Float16KvStore kv = new Float16KvStore(config.layers(), config.kvHeads(), config.headDim(), blocks, BLOCK_SIZE);
        int[][] table = new int[1][blocks];
        for (int b = 0; b < blocks; b++) {
            table[0][b] = b;
        }
        StepBatch batch = new StepBatch(promptLength, 1, table, BLOCK_SIZE);
        float[] logits = new float[vocab];
        for (int i = 0; i < promptLength; i++) {
            batch.addRow(i == 0 ? Math.min(1, vocab - 1) : (i * 7919) % vocab, i, 0);
        }
        batch.requestLogits(promptLength - 1);
        model.forward(batch, kv, logits);
        for (int p = promptLength; p < total; p++) {
            batch.clear();
            batch.addRow(argmax(logits), p, 0);
            batch.requestLogits(0);
            model.forward(batch, kv, logits);
        }
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
