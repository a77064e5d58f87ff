package dev.continuum.engine;

/** The waiting queue is at its limit; the caller should retry later (HTTP 429). */
public final class QueueFullException extends RuntimeException {
    public QueueFullException(int limit) {
        super("the server is at capacity: " + limit + " requests are already waiting; retry later");
    }
}
