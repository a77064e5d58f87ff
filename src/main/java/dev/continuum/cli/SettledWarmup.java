package dev.continuum.cli;

import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.WarmupReport;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Warms a runner up until the JIT has settled, so that what {@code generate} then times is the steady state: a
 * fixed short warm-up left hot methods compiling inside the timed window (its decode figure came out 20-25% under
 * {@code bench}'s on the same file). Rounds of decode steps run until one adds less JIT time than
 * {@value #SETTLED_FRACTION} of its own duration, or {@value #MAX_ROUNDS} rounds, or {@value #BUDGET_SECONDS} s.
 */
final class SettledWarmup {
    static final double SETTLED_FRACTION = 0.02;
    static final int MAX_ROUNDS = 8;
    static final int BUDGET_SECONDS = 60;
    private static final int STEPS_PER_ROUND = 16;

    private SettledWarmup() {
    }

    /** Warms {@code runner} up; returns a line saying what was done and whether the JIT settled. */
    static String run(ModelRunner runner) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean measurable = jit != null && jit.isCompilationTimeMonitoringSupported();
        return run(runner, measurable ? jit::getTotalCompilationTime : null);
    }

    /** As {@link #run(ModelRunner)}, reading the JIT's accumulated compilation milliseconds from {@code jitMillis}. */
    static String run(ModelRunner runner, LongSupplier jitMillis) {
        boolean measurable = jitMillis != null;
        long start = System.nanoTime();
        WarmupReport first = runner.warmUp(8);
        if (!measurable) {
            return first.detail() + "; JIT time not measurable here, warmed up once";
        }
        int rounds = 0;
        double lastFraction = 1;
        while (rounds < MAX_ROUNDS && System.nanoTime() - start < BUDGET_SECONDS * 1_000_000_000L) {
            long jitBefore = jitMillis.getAsLong();
            long t0 = System.nanoTime();
            runner.warmUp(STEPS_PER_ROUND);
            double roundMs = (System.nanoTime() - t0) / 1e6;
            lastFraction = (jitMillis.getAsLong() - jitBefore) / Math.max(1, roundMs);
            rounds++;
            if (lastFraction < SETTLED_FRACTION) {
                break;
            }
        }
        return String.format(Locale.ROOT, "%s; then %d round(s) of %d steps until the JIT settled (%s: last round"
                        + " %.1f%% JIT time), %.2f s in all", first.detail(), rounds, STEPS_PER_ROUND,
                lastFraction < SETTLED_FRACTION ? "settled" : "NOT settled", 100 * lastFraction,
                (System.nanoTime() - start) / 1e9);
    }
}
