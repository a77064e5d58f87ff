package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.sampling.LogitBias;
import dev.continuum.sampling.SamplingParams;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The sampling and output fields shared by completions and chat completions, validated.
 *
 * @param maxTokens null when the client did not set it (chat then fills the context)
 * @param logprobs  top alternatives per token, or -1 when log-probabilities were not asked for
 * @param minTokens tokens generated before EOS, a stop token or a stop string may end a choice
 * @param stopTokenIds token ids that end a choice (not part of its text)
 * @param speculative  false opts the request out of speculative decoding (the output is the same either way)
 */
record GenerationParams(String model, Integer maxTokens, SamplingParams sampling, int n, List<String> stop,
                        boolean stream, boolean includeUsage, int logprobs, boolean ignoreEos, boolean echo,
                        int minTokens, int[] stopTokenIds, boolean speculative) {
    static final int MAX_LOGPROBS = 20;
    static final int MAX_STOP = 16;
    static final int MAX_STOP_TOKEN_IDS = 64;
    static final int MAX_LOGIT_BIAS = 1024;

    /** Parses and validates every field; {@code vocab} bounds the token ids of logit_bias and stop_token_ids. */
    static GenerationParams parse(JsonFields f, int maxN, boolean chat, int vocab) {
        FieldPolicy.check(f, chat);
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
            if (!f.raw("stream_options").isObject()) {
                throw ApiException.invalid("stream_options", "'stream_options' must be an object");
            }
            JsonFields options = new JsonFields(f.raw("stream_options"));
            FieldPolicy.checkStreamOptions(options);
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
        int minTokens = (int) f.integer("min_tokens", 0, 0, Integer.MAX_VALUE);
        if (maxTokens != null && minTokens > maxTokens) {
            throw ApiException.invalid("min_tokens", "'min_tokens' (" + minTokens + ") exceeds '" + maxName + "' ("
                    + maxTokens + ")");
        }
        int[] stopTokenIds = tokenIds(f, "stop_token_ids", vocab);
        boolean speculative = f.bool("speculative", true);
        checkBestOf(f, n);
        checkResponseFormat(f);
        checkNoEffectFields(f);
        SamplingParams sampling = new SamplingParams(temperature, topK < 0 ? 0 : topK, topP, minP, presence,
                frequency, repetition, seed, logitBias(f, vocab));
        return new GenerationParams(model, maxTokens, sampling, n, stop, stream, includeUsage, logprobs, ignoreEos,
                echo, minTokens, stopTokenIds, speculative);
    }

    /** {@code logit_bias}: an object from token id (as a string, JSON keys are strings) to a bias in [-100, 100]. */
    private static LogitBias logitBias(JsonFields f, int vocab) {
        JsonNode n = f.raw("logit_bias");
        if (n == null) {
            return LogitBias.NONE;
        }
        if (!n.isObject()) {
            throw ApiException.invalid("logit_bias", "'logit_bias' must be an object mapping token ids to biases");
        }
        if (n.size() > MAX_LOGIT_BIAS) {
            throw ApiException.invalid("logit_bias", "'logit_bias' has " + n.size() + " entries; at most "
                    + MAX_LOGIT_BIAS);
        }
        int[] tokens = new int[n.size()];
        float[] biases = new float[n.size()];
        int i = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); i++) {
            Map.Entry<String, JsonNode> e = it.next();
            int token;
            try {
                token = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                token = -1;
            }
            if (token < 0 || token >= vocab || !e.getKey().equals(Integer.toString(token))) {
                throw ApiException.invalid("logit_bias", "'logit_bias' keys must be token ids in [0, " + vocab
                        + "), got '" + e.getKey() + "'");
            }
            JsonNode v = e.getValue();
            if (!v.isNumber() || !(v.asDouble() >= -LogitBias.MAX && v.asDouble() <= LogitBias.MAX)) {
                throw ApiException.invalid("logit_bias", "'logit_bias' values must be numbers in [-100, 100], got "
                        + v + " for token " + token);
            }
            tokens[i] = token;
            biases[i] = (float) v.asDouble();
        }
        return new LogitBias(tokens, biases);
    }

    private static int[] tokenIds(JsonFields f, String name, int vocab) {
        JsonNode n = f.raw(name);
        if (n == null) {
            return new int[0];
        }
        if (!n.isArray() || n.size() > MAX_STOP_TOKEN_IDS) {
            throw ApiException.invalid(name, "'" + name + "' must be an array of at most " + MAX_STOP_TOKEN_IDS
                    + " token ids");
        }
        int[] ids = new int[n.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = n.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 0 || e.asInt() >= vocab) {
                throw ApiException.invalid(name, "'" + name + "' entries must be token ids in [0, " + vocab + ")");
            }
            ids[i] = e.asInt();
        }
        return ids;
    }

    /** {@code best_of} > n would rank candidates by likelihood, which this server does not do. */
    private static void checkBestOf(JsonFields f, int n) {
        if (f.has("best_of")) {
            long bestOf = f.integer("best_of", 1, 1, Integer.MAX_VALUE);
            if (bestOf != 1 && bestOf != n) {
                throw ApiException.invalid("best_of", "'best_of' other than 1 or n is not supported (got " + bestOf
                        + ", n = " + n + ")");
            }
        }
    }

    /** {@code response_format}: plain text is what every answer is; JSON modes would need constrained decoding. */
    private static void checkResponseFormat(JsonFields f) {
        JsonNode n = f.raw("response_format");
        if (n == null) {
            return;
        }
        JsonFields rf = new JsonFields(n);
        String type = rf.string("type", null);
        if (!"text".equals(type)) {
            throw ApiException.invalid("response_format", "'response_format' of type '" + type
                    + "' is not supported; only {\"type\": \"text\"}");
        }
        for (String name : rf.names()) {
            if (!name.equals("type")) {
                throw ApiException.invalid("response_format", "unknown field 'response_format." + name + "'");
            }
        }
    }

    /** Fields accepted because they change nothing about the output; still type-checked as OpenAI does. */
    private static void checkNoEffectFields(JsonFields f) {
        f.string("user", null);
        f.string("service_tier", null);
        f.bool("store", false);
        JsonNode metadata = f.raw("metadata");
        if (metadata != null && !metadata.isObject()) {
            throw ApiException.invalid("metadata", "'metadata' must be an object");
        }
    }
}
