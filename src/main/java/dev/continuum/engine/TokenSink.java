package dev.continuum.engine;

/**
 * Receives a request's output from the engine thread. Implementations must not block: they hand the data over
 * (to an HTTP response's event loop, a queue) and return.
 */
public interface TokenSink {
    void onToken(TokenEvent event);

    /** Choice {@code choice} has ended; {@code text} is any final text released at the end (may be empty). */
    void onFinish(int choice, FinishReason reason, String text, int promptTokens, int completionTokens);

    /** The request failed as a whole; no further calls follow. */
    void onError(String message);

    /**
     * The engine has finished a step in which this sink got at least one of the calls above: called once, on the
     * engine thread, after the step's last such call. A sink that hands each call over to another thread can hand
     * the step's calls over at once here instead (one wake-up of that thread per step, not one per token).
     */
    default void onStepEnd() {
    }
}
