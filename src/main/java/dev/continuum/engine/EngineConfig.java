package dev.continuum.engine;

import java.time.Duration;

/**
 * The engine's limits.
 *
 * @param maxNumSeqs          sequences decoding at once (a request with n choices counts n)
 * @param maxBatchedTokens    tokens one forward step may process: the prefill chunk budget
 * @param maxWaiting          requests queued before new ones are refused with 429
 * @param blockSize           tokens per KV block
 * @param kvBlocks            KV blocks in the pool
 * @param maxModelLen         longest sequence (prompt + completion) served
 * @param maxWaitingTokens    work queued (prompt + n x max_tokens tokens of the requests not yet scheduled) before
 *                            new ones are refused with 429; one request alone is always queued
 * @param requestTimeout      the longest a request may take from submission; past it the request ends with
 *                            {@link FinishReason#TIMEOUT} and frees its blocks
 */
public record EngineConfig(int maxNumSeqs, int maxBatchedTokens, int maxWaiting, int blockSize, int kvBlocks,
                           int maxModelLen, long maxWaitingTokens, Duration requestTimeout) {
    /** Positions per KV block unless configured otherwise (vLLM's default too), as text for configuration defaults. */
    public static final String DEFAULT_BLOCK_SIZE_TEXT = "16";
    /** Positions per KV block unless configured otherwise. */
    public static final int DEFAULT_BLOCK_SIZE = Integer.parseInt(DEFAULT_BLOCK_SIZE_TEXT);
    /** Queued work before 429 unless configured otherwise, as text for configuration defaults. */
    public static final String DEFAULT_MAX_WAITING_TOKENS_TEXT = "1048576";
    /** Request deadline unless configured otherwise, as text for configuration defaults. */
    public static final String DEFAULT_REQUEST_TIMEOUT_TEXT = "600s";
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(600);

    public EngineConfig {
        if (maxNumSeqs < 1 || maxBatchedTokens < 1 || maxWaiting < 1 || blockSize < 1 || kvBlocks < 1
                || maxModelLen < 2 || maxWaitingTokens < 1 || requestTimeout == null || requestTimeout.isNegative()
                || requestTimeout.isZero()) {
            throw new IllegalArgumentException("engine limits must be positive: " + this);
        }
        if ((long) kvBlocks * blockSize < maxModelLen) {
            throw new IllegalArgumentException("the KV cache (" + kvBlocks + " blocks of " + blockSize
                    + " tokens) cannot hold one sequence of max-model-len " + maxModelLen);
        }
    }

    /** The limits with the default token admission limit and request timeout. */
    public EngineConfig(int maxNumSeqs, int maxBatchedTokens, int maxWaiting, int blockSize, int kvBlocks,
                        int maxModelLen) {
        this(maxNumSeqs, maxBatchedTokens, maxWaiting, blockSize, kvBlocks, maxModelLen,
                Long.parseLong(DEFAULT_MAX_WAITING_TOKENS_TEXT), DEFAULT_REQUEST_TIMEOUT);
    }
}
