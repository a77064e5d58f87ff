package dev.continuum.bench;

import dev.continuum.engine.EngineConfig;
import dev.continuum.engine.FinishReason;
import dev.continuum.engine.GenerationRequest;
import dev.continuum.engine.InferenceEngine;
import dev.continuum.engine.RequestHandle;
import dev.continuum.engine.Speculation;
import dev.continuum.engine.TokenEvent;
import dev.continuum.engine.TokenSink;
import dev.continuum.runner.ModelRunner;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tokenizer.Tokenizer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/** Drives the engine directly (no HTTP) with {@code concurrency} simultaneous greedy requests. */
public final class InProcessBench {
    private final ModelRunner runner;
    private final Tokenizer tokenizer;
    private final EngineConfig config;
    private final Speculation speculation;
    private String lastSpeculationCosts;

    public InProcessBench(ModelRunner runner, Tokenizer tokenizer, EngineConfig config) {
        this(runner, tokenizer, config, Speculation.OFF);
    }

    /** A bench whose engines speculate as {@code speculation} says (its proposer stays the caller's). */
    public InProcessBench(ModelRunner runner, Tokenizer tokenizer, EngineConfig config, Speculation speculation) {
        this.runner = runner;
        this.tokenizer = tokenizer;
        this.config = config;
        this.speculation = speculation;
    }

    /**
     * Time to first token of one {@code probe} prompt, on an idle engine and while {@code background} other
     * sequences are decoding (chunked prefill must keep the second close to the first). Medians of
     * {@code rounds} tries each; one JSON line.
     */
    public String ttftUnderLoad(int[] probe, int[][] prompts, int background, int rounds) throws InterruptedException {
        long[] idle = new long[rounds];
        long[] loaded = new long[rounds];
        try (InferenceEngine engine = new InferenceEngine(runner, tokenizer, config, new SimpleMeterRegistry())) {
            for (int r = 0; r < rounds; r++) {
                idle[r] = firstTokenNanos(engine, probe);
            }
            for (int r = 0; r < rounds; r++) {
                CountDownLatch decoding = new CountDownLatch(background);
                List<RequestHandle> handles = new ArrayList<>();
                for (int i = 0; i < background; i++) {
                    int[] tokensSeen = {0};
                    int maxTokens = config.maxModelLen() - prompts[i % prompts.length].length - 1;
                    handles.add(engine.submit(new GenerationRequest("load-" + i, prompts[i % prompts.length],
                            maxTokens, SamplingParams.GREEDY, List.of(), true, 1, -1), new TimingSink(now -> {
                                if (++tokensSeen[0] == 2) {
                                    decoding.countDown();
                                }
                            }, null)));
                }
                if (!decoding.await(10, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("background sequences did not start decoding");
                }
                loaded[r] = firstTokenNanos(engine, probe);
                handles.forEach(RequestHandle::cancel);
            }
        }
        Arrays.sort(idle);
        Arrays.sort(loaded);
        double idleMs = idle[rounds / 2] / 1e6;
        double loadedMs = loaded[rounds / 2] / 1e6;
        return String.format(java.util.Locale.ROOT, "{\"mode\":\"ttft-under-load\",\"prompt_tokens\":%d,"
                + "\"background\":%d,\"ttft_idle_ms\":%.1f,\"ttft_loaded_ms\":%.1f,\"ratio\":%.2f}",
                probe.length, background, idleMs, loadedMs, loadedMs / idleMs);
    }

    /** Submits {@code prompt} for one token and waits for it; returns the time from submission to that token. */
    private static long firstTokenNanos(InferenceEngine engine, int[] prompt) throws InterruptedException {
        CountDownLatch first = new CountDownLatch(1);
        long[] at = new long[1];
        long start = System.nanoTime();
        engine.submit(new GenerationRequest("probe", prompt, 1, SamplingParams.GREEDY, List.of(), true, 1, -1),
                new TimingSink(now -> {
                    at[0] = now;
                    first.countDown();
                }, first));
        if (!first.await(10, TimeUnit.MINUTES)) {
            throw new IllegalStateException("probe request got no token");
        }
        return at[0] - start;
    }

    /** The step costs the last run's engine speculated by (see {@link InferenceEngine#speculationCosts}), or null. */
    public String lastSpeculationCosts() {
        return lastSpeculationCosts;
    }

    public BenchResult run(int concurrency, int[][] prompts, int genTokens) throws InterruptedException {
        try (InferenceEngine engine = new InferenceEngine(runner, tokenizer, config, new SimpleMeterRegistry(),
                speculation)) {
            List<RequestTrace> traces = new ArrayList<>();
            CountDownLatch done = new CountDownLatch(concurrency);
            long start = System.nanoTime();
            for (int i = 0; i < concurrency; i++) {
                RequestTrace trace = new RequestTrace(genTokens);
                traces.add(trace);
                trace.submitted = 0;
                engine.submit(new GenerationRequest("bench-" + i, prompts[i % prompts.length], genTokens,
                        SamplingParams.GREEDY, List.of(), true, 1, -1),
                        new TimingSink(now -> trace.token(now - start), done));
            }
            if (!done.await(30, TimeUnit.MINUTES)) {
                throw new IllegalStateException("benchmark did not finish");
            }
            long end = System.nanoTime() - start;
            lastSpeculationCosts = engine.speculationCosts();
            BenchResult r = BenchResult.of("in-process", concurrency, prompts[0].length, genTokens, traces, 0, end);
            return speculation.enabled()
                    ? r.withSpeculation(engine.metrics().draftTokens(), engine.metrics().acceptedTokens()) : r;
        }
    }

    /** Hands each token's arrival time to {@code onToken}; counts {@code ended} (if any) down at the end. */
    private record TimingSink(LongConsumer onToken, CountDownLatch ended) implements TokenSink {
        @Override
        public void onToken(TokenEvent event) {
            onToken.accept(System.nanoTime());
        }

        @Override
        public void onFinish(int choice, FinishReason reason, String text, int promptTokens, int completionTokens) {
            if (ended != null) {
                ended.countDown();
            }
        }

        @Override
        public void onError(String message) {
            if (ended != null) {
                ended.countDown();
            }
        }
    }
}
