package dev.continuum.engine;

import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.ModelShape;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.runner.WarmupReport;
import dev.continuum.tokenizer.ByteLevelTokenizer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's heartbeat: an idle engine keeps stepping (never stalled), a forward pass that hangs while a request
 * waits shows as a stall within the bound and clears once it returns, and abortAll fails what is in flight.
 */
class EngineProgressTest {
    private static final long BOUND = TimeUnit.MILLISECONDS.toNanos(300);

    /** FakeRunner, but a forward pass waits on {@link #gate} while it is closed. */
    private static final class GatedRunner implements ModelRunner {
        final FakeRunner fake = new FakeRunner(512, true);
        volatile CountDownLatch gate = new CountDownLatch(0);
        final CountDownLatch entered = new CountDownLatch(1);

        @Override
        public ModelShape shape() {
            return fake.shape();
        }

        @Override
        public void allocateKvCache(int blocks, int blockSize) {
            fake.allocateKvCache(blocks, blockSize);
        }

        @Override
        public StepOutput forward(StepBatch batch) {
            entered.countDown();
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return fake.forward(batch);
        }

        @Override
        public void copyBlock(int src, int dst) {
            fake.copyBlock(src, dst);
        }

        @Override
        public WarmupReport warmUp(int decodeSteps) {
            return fake.warmUp(decodeSteps);
        }

        @Override
        public String describe() {
            return "gated fake";
        }
    }

    private static InferenceEngine engine(GatedRunner runner) {
        return new InferenceEngine(runner, new ByteLevelTokenizer(FakeRunner.VOCAB),
                new EngineConfig(4, 64, 8, 16, 64, 512), new SimpleMeterRegistry());
    }

    private static GenerationRequest request(int maxTokens) {
        return new GenerationRequest("r", new int[]{5, 6, 7}, maxTokens, dev.continuum.sampling.SamplingParams.GREEDY,
                List.of(), true, 1, -1);
    }

    @Test
    void anIdleEngineKeepsItsHeartbeat() {
        try (InferenceEngine e = engine(new GatedRunner())) {
            await().during(Duration.ofMillis(900)).atMost(Duration.ofSeconds(2))
                    .until(() -> !e.progress().stalled(BOUND));
            assertTrue(e.isAlive());
        }
    }

    @Test
    void aHangingForwardPassIsAStallUntilItReturns() throws Exception {
        GatedRunner runner = new GatedRunner();
        runner.gate = new CountDownLatch(1);
        try (InferenceEngine e = engine(runner)) {
            CollectingSink sink = new CollectingSink(1);
            e.submit(request(8), sink);
            assertTrue(runner.entered.await(5, TimeUnit.SECONDS), "the step began");
            await().atMost(Duration.ofSeconds(5)).until(() -> e.progress().stalled(BOUND));
            assertTrue(e.progress().nanosSinceLastStep() > BOUND);
            assertTrue(e.isAlive(), "a stuck thread is still alive: only readiness sees the stall");

            runner.gate.countDown();
            assertEquals(FinishReason.LENGTH, sink.done.get(5, TimeUnit.SECONDS).reasons.getFirst());
            await().atMost(Duration.ofSeconds(5)).until(() -> !e.progress().stalled(BOUND));
        }
    }

    @Test
    void abortAllFailsTheRequestsInFlight() throws Exception {
        GatedRunner runner = new GatedRunner();
        runner.gate = new CountDownLatch(1);
        try (InferenceEngine e = engine(runner)) {
            CollectingSink sink = new CollectingSink(1);
            e.submit(request(400), sink);
            assertTrue(runner.entered.await(5, TimeUnit.SECONDS), "the request is running");
            e.abortAll("shutting down");
            runner.gate.countDown();
            ExecutionException failed = assertThrows(ExecutionException.class, () -> sink.done.get(5, TimeUnit.SECONDS));
            assertEquals("shutting down", failed.getCause().getMessage());
        }
    }
}
