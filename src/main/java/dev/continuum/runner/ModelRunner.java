package dev.continuum.runner;

/**
 * The one seam between the engine and whatever computes the model: the CPU's vector kernels today, a GPU or a
 * different architecture tomorrow. The engine plans (which tokens of which sequences run this step, which KV
 * blocks hold them) and samples; the runner owns the weights in its own layout and the KV data in its own
 * storage, and runs forward passes over flattened ragged batches.
 *
 * <p>Blocks are named by the engine's block manager: block {@code b} of the runner's KV storage holds
 * {@code blockSize} consecutive positions of whichever sequence the batch's block tables assign it to. The runner
 * never allocates or frees blocks; it only reads and writes the ones the batch names.
 *
 * <p>Single-threaded: one caller (the engine thread) drives it.
 */
public interface ModelRunner extends AutoCloseable {
    /** What the engine needs to plan: vocabulary, context length, KV bytes per token. */
    ModelShape shape();

    /**
     * Allocates (or replaces) KV storage for {@code blocks} blocks of {@code blockSize} positions each. Must be
     * called before the first {@link #forward}; any earlier storage and its contents are dropped.
     */
    void allocateKvCache(int blocks, int blockSize);

    /**
     * Runs one step: every row of {@code batch} writes its token's keys and values at its position into the
     * block its sequence's table names, attends to its sequence's positions up to its own, and the rows the
     * batch asks logits for are returned, in the order asked. The output is the runner's own buffer, valid until
     * the next call.
     */
    StepOutput forward(StepBatch batch);

    /** Copies block {@code src}'s keys and values, all layers, into block {@code dst} (forking a partial block). */
    void copyBlock(int src, int dst);

    /**
     * Brings the runner to full speed before it serves or is measured (JIT compilation, kernel selection, graph
     * capture), with about {@code decodeSteps} decode steps of a short prompt; 0 skips the model part. Runs on
     * storage of its own: the KV cache allocated for the engine is left as it was.
     */
    WarmupReport warmUp(int decodeSteps);

    /** Which backend and device run the model; the default names none (test runners). */
    default RunnerBackend backend() {
        return new RunnerBackend("unknown", describe());
    }

    /** A one-line description of the backend for logs, e.g. {@code "CPU, 2 threads, Vector API 512-bit"}. */
    String describe();

    /** Releases what the runner holds beyond the heap (device memory, streams); the default holds nothing. */
    @Override
    default void close() {
    }
}
