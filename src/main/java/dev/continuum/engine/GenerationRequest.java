package dev.continuum.engine;

import dev.continuum.sampling.SamplingParams;

import java.util.List;

/**
 * One validated generation request as the engine sees it: token ids and limits, nothing of HTTP.
 *
 * @param n          parallel choices sampled from the same prompt (choice i uses seed + i)
 * @param logprobs   how many top alternatives to report per token, or -1 for no log-probabilities
 * @param stop       strings that end a choice when they appear in its text (not included in it)
 */
public record GenerationRequest(String id, int[] prompt, int maxTokens, SamplingParams sampling, List<String> stop,
                                boolean ignoreEos, int n, int logprobs) {
    public GenerationRequest {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        if (maxTokens < 0 || n < 1 || logprobs < -1) {
            throw new IllegalArgumentException("invalid request limits");
        }
        stop = List.copyOf(stop);
    }
}
