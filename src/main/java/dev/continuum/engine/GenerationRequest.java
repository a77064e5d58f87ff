package dev.continuum.engine;

import dev.continuum.sampling.SamplingParams;

import java.util.List;

/**
 * One validated generation request as the engine sees it: token ids and limits, nothing of HTTP.
 *
 * @param maxTokens    tokens each choice may generate, at least 1: a choice always samples a token after its
 *                     prompt, so a caller that allows 0 (the HTTP API, {@code generate}) answers it itself with
 *                     no tokens and finish reason length, without the engine
 * @param n            parallel choices sampled from the same prompt (choice i uses seed + i)
 * @param logprobs     how many top alternatives to report per token, or -1 for no log-probabilities
 * @param stop         strings that end a choice when they appear in its text (not included in it)
 * @param minTokens    tokens each choice generates before EOS, a stop token or a stop string may end it
 * @param stopTokenIds tokens that end a choice (finish reason stop) without being part of its text
 * @param speculative  whether the engine may speculate on this request's choices when it is configured to (the
 *                     output is the same either way; {@code false} opts out of the extra verification rows)
 */
public record GenerationRequest(String id, int[] prompt, int maxTokens, SamplingParams sampling, List<String> stop,
                                boolean ignoreEos, int n, int logprobs, int minTokens, int[] stopTokenIds,
                                boolean speculative) {
    private static final int[] NO_TOKENS = new int[0];

    /** Without min_tokens or stop tokens. */
    public GenerationRequest(String id, int[] prompt, int maxTokens, SamplingParams sampling, List<String> stop,
                             boolean ignoreEos, int n, int logprobs) {
        this(id, prompt, maxTokens, sampling, stop, ignoreEos, n, logprobs, 0, NO_TOKENS);
    }

    /** Speculation allowed. */
    public GenerationRequest(String id, int[] prompt, int maxTokens, SamplingParams sampling, List<String> stop,
                             boolean ignoreEos, int n, int logprobs, int minTokens, int[] stopTokenIds) {
        this(id, prompt, maxTokens, sampling, stop, ignoreEos, n, logprobs, minTokens, stopTokenIds, true);
    }

    public GenerationRequest {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max_tokens must be at least 1, got " + maxTokens
                    + " (a request for 0 tokens is answered without the engine: no tokens, finish reason length)");
        }
        if (n < 1 || logprobs < -1 || minTokens < 0) {
            throw new IllegalArgumentException("invalid request limits");
        }
        stop = List.copyOf(stop);
        stopTokenIds = stopTokenIds == null ? NO_TOKENS : stopTokenIds.clone();
    }

    /** Whether {@code token} is one of {@link #stopTokenIds}; a short list, scanned without allocating. */
    public boolean isStopToken(int token) {
        for (int t : stopTokenIds) {
            if (t == token) {
                return true;
            }
        }
        return false;
    }
}
