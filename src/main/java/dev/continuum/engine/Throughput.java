package dev.continuum.engine;

/**
 * The engine's recent throughput in tokens per second of step time (prompt and generated tokens alike), decayed
 * with a time constant of a few seconds so it follows load changes. Written by the engine thread only, read by
 * any; allocation-free. Idle time does not count: the queue drains at the rate steps run.
 */
final class Throughput {
    private static final double TIME_CONSTANT_NANOS = 5e9;

    private double tokens;
    private double nanos;
    private volatile double tokensPerSecond;

    /** One step processed {@code stepTokens} tokens in {@code stepNanos}. */
    void record(int stepTokens, long stepNanos) {
        if (stepTokens <= 0 || stepNanos <= 0) {
            return;
        }
        double keep = Math.exp(-stepNanos / TIME_CONSTANT_NANOS);
        tokens = tokens * keep + stepTokens;
        nanos = nanos * keep + stepNanos;
        tokensPerSecond = tokens * 1e9 / nanos;
    }

    /** Tokens per second over the recent steps; 0 before the first step. */
    double tokensPerSecond() {
        return tokensPerSecond;
    }

    /**
     * Seconds a client should wait before retrying: the queued work over the throughput, clamped to [1, 60]; 1
     * while nothing has been measured yet.
     */
    static int retryAfterSeconds(long queuedTokens, double tokensPerSecond) {
        if (tokensPerSecond <= 0) {
            return 1;
        }
        double seconds = Math.ceil(queuedTokens / tokensPerSecond);
        return (int) Math.max(1, Math.min(60, seconds));
    }
}
