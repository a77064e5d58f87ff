package dev.continuum.engine;

import dev.continuum.runner.ModelRunner;
import dev.continuum.tokenizer.Tokenizer;
import io.micrometer.core.instrument.MeterRegistry;
import org.jboss.logging.Logger;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine: a bounded queue of submitted requests and one thread running the scheduler loop, which plans each
 * step over a paged KV cache and has a {@link ModelRunner} compute it. {@link #submit} is safe from any thread;
 * everything else happens on the engine thread. The engine knows nothing of how the model is computed: any runner
 * (CPU, GPU, another architecture) serves through the same scheduler.
 */
public final class InferenceEngine implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(InferenceEngine.class);

    private final EngineConfig config;
    private final BlockingQueue<ActiveRequest> queue;
    private final Scheduler scheduler;
    private final String speculationCosts;
    private final EngineMetrics metrics;
    private final Thread thread;
    /** Requests submitted but not yet scheduled, and their tokens: what max-waiting and max-waiting-tokens bound. */
    private final WaitingWork waiting = new WaitingWork();
    private final Throughput throughput = new Throughput();
    private final AtomicInteger runningGauge = new AtomicInteger();
    private volatile boolean stopping;
    private final EngineProgress progress = new EngineProgress();
    /** Set by {@link #abortAll}: the engine thread fails everything in flight with it at its next iteration. */
    private volatile String abortMessage;

    /** An engine decoding without proposals; the runner's KV storage is allocated here, as the config sizes it. */
    public InferenceEngine(ModelRunner runner, Tokenizer tokenizer, EngineConfig config, MeterRegistry registry) {
        this(runner, tokenizer, config, registry, Speculation.OFF);
    }

    /**
     * An engine that verifies proposed tokens in each decode step (speculative decoding) as {@code speculation}
     * says; the proposer is started here and stays the caller's to close.
     */
    public InferenceEngine(ModelRunner runner, Tokenizer tokenizer, EngineConfig config, MeterRegistry registry,
                           Speculation speculation) {
        if (config.maxModelLen() > runner.shape().contextLength()) {
            throw new IllegalArgumentException("max-model-len " + config.maxModelLen() + " exceeds the model's context"
                    + " of " + runner.shape().contextLength());
        }
        this.config = config;
        this.queue = new ArrayBlockingQueue<>(config.maxWaiting());
        this.metrics = new EngineMetrics(registry, runningGauge::get, waiting::requests,
                speculation.proposer().maxProposedTokens());
        this.scheduler = new Scheduler(runner, config, tokenizer, metrics, waiting, speculation);
        this.speculationCosts = scheduler.speculationCosts();
        this.thread = new Thread(this::loop, "continuum-engine");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public EngineConfig config() {
        return config;
    }

    /**
     * The step costs the engine's speculation decides by, in words ("target 1 row: 130 us, 2: 181 us, ...;
     * proposer free"), or null when it does not speculate by cost. Measured before the engine thread started.
     */
    public String speculationCosts() {
        return speculationCosts;
    }

    public EngineMetrics metrics() {
        return metrics;
    }

    /**
     * Queues a request with the configured {@code request-timeout} as its deadline; its output goes to {@code sink}
     * from the engine thread.
     *
     * @throws QueueFullException when {@code max-waiting} requests, or {@code max-waiting-tokens} of work, already wait
     */
    public RequestHandle submit(GenerationRequest request, TokenSink sink) {
        return submit(request, sink, System.nanoTime() + config.requestTimeout().toNanos());
    }

    /**
     * Queues a request that ends with {@link FinishReason#TIMEOUT}, freeing its KV blocks, once
     * {@link System#nanoTime()} passes {@code deadlineNanos} (or the configured request-timeout, if sooner).
     *
     * @throws QueueFullException when {@code max-waiting} requests, or {@code max-waiting-tokens} of work, already wait
     */
    public RequestHandle submit(GenerationRequest request, TokenSink sink, long deadlineNanos) {
        if (request.prompt().length + 1 > config.maxModelLen()) {
            throw new IllegalArgumentException("the prompt has " + request.prompt().length
                    + " tokens; max-model-len is " + config.maxModelLen());
        }
        long now = System.nanoTime();
        long longest = now + config.requestTimeout().toNanos();
        RequestHandle handle = new RequestHandle();
        ActiveRequest r = new ActiveRequest(request, sink, handle, now,
                deadlineNanos - longest < 0 ? deadlineNanos : longest);
        QueueFullException.Limit refused = stopping ? QueueFullException.Limit.REQUESTS
                : waiting.tryAdd(r, config.maxWaiting(), config.maxWaitingTokens());
        if (refused == null && !queue.offer(r)) {
            waiting.admitted(r);
            refused = QueueFullException.Limit.REQUESTS;
        }
        if (refused != null) {
            throw queueFull(refused);
        }
        return handle;
    }

    /** The loop's heartbeat, for readiness: a stuck step shows as a growing silence. */
    public EngineProgress progress() {
        return progress;
    }

    /** True while the engine thread runs. */
    public boolean isAlive() {
        return thread.isAlive();
    }

    /** Fails every request queued or running with {@code message} (a shutdown whose grace ran out). */
    public void abortAll(String message) {
        abortMessage = message;
    }

    private QueueFullException queueFull(QueueFullException.Limit limit) {
        long queued = waiting.tokens();
        int retry = Throughput.retryAfterSeconds(queued, throughput.tokensPerSecond());
        String what = limit == QueueFullException.Limit.TOKENS
                ? queued + " tokens of work (prompt + max_tokens) are already waiting, the limit (max-waiting-tokens) is "
                        + config.maxWaitingTokens()
                : waiting.requests() + " requests are already waiting, the limit (max-waiting) is " + config.maxWaiting();
        return new QueueFullException(limit, "the server is at capacity: " + what + "; retry after " + retry + " s",
                retry);
    }

    /** Tokens of work (prompt + n x max_tokens) submitted and not yet scheduled. */
    public long waitingTokens() {
        return waiting.tokens();
    }

    /** Tokens per second of step time over the recent steps; 0 before the first. */
    public double tokensPerSecond() {
        return throughput.tokensPerSecond();
    }

    /** Fraction of KV blocks in use. */
    public double kvUsage() {
        return scheduler.kvUsage();
    }

    public int runningSequences() {
        return runningGauge.get();
    }

    public int waitingRequests() {
        return waiting.requests();
    }

    private void loop() {
        while (!stopping) {
            try {
                ActiveRequest r = scheduler.idle() ? queue.poll(100, TimeUnit.MILLISECONDS) : queue.poll();
                while (r != null) {
                    scheduler.add(r);
                    r = queue.poll();
                }
                String abort = abortMessage;
                if (abort != null) {
                    abortMessage = null;
                    scheduler.failAll(abort);
                }
                runStep();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void runStep() {
        try {
            long start = System.nanoTime();
            if (scheduler.step()) {
                throughput.record(scheduler.lastStepTokens(), System.nanoTime() - start);
            }
        } catch (RuntimeException | Error e) {
            LOG.error("engine step failed; failing the requests in flight", e);
            scheduler.failAll("internal error in the inference engine: " + e);
        }
        scheduler.endStep();
        runningGauge.set(scheduler.runningCount());
        metrics.kvUsage(scheduler.kvUsage());
        progress.stepFinished();
    }

    @Override
    public void close() {
        stopping = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
