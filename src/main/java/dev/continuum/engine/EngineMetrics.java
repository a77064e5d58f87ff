package dev.continuum.engine;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The engine's Prometheus metrics, all named {@code continuum_*} (see the README for each). Latency histograms
 * use buckets spanning LLM timescales, from milliseconds per token to minutes per request.
 */
public final class EngineMetrics {
    public static final String PREFIX = "continuum.";

    private static final Duration[] TOKEN_BUCKETS = durations(0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08,
            0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5);
    private static final Duration[] REQUEST_BUCKETS = durations(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
            20, 30, 60, 120, 300);

    private final Timer timeToFirstToken;
    private final Timer timePerOutputToken;
    private final Timer e2eLatency;
    private final Timer queueTime;
    private final Counter promptTokens;
    private final Counter generationTokens;
    private final Counter preemptions;
    private final Counter steps;
    private final DistributionSummary stepTokens;
    private final DistributionSummary stepSequences;
    private final Map<FinishReason, Counter> finished = new EnumMap<>(FinishReason.class);
    private final Counter numDrafts;
    private final Counter numDraftTokens;
    private final Counter numAcceptedTokens;
    private final Counter[] acceptedPerPosition;
    private volatile double kvUsage;
    private volatile int peakBatch;

    public EngineMetrics(MeterRegistry registry, Supplier<Number> running, Supplier<Number> waiting) {
        this(registry, running, waiting, 0);
    }

    /** With {@code speculativeTokens} per-position acceptance counters (vLLM's spec-decode set). */
    public EngineMetrics(MeterRegistry registry, Supplier<Number> running, Supplier<Number> waiting,
                         int speculativeTokens) {
        // Strong references: Micrometer holds gauge state weakly, and these suppliers are referenced nowhere else.
        // Sequences, not requests: a request with n choices runs as n sequences, and the batch is what fills up.
        Gauge.builder(PREFIX + "sequences.running", running, s -> s.get().doubleValue()).strongReference(true)
                .description("Sequences (choices) in the running batch").register(registry);
        Gauge.builder(PREFIX + "requests.waiting", waiting, s -> s.get().doubleValue()).strongReference(true)
                .description("Requests waiting to be scheduled").register(registry);
        Gauge.builder(PREFIX + "kv.cache.usage.ratio", this, m -> m.kvUsage).strongReference(true)
                .description("Fraction of KV-cache blocks in use").register(registry);
        timeToFirstToken = timer(registry, "time.to.first.token", "Time from arrival to the first generated token",
                REQUEST_BUCKETS);
        timePerOutputToken = timer(registry, "time.per.output.token", "Time between consecutive generated tokens",
                TOKEN_BUCKETS);
        e2eLatency = timer(registry, "e2e.request.latency", "Time from arrival to the last token of a request",
                REQUEST_BUCKETS);
        queueTime = timer(registry, "request.queue.time", "Time a request waited before its first scheduling",
                REQUEST_BUCKETS);
        promptTokens = Counter.builder(PREFIX + "prompt.tokens").description("Prompt tokens received")
                .register(registry);
        generationTokens = Counter.builder(PREFIX + "generation.tokens").description("Tokens generated")
                .register(registry);
        preemptions = Counter.builder(PREFIX + "preemptions").description("Sequences preempted for lack of KV blocks")
                .register(registry);
        steps = Counter.builder(PREFIX + "scheduler.steps").description("Forward passes run by the scheduler")
                .register(registry);
        stepTokens = DistributionSummary.builder(PREFIX + "scheduler.step.tokens")
                .description("Tokens processed per scheduler step")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048).register(registry);
        stepSequences = DistributionSummary.builder(PREFIX + "scheduler.step.sequences")
                .description("Running sequences per scheduler step (the batch size)")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
        numDrafts = Counter.builder(PREFIX + "spec.decode.num.drafts")
                .description("Verification steps: a sequence's proposals checked by the target in one step")
                .register(registry);
        numDraftTokens = Counter.builder(PREFIX + "spec.decode.num.draft.tokens")
                .description("Proposed (draft) tokens verified").register(registry);
        numAcceptedTokens = Counter.builder(PREFIX + "spec.decode.num.accepted.tokens")
                .description("Proposed tokens the target accepted").register(registry);
        acceptedPerPosition = new Counter[speculativeTokens];
        for (int j = 0; j < speculativeTokens; j++) {
            acceptedPerPosition[j] = Counter.builder(PREFIX + "spec.decode.num.accepted.tokens.per.pos")
                    .tag("position", Integer.toString(j))
                    .description("Proposed tokens accepted, by their position among a step's proposals")
                    .register(registry);
        }
        for (FinishReason r : FinishReason.values()) {
            finished.put(r, Counter.builder(PREFIX + "requests.finished").tag("finish_reason", r.openAiName())
                    .description("Choices finished, by finish reason").register(registry));
        }
    }

    private static Timer timer(MeterRegistry registry, String name, String description, Duration[] buckets) {
        return Timer.builder(PREFIX + name).description(description).serviceLevelObjectives(buckets)
                .register(registry);
    }

    private static Duration[] durations(double... seconds) {
        Duration[] d = new Duration[seconds.length];
        for (int i = 0; i < seconds.length; i++) {
            d[i] = Duration.ofNanos((long) (seconds[i] * 1e9));
        }
        return d;
    }

    void promptTokens(int n) {
        promptTokens.increment(n);
    }

    void queueTime(long nanos) {
        queueTime.record(nanos, TimeUnit.NANOSECONDS);
    }

    void step(int tokens, int sequences, double kvUsageRatio) {
        steps.increment();
        stepTokens.record(tokens);
        stepSequences.record(sequences);
        if (sequences > peakBatch) {
            peakBatch = sequences;
        }
        kvUsage = kvUsageRatio;
    }

    void kvUsage(double ratio) {
        kvUsage = ratio;
    }

    void generatedToken(ActiveRequest r, long now) {
        generationTokens.increment();
        if (r.firstTokenNanos == 0) {
            r.firstTokenNanos = now;
            timeToFirstToken.record(now - r.arrivalNanos, TimeUnit.NANOSECONDS);
        } else {
            timePerOutputToken.record(now - r.lastTokenNanos, TimeUnit.NANOSECONDS);
        }
        r.lastTokenNanos = now;
    }

    /** One sequence's {@code drafts} proposals verified, the first {@code accepted} of them accepted. */
    void verified(int drafts, int accepted) {
        numDrafts.increment();
        numDraftTokens.increment(drafts);
        numAcceptedTokens.increment(accepted);
        for (int j = 0; j < accepted && j < acceptedPerPosition.length; j++) {
            acceptedPerPosition[j].increment();
        }
    }

    /** Proposed tokens verified so far. */
    public long draftTokens() {
        return (long) numDraftTokens.count();
    }

    /** Proposed tokens accepted so far. */
    public long acceptedTokens() {
        return (long) numAcceptedTokens.count();
    }

    /** Verification steps so far. */
    public long verificationSteps() {
        return (long) numDrafts.count();
    }

    /** Sequences preempted so far. */
    long preemptions() {
        return (long) preemptions.count();
    }

    void preemption() {
        preemptions.increment();
    }

    void finished(ActiveRequest r, FinishReason reason, boolean requestDone) {
        finished.get(reason).increment();
        if (requestDone && reason != FinishReason.CANCELLED && reason != FinishReason.ERROR) {
            e2eLatency.record(System.nanoTime() - r.arrivalNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** The largest number of sequences any one step has run together since start. */
    public int peakBatch() {
        return peakBatch;
    }
}
