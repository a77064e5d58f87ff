package dev.continuum.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ComputePoolTest {
    /**
     * Three threads on a two-core machine, so workers are often descheduled or late to join: every index of every
     * job runs exactly once, and no chunk of a job runs after its parallelFor has returned.
     */
    @Test
    void everyIndexRunsOnceAndNoChunkOutlivesItsJob() {
        try (ComputePool pool = new ComputePool(3)) {
            AtomicIntegerArray counts = new AtomicIntegerArray(200);
            AtomicInteger current = new AtomicInteger();
            AtomicInteger strays = new AtomicInteger();
            for (int job = 1; job <= 20_000; job++) {
                int n = 1 + job % 200;
                int id = job;
                current.set(id);
                pool.parallelFor(n, (worker, from, to) -> {
                    for (int i = from; i < to; i++) {
                        counts.incrementAndGet(i);
                    }
                    if (current.get() != id) {
                        strays.incrementAndGet();
                    }
                });
                current.set(-id);
                for (int i = 0; i < n; i++) {
                    assertEquals(1, counts.getAndSet(i, 0), "job " + job + " index " + i);
                }
            }
            assertEquals(0, strays.get(), "chunks run after their job returned");
        }
    }

    /** Jobs after the workers have parked (idle longer than they spin) still complete, with every index. */
    @Test
    void jobsCompleteAfterTheWorkersPark() throws InterruptedException {
        try (ComputePool pool = new ComputePool(2)) {
            for (int round = 0; round < 5; round++) {
                Thread.sleep(10);
                AtomicInteger sum = new AtomicInteger();
                pool.parallelFor(1000, (worker, from, to) -> {
                    for (int i = from; i < to; i++) {
                        sum.addAndGet(i);
                    }
                });
                assertEquals(999 * 1000 / 2, sum.get());
            }
        }
    }

    /** A failing chunk, on whichever thread, fails the call; the pool serves the next job normally. */
    @Test
    void aFailingChunkFailsTheCallAndThePoolCarriesOn() {
        try (ComputePool pool = new ComputePool(2)) {
            for (int round = 0; round < 100; round++) {
                assertThrows(IllegalStateException.class, () -> pool.parallelFor(64, (worker, from, to) -> {
                    if (from <= 40 && 40 < to) {
                        throw new IllegalStateException("chunk failed");
                    }
                }));
                AtomicInteger covered = new AtomicInteger();
                pool.parallelFor(64, (worker, from, to) -> covered.addAndGet(to - from));
                assertEquals(64, covered.get());
            }
        }
    }
}
