package dev.continuum.api;

import dev.continuum.sampling.SamplingParams;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The sampling and output fields shared by completions and chat completions, validated.
 *
 * @param maxTokens null when the client did not set it (chat then fills the context)
 * @param logprobs  top alternatives per token, or -1 when log-probabilities were not asked for
 */
record GenerationParams(String model, Integer maxTokens, SamplingParams sampling, int n, List<String> stop,
                        boolean stream, boolean includeUsage, int logprobs, boolean ignoreEos, boolean echo) {
    static final int MAX_LOGPROBS = 20;
    static final int MAX_STOP = 16;

    static GenerationParams parse(JsonFields f, int maxN, boolean chat) {
        String model = f.string("model", null);
        Integer maxTokens = null;
        String maxName = chat && f.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        if (f.has(maxName)) {
            maxTokens = (int) f.integer(maxName, 0, 0, Integer.MAX_VALUE);
        } else if (!chat) {
            maxTokens = 16; // OpenAI's default for completions
        }
        float temperature = f.number("temperature", 1f, 0, false, 2);
        float topP = f.number("top_p", 1f, 0, true, 1);
        int topK = (int) f.integer("top_k", 0, -1, Integer.MAX_VALUE);
        float minP = f.number("min_p", 0f, 0, false, 1);
        float presence = f.number("presence_penalty", 0f, -2, false, 2);
        float frequency = f.number("frequency_penalty", 0f, -2, false, 2);
        float repetition = f.number("repetition_penalty", 1f, 0, true, 10);
        long seed = f.has("seed") ? f.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE)
                : ThreadLocalRandom.current().nextLong();
        int n = (int) f.integer("n", 1, 1, maxN);
        List<String> stop = f.stringOrList("stop", MAX_STOP);
        boolean stream = f.bool("stream", false);
        boolean includeUsage = false;
        if (f.has("stream_options")) {
            JsonFields options = new JsonFields(f.raw("stream_options"));
            includeUsage = options.bool("include_usage", false);
            if (!stream) {
                throw ApiException.invalid("stream_options", "'stream_options' is only allowed when 'stream' is true");
            }
        }
        int logprobs = -1;
        if (chat) {
            if (f.bool("logprobs", false)) {
                logprobs = (int) f.integer("top_logprobs", 0, 0, MAX_LOGPROBS);
            } else if (f.has("top_logprobs")) {
                throw ApiException.invalid("top_logprobs", "'top_logprobs' requires 'logprobs': true");
            }
        } else if (f.has("logprobs")) {
            logprobs = (int) f.integer("logprobs", 0, 0, MAX_LOGPROBS);
        }
        boolean ignoreEos = f.bool("ignore_eos", false);
        boolean echo = !chat && f.bool("echo", false);
        f.string("user", null); // accepted for compatibility, type-checked, unused
        SamplingParams sampling = new SamplingParams(temperature, topK < 0 ? 0 : topK, topP, minP, presence,
                frequency, repetition, seed);
        return new GenerationParams(model, maxTokens, sampling, n, stop, stream, includeUsage, logprobs, ignoreEos,
                echo);
    }
}
