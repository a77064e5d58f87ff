package dev.continuum.engine;

import dev.continuum.kvcache.PagedKvCache;
import dev.continuum.loader.LoadedModel;
import dev.continuum.model.LlamaModel;
import dev.continuum.sampling.Sampler;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tensor.ComputePool;

import java.util.function.IntConsumer;

/**
 * Generates one sequence at a time: prefill the whole prompt in one forward pass, then decode token by token.
 * The command-line {@code generate} uses it; the server's scheduler batches many sequences instead.
 */
public final class SingleStreamGenerator {
    private final LoadedModel model;
    private final LlamaModel llama;

    public SingleStreamGenerator(LoadedModel model, ComputePool pool) {
        this.model = model;
        this.llama = new LlamaModel(model.config(), model.weights(), pool);
    }

    public LlamaModel llama() {
        return llama;
    }

    /**
     * Runs the prompt then samples up to {@code maxTokens} tokens, passing each to {@code onToken} as it is
     * produced. Stops at the end-of-generation token (which is not passed on) unless {@code ignoreEos}.
     */
    public GenerationStats generate(int[] prompt, int maxTokens, SamplingParams params, boolean ignoreEos,
                                    IntConsumer onToken) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        int contextLength = model.config().contextLength();
        if (prompt.length >= contextLength) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens, the context holds "
                    + contextLength);
        }
        int total = Math.min(contextLength, prompt.length + Math.max(0, maxTokens));
        int vocab = model.config().vocabSize();
        var c = model.config();
        PagedKvCache kv = PagedKvCache.reserved(c.layers(), c.kvHeads(), c.headDim(), 1, total);
        Sampler sampler = new Sampler(params, vocab);
        for (int t : prompt) {
            sampler.accept(t);
        }
        float[] logits = new float[vocab];
        int[] positions = new int[prompt.length];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = i;
        }
        int[] seqs = new int[prompt.length];
        int[] lastRow = {prompt.length - 1};

        long start = System.nanoTime();
        llama.forward(prompt.length, prompt, positions, seqs, kv, 1, lastRow, logits);
        long prefillEnd = System.nanoTime();

        int[] token = new int[1];
        int[] pos = new int[1];
        int[] row = {0};
        int generated = 0;
        String stop = "length";
        int eos = model.tokenizer().eosId();
        for (int p = prompt.length; generated < maxTokens; p++) {
            int next = sampler.sample(logits, 0);
            if (next == eos && !ignoreEos) {
                stop = "stop";
                break;
            }
            generated++;
            onToken.accept(next);
            sampler.accept(next);
            if (generated == maxTokens || p >= total) {
                break;
            }
            token[0] = next;
            pos[0] = p;
            llama.forward(1, token, pos, seqs, kv, 1, row, logits);
        }
        long end = System.nanoTime();
        return new GenerationStats(prompt.length, generated, prefillEnd - start, end - prefillEnd, stop);
    }
}
