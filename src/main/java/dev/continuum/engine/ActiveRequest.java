package dev.continuum.engine;

/** A request inside the engine: its choices' shared bookkeeping and timings for the metrics. */
final class ActiveRequest {
    final GenerationRequest request;
    final TokenSink sink;
    final RequestHandle handle;
    final long arrivalNanos;
    long firstScheduledNanos;
    long firstTokenNanos;
    long lastTokenNanos;
    int choicesLeft;
    int completionTokens;
    boolean failed;

    ActiveRequest(GenerationRequest request, TokenSink sink, RequestHandle handle, long arrivalNanos) {
        this.request = request;
        this.sink = sink;
        this.handle = handle;
        this.arrivalNanos = arrivalNanos;
        this.choicesLeft = request.n();
    }
}
