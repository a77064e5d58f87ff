package dev.continuum.engine;

/**
 * The engine's limits.
 *
 * @param maxNumSeqs          sequences decoding at once (a request with n choices counts n)
 * @param maxBatchedTokens    tokens one forward step may process: the prefill chunk budget
 * @param maxWaiting          requests queued before new ones are refused with 429
 * @param blockSize           tokens per KV block
 * @param kvBlocks            KV blocks in the pool
 * @param maxModelLen         longest sequence (prompt + completion) served
 */
public record EngineConfig(int maxNumSeqs, int maxBatchedTokens, int maxWaiting, int blockSize, int kvBlocks,
                           int maxModelLen) {
    /** Positions per KV block unless configured otherwise (vLLM's default too), as text for configuration defaults. */
    public static final String DEFAULT_BLOCK_SIZE_TEXT = "16";
    /** Positions per KV block unless configured otherwise. */
    public static final int DEFAULT_BLOCK_SIZE = Integer.parseInt(DEFAULT_BLOCK_SIZE_TEXT);

    public EngineConfig {
        if (maxNumSeqs < 1 || maxBatchedTokens < 1 || maxWaiting < 1 || blockSize < 1 || kvBlocks < 1
                || maxModelLen < 2) {
            throw new IllegalArgumentException("engine limits must be positive: " + this);
        }
        if ((long) kvBlocks * blockSize < maxModelLen) {
            throw new IllegalArgumentException("the KV cache (" + kvBlocks + " blocks of " + blockSize
                    + " tokens) cannot hold one sequence of max-model-len " + maxModelLen);
        }
    }
}
