package dev.continuum.api;

import java.util.Map;
import java.util.Set;

/**
 * Which request fields the generation endpoints honour. A field is either honoured (it changes the output as
 * OpenAI documents), accepted because it changes nothing about the output ({@link #NO_EFFECT}), or refused with a
 * 400 naming it: the features this server does not have ({@link #UNSUPPORTED}) and every name it does not know.
 * Silently dropping a field would hand the client an answer to a different question than the one it asked.
 */
final class FieldPolicy {
    private static final Set<String> SHARED = Set.of("model", "max_tokens", "temperature", "top_p", "top_k",
            "min_p", "presence_penalty", "frequency_penalty", "repetition_penalty", "seed", "n", "stop", "stream",
            "stream_options", "ignore_eos", "logit_bias", "min_tokens", "stop_token_ids", "best_of",
            "response_format", "logprobs", "timeout", "speculative");
    private static final Set<String> COMPLETION = Set.of("prompt", "echo");
    private static final Set<String> CHAT = Set.of("messages", "max_completion_tokens", "top_logprobs");
    /** Bookkeeping for the client's side (OpenAI stores or bills by them); the generated text is the same. */
    static final Set<String> NO_EFFECT = Set.of("user", "metadata", "store", "service_tier");
    private static final Set<String> STREAM_OPTIONS = Set.of("include_usage");
    static final Map<String, String> UNSUPPORTED = Map.of(
            "tools", "tool calling is not supported by this server",
            "tool_choice", "tool calling is not supported by this server",
            "parallel_tool_calls", "tool calling is not supported by this server",
            "functions", "function calling is not supported by this server",
            "function_call", "function calling is not supported by this server",
            "suffix", "'suffix' (insertion) is not supported by this server");

    private FieldPolicy() {
    }

    /** Refuses the first field of the body that the endpoint does not honour or knowingly ignore. */
    static void check(JsonFields f, boolean chat) {
        for (String name : f.names()) {
            String unsupported = UNSUPPORTED.get(name);
            if (unsupported != null) {
                if (f.has(name)) { // an explicit null asks for nothing
                    throw ApiException.invalid(name, unsupported);
                }
                continue;
            }
            if (!SHARED.contains(name) && !NO_EFFECT.contains(name) && !(chat ? CHAT : COMPLETION).contains(name)) {
                boolean other = (chat ? COMPLETION : CHAT).contains(name);
                throw ApiException.invalid(name, "unknown field '" + name + "'" + (other
                        ? ": it belongs to " + (chat ? "/v1/completions" : "/v1/chat/completions")
                        : "; this server refuses fields it does not honour"));
            }
        }
    }

    /**
     * A chat message: {@code role} and {@code content} are what the template renders; {@code name},
     * {@code tool_calls}, {@code tool_call_id} and anything else would be dropped on the way, so they are refused.
     */
    static void checkMessage(JsonFields message, int index) {
        for (String name : message.names()) {
            if (!name.equals("role") && !name.equals("content") && message.has(name)) {
                throw ApiException.invalid("messages", "'messages[" + index + "]." + name + "' is not supported;"
                        + " messages carry only 'role' and 'content' here");
            }
        }
    }

    /** {@code stream_options}: only {@code include_usage} is honoured. */
    static void checkStreamOptions(JsonFields options) {
        for (String name : options.names()) {
            if (!STREAM_OPTIONS.contains(name)) {
                throw ApiException.invalid("stream_options", "unknown field 'stream_options." + name + "'");
            }
        }
    }
}
