package dev.continuum.bench;

import dev.continuum.engine.EngineConfig;
import dev.continuum.engine.FinishReason;
import dev.continuum.engine.GenerationRequest;
import dev.continuum.engine.InferenceEngine;
import dev.continuum.engine.TokenEvent;
import dev.continuum.engine.TokenSink;
import dev.continuum.loader.LoadedModel;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tensor.ComputePool;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Drives the engine directly (no HTTP) with {@code concurrency} simultaneous greedy requests. */
public final class InProcessBench {
    private final LoadedModel model;
    private final ComputePool pool;
    private final EngineConfig config;

    public InProcessBench(LoadedModel model, ComputePool pool, EngineConfig config) {
        this.model = model;
        this.pool = pool;
        this.config = config;
    }

    public BenchResult run(int concurrency, int[][] prompts, int genTokens) throws InterruptedException {
        try (InferenceEngine engine = new InferenceEngine(model, pool, config, new SimpleMeterRegistry())) {
            List<RequestTrace> traces = new ArrayList<>();
            CountDownLatch done = new CountDownLatch(concurrency);
            long start = System.nanoTime();
            for (int i = 0; i < concurrency; i++) {
                RequestTrace trace = new RequestTrace(genTokens);
                traces.add(trace);
                trace.submitted = 0;
                engine.submit(new GenerationRequest("bench-" + i, prompts[i % prompts.length], genTokens,
                        SamplingParams.GREEDY, List.of(), true, 1, -1), new TokenSink() {
                    @Override
                    public void onToken(TokenEvent event) {
                        trace.token(System.nanoTime() - start);
                    }

                    @Override
                    public void onFinish(int choice, FinishReason reason, String text, int p, int c) {
                        done.countDown();
                    }

                    @Override
                    public void onError(String message) {
                        done.countDown();
                    }
                });
            }
            if (!done.await(30, TimeUnit.MINUTES)) {
                throw new IllegalStateException("benchmark did not finish");
            }
            long end = System.nanoTime() - start;
            return BenchResult.of("in-process", concurrency, prompts[0].length, genTokens, traces, 0, end);
        }
    }
}
