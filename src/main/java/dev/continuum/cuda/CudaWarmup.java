package dev.continuum.cuda;

import dev.continuum.model.LlamaConfig;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.runner.WarmupReport;

/**
 * Runs a short prompt and a few decode steps through the CUDA runner before it serves, on a KV store of its own:
 * the driver compiles the PTX for the device at module load (or here on first launch of each kernel), the buffers
 * are allocated, and the first request does not pay for either. Both the GEMM (a prompt longer than the GEMV's eight
 * tokens) and the GEMV paths run.
 */
final class CudaWarmup {
    private static final int PROMPT_TOKENS = 16;
    private static final int BLOCK_SIZE = 16;

    private CudaWarmup() {
    }

    static WarmupReport run(CudaModelRunner runner, LlamaConfig config, int decodeSteps) {
        long start = System.nanoTime();
        int context = config.contextLength();
        int promptLength = Math.min(PROMPT_TOKENS, context - 1);
        int steps = Math.max(0, Math.min(decodeSteps, context - promptLength - 1));
        if (decodeSteps <= 0 || promptLength <= 0) {
            return new WarmupReport(0, "skipped");
        }
        int total = promptLength + steps;
        int blocks = (total + BLOCK_SIZE - 1) / BLOCK_SIZE;
        CudaKvStore own = runner.newKvStore(blocks, BLOCK_SIZE);
        CudaKvStore engines = runner.swapKv(own);
        try {
            int[][] table = new int[1][blocks];
            for (int b = 0; b < blocks; b++) {
                table[0][b] = b;
            }
            StepBatch batch = new StepBatch(promptLength, 1, table, BLOCK_SIZE);
            int vocab = config.vocabSize();
            for (int i = 0; i < promptLength; i++) {
                batch.addRow(i == 0 ? Math.min(1, vocab - 1) : (i * 7919) % vocab, i, 0);
            }
            batch.requestLogits(promptLength - 1);
            StepOutput out = runner.forward(batch);
            for (int p = promptLength; p < total; p++) {
                int next = Logits.argmax(out.logits(), 0, vocab);
                batch.clear();
                batch.addRow(next, p, 0);
                batch.requestLogits(0);
                out = runner.forward(batch);
            }
        } finally {
            runner.swapKv(engines);
            own.close();
            runner.dropStepBuffers();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new WarmupReport(seconds, String.format("model %.2f s (%d-token prompt, %d decode steps)", seconds,
                promptLength, steps));
    }
}
