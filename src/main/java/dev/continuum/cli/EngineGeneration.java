package dev.continuum.cli;

import dev.continuum.engine.EngineConfig;
import dev.continuum.engine.FinishReason;
import dev.continuum.engine.GenerationRequest;
import dev.continuum.engine.GenerationStats;
import dev.continuum.engine.InferenceEngine;
import dev.continuum.engine.Speculation;
import dev.continuum.engine.TokenEvent;
import dev.continuum.engine.TokenSink;
import dev.continuum.runner.ModelRunner;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tokenizer.Tokenizer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * {@code generate} through the engine, for what only the engine does (speculative decoding): one request, its text
 * handed on as it streams, timed like {@link dev.continuum.engine.SingleStreamGenerator} (prefill: until the first
 * token; decode: the tokens after it).
 */
final class EngineGeneration {
    /** The engine failed the request (the runner threw, the engine shut down): what it said. */
    static final class GenerationFailedException extends RuntimeException {
        GenerationFailedException(String message) {
            super(message);
        }
    }

    private final ModelRunner runner;
    private final Tokenizer tokenizer;
    private final Speculation speculation;
    private long draftTokens;
    private long acceptedTokens;

    EngineGeneration(ModelRunner runner, Tokenizer tokenizer, Speculation speculation) {
        this.runner = runner;
        this.tokenizer = tokenizer;
        this.speculation = speculation;
    }

    /** Proposals verified / accepted in the last {@link #generate}. */
    long draftTokens() {
        return draftTokens;
    }

    long acceptedTokens() {
        return acceptedTokens;
    }

    /** @throws GenerationFailedException if the engine fails the request, with the engine's message */
    GenerationStats generate(int[] prompt, int maxTokens, SamplingParams params, boolean ignoreEos,
                             Consumer<String> onText) throws InterruptedException {
        int context = runner.shape().contextLength();
        if (prompt.length >= context) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens, the context holds "
                    + context);
        }
        if (maxTokens == 0) {
            // The engine samples at least one token per request; nothing to generate is answered here, as
            // SingleStreamGenerator and the HTTP API answer it: no tokens, finish reason length.
            draftTokens = 0;
            acceptedTokens = 0;
            return new GenerationStats(prompt.length, 0, 0, 0, "length");
        }
        int maxLen = Math.min(context, prompt.length + maxTokens);
        int block = EngineConfig.DEFAULT_BLOCK_SIZE;
        EngineConfig config = new EngineConfig(1, Math.max(256, prompt.length), 1, block, (maxLen + block - 1) / block,
                Math.max(2, maxLen));
        long[] times = new long[2];
        int[] generated = {0};
        String[] reason = {"length"};
        // The engine calls onError, then onFinish with ERROR, from its thread: keep the message it gave.
        String[] failure = {null};
        CountDownLatch done = new CountDownLatch(1);
        long start = System.nanoTime();
        try (InferenceEngine engine = new InferenceEngine(runner, tokenizer, config, new SimpleMeterRegistry(),
                speculation)) {
            engine.submit(new GenerationRequest("generate", prompt, maxTokens, params, List.of(), ignoreEos, 1, -1),
                    new TokenSink() {
                        @Override
                        public void onToken(TokenEvent event) {
                            long now = System.nanoTime();
                            if (generated[0]++ == 0) {
                                times[0] = now;
                            }
                            times[1] = now;
                            onText.accept(event.text());
                        }

                        @Override
                        public void onFinish(int choice, FinishReason r, String text, int promptTokens, int n) {
                            onText.accept(text);
                            reason[0] = r.openAiName();
                            done.countDown();
                        }

                        @Override
                        public void onError(String message) {
                            failure[0] = message;
                            done.countDown();
                        }
                    });
            done.await();
            draftTokens = engine.metrics().draftTokens();
            acceptedTokens = engine.metrics().acceptedTokens();
        }
        if (failure[0] != null) {
            throw new GenerationFailedException(failure[0]);
        }
        long first = generated[0] > 0 ? times[0] - start : 0;
        long decode = generated[0] > 1 ? times[1] - times[0] : 0;
        return new GenerationStats(prompt.length, generated[0], first, decode, reason[0]);
    }
}
