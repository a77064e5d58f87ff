package dev.continuum.bench;

/** Arrival times of one benchmark request's tokens, in nanoseconds since the run started. */
final class RequestTrace {
    final long[] tokenTimes;
    int tokens;
    long submitted;

    RequestTrace(int capacity) {
        tokenTimes = new long[capacity + 1];
    }

    synchronized void token(long t) {
        if (tokens < tokenTimes.length) {
            tokenTimes[tokens++] = t;
        }
    }
}
