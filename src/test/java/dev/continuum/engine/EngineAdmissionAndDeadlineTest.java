package dev.continuum.engine;

import dev.continuum.sampling.SamplingParams;
import dev.continuum.tokenizer.ByteLevelTokenizer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's request deadline (a request past it ends with TIMEOUT and gives its KV blocks back) and its token
 * admission (queued prompt + max_tokens work beyond max-waiting-tokens is refused, with a Retry-After from the
 * queue's work and the measured throughput). On the fake runner: fast and deterministic.
 */
class EngineAdmissionAndDeadlineTest {
    private static final int CONTEXT = 512;

    private static InferenceEngine engine(int maxSeqs, long maxWaitingTokens) {
        EngineConfig config = new EngineConfig(maxSeqs, 64, 64, 16, 128, CONTEXT, maxWaitingTokens,
                Duration.ofSeconds(600));
        return new InferenceEngine(new FakeRunner(CONTEXT, true), new ByteLevelTokenizer(FakeRunner.VOCAB), config,
                new SimpleMeterRegistry());
    }

    private static GenerationRequest request(int promptLength, int maxTokens) {
        int[] p = new int[promptLength];
        for (int i = 0; i < p.length; i++) {
            p[i] = 3 + i % (FakeRunner.VOCAB - 3);
        }
        return new GenerationRequest("r", p, maxTokens, SamplingParams.GREEDY, List.of(), true, 1, -1);
    }

    /** A sink that, at its first token, notes the KV usage and then holds the engine thread until released. */
    private static final class HoldingSink extends CollectingSink {
        final CountDownLatch firstToken = new CountDownLatch(1);
        final Runnable hold;
        final InferenceEngine[] engine = new InferenceEngine[1];
        volatile double kvUsageAtFirstToken = -1;

        HoldingSink(Runnable hold) {
            super(1);
            this.hold = hold;
        }

        @Override
        public synchronized void onToken(TokenEvent e) {
            super.onToken(e);
            if (firstToken.getCount() > 0) {
                kvUsageAtFirstToken = engine[0].kvUsage();
                firstToken.countDown();
                hold.run();
            }
        }
    }

    @Test
    void aRunningRequestPastItsDeadlineEndsWithTimeoutAndFreesItsBlocks() throws Exception {
        try (InferenceEngine e = engine(4, 1 << 20)) {
            long deadline = System.nanoTime() + Duration.ofMillis(300).toNanos();
            // The engine thread waits in the first token's callback until the deadline has passed, so the
            // request is certainly running (holding blocks) when its deadline comes.
            HoldingSink sink = new HoldingSink(() -> {
                for (long left; (left = deadline - System.nanoTime()) > 0; ) {
                    LockSupport.parkNanos(left);
                }
            });
            sink.engine[0] = e;
            e.submit(request(40, 400), sink, deadline);
            sink.done.get(30, TimeUnit.SECONDS);
            assertTrue(sink.kvUsageAtFirstToken > 0, "it held KV blocks while running");
            assertEquals(FinishReason.TIMEOUT, sink.reasons.get(0));
            assertTrue(sink.tokens.get(0).size() < 400, "it stopped early: " + sink.tokens.get(0).size());
            assertEquals(0.0, e.kvUsage(), "its blocks are back in the pool");
            assertEquals(0, e.waitingRequests());
        }
    }

    @Test
    void aWaitingRequestPastItsDeadlineEndsWithTimeoutWithoutRunning() throws Exception {
        try (InferenceEngine e = engine(4, 1 << 20)) {
            CollectingSink sink = new CollectingSink(1);
            e.submit(request(8, 50), sink, System.nanoTime() - 1);
            sink.done.get(30, TimeUnit.SECONDS);
            assertEquals(FinishReason.TIMEOUT, sink.reasons.get(0));
            assertEquals(0, sink.tokens.get(0).size());
            assertEquals(0.0, e.kvUsage());
            assertEquals(0, e.waitingRequests());
            assertEquals(0, e.waitingTokens());
        }
    }

    @Test
    void aDeadlineLaterThanTheConfiguredTimeoutIsCutToIt() throws Exception {
        EngineConfig config = new EngineConfig(4, 64, 64, 16, 128, CONTEXT, 1 << 20, Duration.ofNanos(1));
        try (InferenceEngine e = new InferenceEngine(new FakeRunner(CONTEXT, true),
                new ByteLevelTokenizer(FakeRunner.VOCAB), config, new SimpleMeterRegistry())) {
            CollectingSink sink = new CollectingSink(1);
            e.submit(request(8, 50), sink, Long.MAX_VALUE / 2 + System.nanoTime());
            sink.done.get(30, TimeUnit.SECONDS);
            assertEquals(FinishReason.TIMEOUT, sink.reasons.get(0));
        }
    }

    @Test
    void queuedWorkBeyondMaxWaitingTokensIsRefusedWithRetryAfterFromTheQueue() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (InferenceEngine e = engine(1, 1000)) {
            // A warms the throughput estimate, B holds the engine thread so the queue stands still.
            CollectingSink warm = new CollectingSink(1);
            e.submit(request(30, 60), warm);
            warm.done.get(30, TimeUnit.SECONDS);
            HoldingSink holder = new HoldingSink(() -> {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            });
            holder.engine[0] = e;
            e.submit(request(10, 20), holder);
            assertTrue(holder.firstToken.await(30, TimeUnit.SECONDS));
            List<CollectingSink> queued = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) { // 3 x (10 + 300) = 930 tokens of work <= 1000
                CollectingSink s = new CollectingSink(1);
                e.submit(request(10, 300), s);
                queued.add(s);
            }
            assertEquals(930, e.waitingTokens());
            QueueFullException refused = assertThrows(QueueFullException.class,
                    () -> e.submit(request(10, 300), new CollectingSink(1)));
            assertEquals(QueueFullException.Limit.TOKENS, refused.limit());
            assertTrue(refused.getMessage().contains("max-waiting-tokens"), refused.getMessage());
            assertTrue(e.tokensPerSecond() > 0, "the warm-up request measured the throughput");
            assertEquals(Throughput.retryAfterSeconds(930, e.tokensPerSecond()), refused.retryAfterSeconds());
            assertEquals(930, e.waitingTokens(), "the refused request left the queue as it was");
            release.countDown();
            holder.done.get(30, TimeUnit.SECONDS);
            for (CollectingSink s : queued) {
                s.done.get(30, TimeUnit.SECONDS);
                assertEquals(FinishReason.LENGTH, s.reasons.get(0));
            }
            assertEquals(0, e.waitingTokens());
            // Alone, a request larger than the whole limit is still served.
            CollectingSink big = new CollectingSink(1);
            e.submit(request(100, 1200), big);
            big.done.get(30, TimeUnit.SECONDS);
            assertEquals(FinishReason.LENGTH, big.reasons.get(0));
        } finally {
            release.countDown();
        }
    }

    @Test
    void retryAfterIsTheQueuedWorkOverTheThroughputClampedToOneToSixtySeconds() {
        assertEquals(10, Throughput.retryAfterSeconds(1000, 100));
        assertEquals(4, Throughput.retryAfterSeconds(301, 100), "rounded up");
        assertEquals(1, Throughput.retryAfterSeconds(5, 1000), "at least a second");
        assertEquals(60, Throughput.retryAfterSeconds(1_000_000, 10), "at most a minute");
        assertEquals(1, Throughput.retryAfterSeconds(1000, 0), "nothing measured yet");
    }

    @Test
    void throughputFollowsTheSteps() {
        Throughput t = new Throughput();
        assertEquals(0, t.tokensPerSecond());
        for (int i = 0; i < 100; i++) {
            t.record(10, 1_000_000); // 10 tokens per millisecond
        }
        assertEquals(10_000, t.tokensPerSecond(), 1);
        for (int i = 0; i < 50_000; i++) { // ten time constants
            t.record(1, 1_000_000); // the load changes: 1 token per millisecond
        }
        assertEquals(1_000, t.tokensPerSecond(), 10);
    }
}
