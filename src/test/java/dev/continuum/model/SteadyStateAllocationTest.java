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

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Steady-state decoding allocates nothing: after warm-up, the CPU runner's forward passes of a batch of sequences
 * (through the runner seam, as the engine calls it) and sampling their next tokens leave no garbage on the calling thread or the compute threads. A vector the JIT fails to keep
 * in registers is boxed on every operation, so this also catches a kernel that stopped compiling well.
 */
// Not in the unit lane: waiting for the JIT to settle can take tens of seconds.
@IntegrationTest
class SteadyStateAllocationTest {
    private static final int SEQUENCES = 5;
    /** Steps per round. */
    private static final int STEPS = 24;
    /** Rounds that fit in the cache; then the positions start again from 0 and overwrite it. */
    private static final int ROUNDS_PER_CONTEXT = 40;
    /**
     * How long the JIT may take to settle. Alone the test finds a clean round within a second or two; at the end of a
     * CI lane on a loaded two-core machine the compile queue holds the kernels of every earlier test and C2 can take
     * tens of seconds to reach this model's kernels. The bound is on time, not rounds, because the steps are fast.
     */
    private static final long SETTLE_NANOS = 120_000_000_000L;

    @Test
    void decodeStepsAllocateNothing() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        // Only this pool's threads count: compute threads left by earlier tests in this JVM (a server's warm-up
        // still finishing, say) carry the same names and allocate on their own schedule.
        Set<Long> earlier = computeThreads();
        try (LoadedModel m = ModelLoader.load("dummy:tiny:q4_0", null); ComputePool pool = new ComputePool(2)) {
            CpuModelRunner runner = new CpuModelRunner(m.config(), m.weights(), pool);
            runner.warmUp(16);
            LlamaConfig c = m.config();
            ModelHarness.Cache cache = ModelHarness.Cache.of(c, SEQUENCES, ROUNDS_PER_CONTEXT * STEPS + 1);
            runner.allocateKvCache(cache.tables().length * cache.tables()[0].length, ModelHarness.BLOCK_SIZE);
            Steps steps = new Steps(runner, cache.batch(SEQUENCES), new Sampler(SamplingParams.GREEDY, c.vocabSize()));
            List<Long> ids = new ArrayList<>(List.of(Thread.currentThread().threadId()));
            for (long id : computeThreads()) {
                if (!earlier.contains(id)) {
                    ids.add(id);
                }
            }
            long deadline = System.nanoTime() + SETTLE_NANOS;
            long perStep;
            long callerPerStep;
            int rounds = 0;
            do {
                long before = allocated(threads, ids);
                long callerBefore = threads.getThreadAllocatedBytes(ids.get(0));
                steps.round();
                rounds++;
                perStep = (allocated(threads, ids) - before) / STEPS;
                callerPerStep = (threads.getThreadAllocatedBytes(ids.get(0)) - callerBefore) / STEPS;
                // The first rounds may still see the JIT at work; one clean round proves the steady state.
                if (perStep < 64) {
                    return;
                }
            } while (System.nanoTime() < deadline);
            fail("after " + rounds + " rounds of " + STEPS + " steps a decode step of " + SEQUENCES + " sequences still"
                    + " allocated " + perStep + " bytes, " + callerPerStep + " of them on the calling thread; where"
                    + " (JFR allocation events over " + DIAGNOSIS_ROUNDS + " more rounds):\n" + whereItAllocates(steps));
        }
    }

    /** The decode steps, from position 0 again once a round would pass the cache's end. */
    private static final class Steps {
        private final CpuModelRunner runner;
        private final StepBatch batch;
        private final Sampler sampler;
        private final int[] tokens = new int[SEQUENCES];
        private int position;

        Steps(CpuModelRunner runner, StepBatch batch, Sampler sampler) {
            this.runner = runner;
            this.batch = batch;
            this.sampler = sampler;
            java.util.Arrays.fill(tokens, 1);
        }

        void round() {
            if (position + STEPS > ROUNDS_PER_CONTEXT * STEPS) {
                position = 0;
            }
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
        }
    }

    /** Rounds recorded for the failure message: enough TLAB refills to see where the bytes go. */
    private static final int DIAGNOSIS_ROUNDS = 40;

    /** Runs more rounds under a JFR recording and names the frames that allocated most, for the failure message. */
    private static String whereItAllocates(Steps steps) throws Exception {
        Path file = Files.createTempFile("allocation", ".jfr");
        try (Recording recording = new Recording()) {
            // Every TLAB refill and every allocation outside one, weighed by the bytes it stands for.
            recording.enable("jdk.ObjectAllocationInNewTLAB").withStackTrace();
            recording.enable("jdk.ObjectAllocationOutsideTLAB").withStackTrace();
            recording.start();
            for (int r = 0; r < DIAGNOSIS_ROUNDS; r++) {
                steps.round();
            }
            recording.stop();
            recording.dump(file);
            Map<String, Long> weight = new HashMap<>();
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                RecordedStackTrace stack = e.getStackTrace();
                if (stack == null) {
                    continue;
                }
                StringBuilder where = new StringBuilder(e.getClass("objectClass").getName());
                List<RecordedFrame> frames = stack.getFrames();
                for (int i = 0; i < Math.min(4, frames.size()); i++) {
                    RecordedFrame f = frames.get(i);
                    where.append(" <- ").append(f.getMethod().getType().getName()).append('.')
                            .append(f.getMethod().getName()).append(':').append(f.getLineNumber())
                            .append(' ').append(f.getType());
                }
                long bytes = e.hasField("tlabSize") ? e.getLong("tlabSize") : e.getLong("allocationSize");
                weight.merge(where.toString(), bytes, Long::sum);
            }
            List<Map.Entry<String, Long>> top = new ArrayList<>(weight.entrySet());
            top.sort(Map.Entry.<String, Long>comparingByValue().reversed());
            StringBuilder out = new StringBuilder();
            for (Map.Entry<String, Long> t : top.subList(0, Math.min(8, top.size()))) {
                out.append("  ").append(t.getValue()).append(" bytes: ").append(t.getKey()).append('\n');
            }
            return out.toString();
        } finally {
            Files.deleteIfExists(file);
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
