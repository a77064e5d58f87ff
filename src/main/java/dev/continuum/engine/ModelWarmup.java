package dev.continuum.engine;

import dev.continuum.loader.LoadedModel;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.KernelWarmup;

/**
 * Brings a freshly loaded model to full speed before it serves or is measured: first the matmul kernels on small
 * synthetic matrices ({@link KernelWarmup}, seconds instead of minutes of interpreted vector code on the real
 * weights), then the model itself, a short prompt (the multi-token paths) and a few decode steps (attention,
 * norms, sampling), so the JIT has compiled everything a request touches.
 */
public final class ModelWarmup {
    /** What the warm-up did, for logs. */
    public record Report(long kernelCalls, double kernelSeconds, int decodeTokens, double modelSeconds) {
    }

    private static final int PROMPT_TOKENS = 16;
    private static final long KERNEL_BUDGET_NANOS = 20_000_000_000L;

    private ModelWarmup() {
    }

    /** Runs the warm-up with {@code decodeTokens} decode steps (0 skips the model part). */
    public static Report run(LoadedModel model, ComputePool pool, int decodeTokens) {
        long start = System.nanoTime();
        long calls = KernelWarmup.run(model.weights().matrixTypes(), pool, KERNEL_BUDGET_NANOS);
        long kernels = System.nanoTime();
        int context = model.config().contextLength();
        int promptLength = Math.min(PROMPT_TOKENS, context - 1);
        int tokens = Math.max(0, Math.min(decodeTokens, context - promptLength - 1));
        if (decodeTokens > 0 && promptLength > 0) {
            int[] prompt = new int[promptLength];
            int vocab = model.config().vocabSize();
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = i == 0 ? Math.max(0, model.tokenizer().bosId()) : (i * 7919) % vocab;
            }
            new SingleStreamGenerator(model, pool).generate(prompt, tokens, SamplingParams.GREEDY, true, t -> { });
        }
        long end = System.nanoTime();
        return new Report(calls, (kernels - start) / 1e9, tokens, (end - kernels) / 1e9);
    }
}
