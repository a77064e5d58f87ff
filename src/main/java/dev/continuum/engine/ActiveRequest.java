package dev.continuum.engine;

/** A request inside the engine: its choices' shared bookkeeping, its deadline and timings for the metrics. */
final class ActiveRequest {
    final GenerationRequest request;
    final TokenSink sink;
    final RequestHandle handle;
    final long arrivalNanos;
    /** System.nanoTime() past which the request ends with {@link FinishReason#TIMEOUT}. */
    final long deadlineNanos;
    /** Its tokens of work while it waits: prompt + n x max_tokens (see {@link WaitingWork}). */
    final long work;
    long firstScheduledNanos;
    long firstTokenNanos;
    long lastTokenNanos;
    int choicesLeft;
    int completionTokens;
    boolean failed;
    /** The sink got a call in the current step and is in the scheduler's list for {@link TokenSink#onStepEnd}. */
    boolean calledThisStep;

    ActiveRequest(GenerationRequest request, TokenSink sink, RequestHandle handle, long arrivalNanos,
                  long deadlineNanos) {
        this.request = request;
        this.sink = sink;
        this.handle = handle;
        this.arrivalNanos = arrivalNanos;
        this.deadlineNanos = deadlineNanos;
        this.work = WaitingWork.workOf(request);
        this.choicesLeft = request.n();
    }
}
