package dev.continuum.cuda;

import dev.continuum.IntegrationTest;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CUDA runner's own promises, on the emulated device. */
@IntegrationTest
class RunnerOnEmulatedCudaTest {
    private static final int SEQUENCES = 5;
    private static final int STEPS = 16;
    private static final int ROUNDS = 8;
    private static final int BLOCK_SIZE = 16;

    @BeforeAll
    static void device() {
        EmulatedCudaDevice.install();
    }

    /** Each sequence its own run of blocks, enough for {@code positions} positions. */
    private static int[][] tables(int sequences, int positions) {
        int per = (positions + BLOCK_SIZE - 1) / BLOCK_SIZE;
        int[][] t = new int[sequences][per];
        for (int s = 0; s < sequences; s++) {
            for (int b = 0; b < per; b++) {
                t[s][b] = s * per + b;
            }
        }
        return t;
    }

    /**
     * After warm-up a decode step allocates nothing on the calling thread: the per-step arrays go through pinned
     * buffers made once, kernel arguments through argument blocks made once, the logits into the step output.
     */
    @Test
    void decodeStepsAllocateNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().threadId();
        try (LoadedModel m = ModelLoader.load("dummy:tiny:q4_0", null);
             CudaModelRunner runner = new CudaModelRunner(m.config(), m.weights())) {
            int[][] tables = tables(SEQUENCES, ROUNDS * STEPS + 1);
            runner.allocateKvCache(SEQUENCES * tables[0].length, BLOCK_SIZE);
            StepBatch batch = new StepBatch(SEQUENCES, SEQUENCES, tables, BLOCK_SIZE);
            int vocab = m.config().vocabSize();
            int[] tokens = new int[SEQUENCES];
            java.util.Arrays.fill(tokens, 1);
            int position = 0;
            long perStep = Long.MAX_VALUE;
            for (int round = 0; round < ROUNDS && perStep >= 64; round++) {
                long before = threads.getThreadAllocatedBytes(me);
                for (int s = 0; s < STEPS; s++, position++) {
                    batch.clear();
                    for (int i = 0; i < SEQUENCES; i++) {
                        if (position == 0) {
                            batch.markTableChanged(i);
                        }
                        batch.requestLogits(batch.addRow(tokens[i], position, i));
                    }
                    StepOutput out = runner.forward(batch);
                    for (int i = 0; i < SEQUENCES; i++) {
                        tokens[i] = argmax(out.logits(), out.offset(i), vocab);
                    }
                }
                perStep = (threads.getThreadAllocatedBytes(me) - before) / STEPS;
            }
            assertTrue(perStep < 64, "a decode step of " + SEQUENCES + " sequences allocated " + perStep + " bytes");
        }
    }

    /**
     * Built on one thread, stepped on another (as the server's loader and engine threads do): the runner makes its
     * context current where it runs, which the emulated driver insists on, and the results are the same.
     */
    @Test
    void stepsOnAnotherThreadThanTheOneThatBuiltIt() throws Exception {
        try (LoadedModel m = ModelLoader.load("dummy:tiny:f16", null);
             CudaModelRunner runner = new CudaModelRunner(m.config(), m.weights())) {
            float[] here = GreedyRun.run(runner, new int[] {1, 5, 9}, 4).logits[3];
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                float[] there = other.submit(() -> GreedyRun.run(runner, new int[] {1, 5, 9}, 4).logits[3])
                        .get(60, TimeUnit.SECONDS);
                assertArrayEquals(here, there);
            } finally {
                other.shutdown();
            }
        }
    }

    /** Bad rows are refused before anything reaches the device, naming what is wrong. */
    @Test
    void badRowsAreRefused() {
        try (LoadedModel m = ModelLoader.load("dummy:tiny", null);
             CudaModelRunner runner = new CudaModelRunner(m.config(), m.weights())) {
            int[][] tables = tables(1, 32);
            runner.allocateKvCache(tables[0].length, BLOCK_SIZE);
            StepBatch batch = new StepBatch(4, 1, tables, BLOCK_SIZE);
            batch.addRow(m.config().vocabSize(), 0, 0);
            batch.requestLogits(0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> runner.forward(batch));
            assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
            batch.clear();
            batch.addRow(1, 40, 0);
            batch.requestLogits(0);
            e = assertThrows(IllegalArgumentException.class, () -> runner.forward(batch));
            assertTrue(e.getMessage().contains("no valid block for position 40"), e.getMessage());
            // The runner is still usable after refusing.
            batch.clear();
            batch.addRow(1, 0, 0);
            batch.requestLogits(0);
            assertTrue(runner.forward(batch).rows() == 1);
        }
    }

    private static int argmax(float[] v, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[offset + i] > v[offset + best]) {
                best = i;
            }
        }
        return best;
    }
}
