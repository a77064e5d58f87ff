package dev.continuum.tensor;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The fixed pool of compute threads that kernels split their work across, owned by the engine rather than the
 * JDK's common pool so request handling can never starve it (or be starved by it).
 */
public final class ComputePool implements AutoCloseable {
    /** A body run over the half-open index range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static final int MIN_CHUNK = 16;

    private final int threads;
    private final ExecutorService executor;

    public ComputePool(int threads) {
        this.threads = Math.max(1, threads);
        AtomicInteger n = new AtomicInteger();
        this.executor = this.threads == 1 ? null : Executors.newFixedThreadPool(this.threads - 1, r -> {
            Thread t = new Thread(r, "continuum-compute-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** A pool with one thread per available core. */
    public static ComputePool ofAvailableCores() {
        return new ComputePool(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code body} over {@code [0, n)} split into one contiguous chunk per thread; the caller takes one. */
    public void parallelFor(int n, RangeBody body) {
        int parts = Math.min(threads, Math.max(1, n / MIN_CHUNK));
        if (parts <= 1) {
            body.run(0, n);
            return;
        }
        Future<?>[] futures = new Future<?>[parts - 1];
        for (int p = 1; p < parts; p++) {
            int from = (int) ((long) n * p / parts);
            int to = (int) ((long) n * (p + 1) / parts);
            futures[p - 1] = executor.submit(() -> body.run(from, to));
        }
        body.run(0, (int) ((long) n / parts));
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while computing", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("compute task failed", e.getCause());
            }
        }
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
