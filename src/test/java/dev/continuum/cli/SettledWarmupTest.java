package dev.continuum.cli;

import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.ModelShape;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.runner.WarmupReport;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** generate's warm-up runs rounds until the JIT stops compiling, and says so. */
class SettledWarmupTest {
    /** A runner whose warm-ups take a millisecond each and "compile" for its first {@code compilingRounds}. */
    private static final class Runner implements ModelRunner {
        final AtomicLong jit = new AtomicLong();
        final int compilingRounds;
        int warmUps;

        Runner(int compilingRounds) {
            this.compilingRounds = compilingRounds;
        }

        @Override
        public WarmupReport warmUp(int decodeSteps) {
            long end = System.nanoTime() + 1_000_000;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
            if (warmUps++ < compilingRounds) {
                jit.addAndGet(1_000); // a second of JIT time: far over 2% of the round
            }
            return new WarmupReport(0.001, "fake");
        }

        @Override
        public ModelShape shape() {
            return new ModelShape(4, 8, 1, 4);
        }

        @Override
        public void allocateKvCache(int blocks, int blockSize) {
        }

        @Override
        public StepOutput forward(StepBatch batch) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void copyBlock(int src, int dst) {
        }

        @Override
        public String describe() {
            return "fake";
        }
    }

    @Test
    void roundsRunUntilARoundCompilesNothing() {
        Runner r = new Runner(4);
        String line = SettledWarmup.run(r, r.jit::get);
        assertEquals(5, r.warmUps, "the first warm-up and three rounds compile, the fourth does not: " + line);
        assertTrue(line.contains("4 round(s) of 16 steps until the JIT settled (settled"), line);
    }

    @Test
    void aJitThatNeverSettlesStopsAtTheRoundLimitAndSaysSo() {
        Runner r = new Runner(Integer.MAX_VALUE);
        String line = SettledWarmup.run(r, r.jit::get);
        assertEquals(1 + SettledWarmup.MAX_ROUNDS, r.warmUps);
        assertTrue(line.contains("NOT settled"), line);
    }

    @Test
    void withoutJitTimeItWarmsUpOnce() {
        Runner r = new Runner(0);
        assertTrue(SettledWarmup.run(r, null).contains("warmed up once"));
        assertEquals(1, r.warmUps);
    }
}
