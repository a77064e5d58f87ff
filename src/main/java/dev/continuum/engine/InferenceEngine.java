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
    private final EngineMetrics metrics;
    private final Thread thread;
    /** Requests submitted but not yet scheduled: what max-waiting bounds. */
    private final AtomicInteger waitingGauge = new AtomicInteger();
    private final AtomicInteger runningGauge = new AtomicInteger();
    private volatile boolean stopping;
    private final EngineProgress progress = new EngineProgress();
    /** Set by {@link #abortAll}: the engine thread fails everything in flight with it at its next iteration. */
    private volatile String abortMessage;

    /** An engine decoding without proposals; the runner's KV storage is allocated here, as the config sizes it. */
    public InferenceEngine(ModelRunner runner, Tokenizer tokenizer, EngineConfig config, MeterRegistry registry) {
        this(runner, tokenizer, config, registry, TokenProposer.NONE);
    }

    /** An engine that verifies {@code proposer}'s tokens in each decode step (speculative decoding). */
    public InferenceEngine(ModelRunner runner, Tokenizer tokenizer, EngineConfig config, MeterRegistry registry,
                           TokenProposer proposer) {
        if (config.maxModelLen() > runner.shape().contextLength()) {
            throw new IllegalArgumentException("max-model-len " + config.maxModelLen() + " exceeds the model's context"
                    + " of " + runner.shape().contextLength());
        }
        this.config = config;
        this.queue = new ArrayBlockingQueue<>(config.maxWaiting());
        this.metrics = new EngineMetrics(registry, runningGauge::get, waitingGauge::get);
        this.scheduler = new Scheduler(runner, config, tokenizer, metrics, waitingGauge, proposer);
        this.thread = new Thread(this::loop, "continuum-engine");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public EngineConfig config() {
        return config;
    }

    public EngineMetrics metrics() {
        return metrics;
    }

    /**
     * Queues a request; its output goes to {@code sink} from the engine thread.
     *
     * @throws QueueFullException when {@code max-waiting} requests are already queued
     */
    public RequestHandle submit(GenerationRequest request, TokenSink sink) {
        if (request.prompt().length + 1 > config.maxModelLen()) {
            throw new IllegalArgumentException("the prompt has " + request.prompt().length
                    + " tokens; max-model-len is " + config.maxModelLen());
        }
        RequestHandle handle = new RequestHandle();
        ActiveRequest r = new ActiveRequest(request, sink, handle, System.nanoTime());
        if (stopping || waitingGauge.incrementAndGet() > config.maxWaiting() || !queue.offer(r)) {
            waitingGauge.decrementAndGet();
            throw new QueueFullException(config.maxWaiting());
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

    /** Fraction of KV blocks in use. */
    public double kvUsage() {
        return scheduler.kvUsage();
    }

    public int runningSequences() {
        return runningGauge.get();
    }

    public int waitingRequests() {
        return waitingGauge.get();
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
            scheduler.step();
        } catch (RuntimeException | Error e) {
            LOG.error("engine step failed; failing the requests in flight", e);
            scheduler.failAll("internal error in the inference engine: " + e);
        }
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
