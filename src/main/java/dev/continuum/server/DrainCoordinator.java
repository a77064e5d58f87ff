package dev.continuum.server;

import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;
import sun.misc.Signal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Graceful stop. Quarkus fires {@link ShutdownDelayInitiatedEvent} synchronously at the very start of its shutdown
 * (SIGTERM), before the HTTP server or the engine close ({@code quarkus.shutdown.delay-enabled=true}), and waits
 * for this observer to return: so here the server stops admitting (the {@link HttpGate} answers 503, readiness
 * turns false), lets the requests in flight finish for up to {@code continuum.shutdown-grace}, then fails those
 * still running (streams get an error event and {@code [DONE]}) and lets the stop go on to a clean exit.
 */
@ApplicationScoped
public class DrainCoordinator {
    private static final Logger LOG = Logger.getLogger(DrainCoordinator.class);
    /** After the grace, how long the failed requests get to write their last event. */
    private static final long FLUSH_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final ModelHost host;
    private final Duration grace;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Object lock = new Object();
    private volatile boolean draining;

    public DrainCoordinator(ModelHost host, ContinuumConfig config) {
        this.host = host;
        this.grace = config.shutdownGrace();
    }

    public boolean draining() {
        return draining;
    }

    /** Counts a request in; false (and not counted) once draining began, so nothing slips past the wait. */
    boolean admit() {
        inFlight.incrementAndGet();
        if (draining) {
            finished();
            return false;
        }
        return true;
    }

    /** A request admitted by {@link #admit} ended (answered, or its connection closed). */
    void finished() {
        if (inFlight.decrementAndGet() == 0 && draining) {
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }

    public int inFlight() {
        return inFlight.get();
    }

    /**
     * SIGTERM asks for an orderly exit with status 0: the JVM's own handler runs the same shutdown hooks (Quarkus'
     * stop, so the drain) but exits 143, which Kubernetes and systemd report as a failure. Not in tests, whose JVM
     * is the test runner's.
     */
    void onStart(@Observes StartupEvent event) {
        if (LaunchMode.current() != LaunchMode.TEST) {
            Signal.handle(new Signal("TERM"), signal -> System.exit(0));
        }
    }

    void onShutdownStarted(@Observes ShutdownDelayInitiatedEvent event) {
        drain();
    }

    /** Stops admitting and waits for the requests in flight, failing what still runs when the grace is up. */
    void drain() {
        draining = true;
        LOG.infof("Shutting down: refusing new requests, %d in flight get up to %s to finish", inFlight.get(), grace);
        if (awaitIdle(grace.toNanos())) {
            LOG.info("Every request in flight finished");
            return;
        }
        LOG.warnf("Shutdown grace %s ran out with %d requests in flight: ending them with an error", grace,
                inFlight.get());
        var engine = host.engine();
        if (engine != null) {
            engine.abortAll("the server is shutting down and the shutdown grace (" + grace.toSeconds()
                    + " s) ran out before this request finished");
        }
        if (!awaitIdle(FLUSH_NANOS)) {
            LOG.warnf("%d requests still open after the grace; closing their connections", inFlight.get());
        }
    }

    private boolean awaitIdle(long nanos) {
        long deadline = System.nanoTime() + nanos;
        synchronized (lock) {
            while (inFlight.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }
}
