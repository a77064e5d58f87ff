package dev.continuum.engine;

import dev.continuum.kvcache.BlockManager;
import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.sampling.Sampler;
import dev.continuum.sampling.SamplingParams;

import java.util.function.IntConsumer;

/**
 * Generates one sequence at a time: prefill the whole prompt in one forward pass, then decode token by token.
 * The command-line {@code generate} uses it; the server's scheduler batches many sequences instead.
 */
public final class SingleStreamGenerator {
    /** Positions per KV block: one sequence needs no finer grain. */
    private static final int BLOCK_SIZE = EngineConfig.DEFAULT_BLOCK_SIZE;

    private final ModelRunner runner;
    private final int eosId;

    /** @param eosId the end-of-generation token, which stops generation unless ignored */
    public SingleStreamGenerator(ModelRunner runner, int eosId) {
        this.runner = runner;
        this.eosId = eosId;
    }

    /**
     * Runs the prompt then samples up to {@code maxTokens} tokens, passing each to {@code onToken} as it is
     * produced. Stops at the end-of-generation token (which is not passed on) unless {@code ignoreEos}. Allocates
     * the runner's KV storage for this one sequence.
     */
    public GenerationStats generate(int[] prompt, int maxTokens, SamplingParams params, boolean ignoreEos,
                                    IntConsumer onToken) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        int contextLength = runner.shape().contextLength();
        if (prompt.length >= contextLength) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens, the context holds "
                    + contextLength);
        }
        int total = Math.min(contextLength, prompt.length + Math.max(0, maxTokens));
        int vocab = runner.shape().vocabSize();
        BlockManager blocks = new BlockManager((total + BLOCK_SIZE - 1) / BLOCK_SIZE, BLOCK_SIZE, 1, total);
        blocks.reserve(0, total);
        runner.allocateKvCache(blocks.totalBlocks(), BLOCK_SIZE);
        Sampler sampler = new Sampler(params, vocab);
        for (int t : prompt) {
            sampler.accept(t);
        }
        StepBatch batch = new StepBatch(prompt.length, 1, blocks.tables(), BLOCK_SIZE);
        batch.markTableChanged(0);
        for (int i = 0; i < prompt.length; i++) {
            batch.addRow(prompt[i], i, 0);
        }
        batch.requestLogits(prompt.length - 1);

        long start = System.nanoTime();
        StepOutput out = runner.forward(batch);
        long prefillEnd = System.nanoTime();

        int generated = 0;
        String stop = "length";
        for (int p = prompt.length; generated < maxTokens; p++) {
            int next = sampler.sample(out.logits(), 0);
            if (next == eosId && !ignoreEos) {
                stop = "stop";
                break;
            }
            generated++;
            onToken.accept(next);
            sampler.accept(next);
            if (generated == maxTokens || p >= total) {
                break;
            }
            batch.clear();
            batch.addRow(next, p, 0);
            batch.requestLogits(0);
            out = runner.forward(batch);
        }
        long end = System.nanoTime();
        return new GenerationStats(prompt.length, generated, prefillEnd - start, end - prefillEnd, stop);
    }
}
