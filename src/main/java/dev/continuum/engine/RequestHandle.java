package dev.continuum.engine;

/** The caller's side of a submitted request: lets it cancel (a client disconnect, say). */
public final class RequestHandle {
    private volatile boolean cancelled;

    /** Asks the engine to stop this request and free its KV blocks at its next step. */
    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }
}
