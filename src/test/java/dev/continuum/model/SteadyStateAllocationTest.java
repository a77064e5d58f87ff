package dev.continuum.model;

import dev.continuum.IntegrationTest;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.sampling.Sampler;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tensor.ComputePool;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Steady-state decoding allocates nothing: after warm-up, the CPU runner's forward passes of a batch of sequences
 * (through the runner seam, as the engine calls it) and sampling their next tokens leave no garbage on the calling thread or the compute threads. A vector the JIT fails to keep
 * in registers is boxed on every operation, so this also catches a kernel that stopped compiling well.
 */
// Not in the unit lane: waiting for the JIT to settle takes 10-25 s.
@IntegrationTest
class SteadyStateAllocationTest {
    private static final int SEQUENCES = 5;
    /** Steps per round; all rounds together stay inside dummy:tiny's 1024-token context. */
    private static final int STEPS = 24;
    /** Rounds of steps allowed for the JIT to settle (it sometimes recompiles a kernel late); one clean round passes. */
    private static final int ROUNDS = 40;

    @Test
    void decodeStepsAllocateNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        // Only this pool's threads count: compute threads left by earlier tests in this JVM (a server's warm-up
        // still finishing, say) carry the same names and allocate on their own schedule.
        Set<Long> earlier = computeThreads();
        try (LoadedModel m = ModelLoader.load("dummy:tiny:q4_0", null); ComputePool pool = new ComputePool(2)) {
            CpuModelRunner runner = new CpuModelRunner(m.config(), m.weights(), pool);
            runner.warmUp(16);
            LlamaConfig c = m.config();
            ModelHarness.Cache cache = ModelHarness.Cache.of(c, SEQUENCES, ROUNDS * STEPS + 1);
            runner.allocateKvCache(cache.tables().length * cache.tables()[0].length, ModelHarness.BLOCK_SIZE);
            StepBatch batch = cache.batch(SEQUENCES);
            Sampler sampler = new Sampler(SamplingParams.GREEDY, c.vocabSize());
            int[] tokens = new int[SEQUENCES];
            java.util.Arrays.fill(tokens, 1);
            List<Long> ids = new ArrayList<>(List.of(Thread.currentThread().threadId()));
            for (long id : computeThreads()) {
                if (!earlier.contains(id)) {
                    ids.add(id);
                }
            }
            int position = 0;
            for (int round = 0; round < ROUNDS; round++) {
                long before = allocated(threads, ids);
                long callerBefore = threads.getThreadAllocatedBytes(ids.get(0));
                for (int s = 0; s < STEPS; s++, position++) {
                    batch.clear();
                    for (int i = 0; i < SEQUENCES; i++) {
                        batch.requestLogits(batch.addRow(tokens[i], position, i));
                    }
                    StepOutput out = runner.forward(batch);
                    for (int i = 0; i < SEQUENCES; i++) {
                        tokens[i] = sampler.sample(out.logits(), out.offset(i));
                    }
                }
                long perStep = (allocated(threads, ids) - before) / STEPS;
                long callerPerStep = (threads.getThreadAllocatedBytes(ids.get(0)) - callerBefore) / STEPS;
                // The first rounds may still see the JIT at work; one clean round proves the steady state.
                if (perStep < 64) {
                    return;
                }
                if (round == ROUNDS - 1) {
                    assertTrue(perStep < 64, "a decode step of " + SEQUENCES + " sequences allocated " + perStep
                            + " bytes, " + callerPerStep + " of them on the calling thread");
                }
            }
        }
    }

    private static Set<Long> computeThreads() {
        Set<Long> ids = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("continuum-compute")) {
                ids.add(t.threadId());
            }
        }
        return ids;
    }

    private static long allocated(com.sun.management.ThreadMXBean threads, List<Long> ids) {
        long sum = 0;
        for (long id : ids) {
            sum += threads.getThreadAllocatedBytes(id);
        }
        return sum;
    }
}
