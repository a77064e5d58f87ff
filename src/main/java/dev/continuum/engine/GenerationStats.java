package dev.continuum.engine;

/** Counts and timings of one generation, for the CLI's summary line and for benchmarks. */
public record GenerationStats(int promptTokens, int generatedTokens, long prefillNanos, long decodeNanos,
                              String stopReason) {
    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
    }

    /** Tokens decoded after the first one (which the prefill produced), per second of decoding. */
    public double decodeTokensPerSecond() {
        return decodeNanos == 0 ? 0 : Math.max(0, generatedTokens - 1) * 1e9 / decodeNanos;
    }
}
