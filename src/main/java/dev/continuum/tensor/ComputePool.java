package dev.continuum.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The fixed set of compute threads that kernels split their work across, owned by the engine rather than the
 * JDK's common pool so request handling can never starve it (or be starved by it).
 *
 * <p>A forward pass hands out hundreds of short jobs (one per matrix), so handing one out must cost microseconds,
 * not the tens of microseconds of an executor: workers spin on a generation counter for a while after each job
 * and only then park, the caller works too, and nothing is allocated per job. Threads take chunks of the index
 * range from a shared counter rather than fixed halves, so a thread slowed by anything else on its core (the
 * JIT, the GC, another process) does not hold the others up, and the caller waits only for workers that joined
 * before it ran out of chunks: one still waking from a park (a millisecond on this machine's VM) is not waited for.
 */
public final class ComputePool implements AutoCloseable {
    /** A body run over the half-open index range {@code [from, to)} by thread {@code worker} (0 = the caller). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int worker, int from, int to);
    }

    /** How long an idle worker spins before parking; a decode step's gap between jobs is far shorter. */
    private static final long SPIN_NANOS = 2_000_000L;
    /** Far below zero, so that increments by late workers never bring a closed job's count back up to it. */
    private static final int CLOSED = Integer.MIN_VALUE / 2;

    private final int threads;
    private final Worker[] workers;
    private final AtomicInteger next = new AtomicInteger();
    /**
     * Workers that joined the current job, until the caller closes it (drives it negative): a worker that has not
     * joined by the time no chunk is left (parked, descheduled, stopped by a safepoint) is not waited for.
     */
    private final AtomicInteger joined = new AtomicInteger();
    private final AtomicInteger finished = new AtomicInteger();

    // The current job: body and n are published by the volatile write of state, which packs the job's generation
    // with its share count so that a worker never pairs one job's generation with another's share count.
    private RangeBody body;
    private int n;
    private int grain;
    private volatile long state;
    private volatile Throwable failure;
    private volatile boolean closed;

    public ComputePool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Worker[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].thread.start();
        }
    }

    /** A pool with one thread per available core. */
    public static ComputePool ofAvailableCores() {
        return new ComputePool(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} in contiguous chunks spread over the pool's threads, the caller among
     * them, and returns when all are done. Which thread runs which chunk varies; callers must not depend on it.
     * Not reentrant: one caller at a time.
     */
    public void parallelFor(int n, RangeBody body) {
        int parts = Math.min(threads, n);
        if (parts <= 1) {
            if (n > 0) {
                body.run(0, 0, n);
            }
            return;
        }
        if (closed) {
            throw new IllegalStateException("compute pool is closed");
        }
        this.body = body;
        this.n = n;
        // Small chunks balance the threads; a few per thread keep the shared counter uncontended.
        this.grain = Math.max(1, n / (parts * 8));
        this.failure = null;
        next.set(0);
        finished.set(0);
        joined.set(0);
        state = ((state >>> 16) + 1) << 16 | parts;
        for (int i = 0; i < parts - 1; i++) {
            workers[i].wake();
        }
        Throwable own = null;
        try {
            work(0);
        } catch (Throwable t) {
            own = t;
        }
        int helpers = joined.getAndSet(CLOSED);
        while (finished.get() != helpers) {
            Thread.onSpinWait();
        }
        this.body = null;
        Throwable t = own != null ? own : failure;
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException("compute task failed", t);
        }
    }

    /** Takes chunks of the current job until none is left. */
    private void work(int worker) {
        int total = n;
        int step = grain;
        for (int from = next.getAndAdd(step); from < total; from = next.getAndAdd(step)) {
            body.run(worker, from, Math.min(total, from + step));
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w.thread);
        }
    }

    private final class Worker implements Runnable {
        private final int index;
        private final Thread thread;
        private volatile boolean parked;
        private long seen;

        Worker(int index) {
            this.index = index;
            this.thread = new Thread(this, "continuum-compute-" + index);
            this.thread.setDaemon(true);
        }

        void wake() {
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        @Override
        public void run() {
            while (!closed) {
                long job = awaitJob();
                if (job < 0) {
                    return;
                }
                seen = job;
                int jobParts = (int) (job & 0xffff);
                if (index >= jobParts) {
                    continue; // this job has fewer shares than threads
                }
                if (joined.getAndIncrement() < 0) {
                    continue; // the caller has taken every chunk and closed the job
                }
                try {
                    work(index);
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    finished.incrementAndGet();
                }
            }
        }

        /** Spins, then parks, until a new job is published; returns its state, or -1 when the pool closes. */
        private long awaitJob() {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (true) {
                long job = state;
                if (job != seen) {
                    return job;
                }
                if (closed) {
                    return -1;
                }
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                if (state == seen && !closed) {
                    LockSupport.park(this);
                }
                parked = false;
                spinUntil = System.nanoTime() + SPIN_NANOS;
            }
        }
    }
}
