package dev.continuum.engine;

/**
 * The waiting queue is at one of its limits; the caller should retry after {@link #retryAfterSeconds()} (HTTP 429
 * with Retry-After), which the engine estimates from the queued work and its recent throughput.
 */
public final class QueueFullException extends RuntimeException {
    /** Which admission limit refused the request. */
    public enum Limit {
        /** {@code max-waiting} requests already queued. */
        REQUESTS,
        /** The queued prompt and max_tokens tokens would pass {@code max-waiting-tokens}. */
        TOKENS
    }

    private final Limit limit;
    private final int retryAfterSeconds;

    public QueueFullException(Limit limit, String message, int retryAfterSeconds) {
        super(message);
        this.limit = limit;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public Limit limit() {
        return limit;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
