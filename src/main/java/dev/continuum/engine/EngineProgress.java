package dev.continuum.engine;

/**
 * The engine loop's heartbeat: when it last finished a step. The loop finishes a step at least every ~100 ms even
 * when idle (it polls the queue with that timeout), so a long silence means a step is stuck (a hung kernel or
 * device) while work waits; readiness reads this so a hung engine stops receiving traffic.
 */
public final class EngineProgress {
    private volatile long lastStepNanos = System.nanoTime();

    void stepFinished() {
        lastStepNanos = System.nanoTime();
    }

    /** Nanoseconds since the engine last finished a step (or started, before its first). */
    public long nanosSinceLastStep() {
        return System.nanoTime() - lastStepNanos;
    }

    /** True when no step has finished for longer than {@code boundNanos}. */
    public boolean stalled(long boundNanos) {
        return nanosSinceLastStep() > boundNanos;
    }
}
