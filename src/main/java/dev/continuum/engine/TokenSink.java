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
}
