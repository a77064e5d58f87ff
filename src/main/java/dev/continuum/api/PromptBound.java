package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * Refuses a prompt that cannot fit the context without tokenizing it: no token of the vocabulary stands for more
 * than {@code maxBytesPerToken} bytes of text, so a prompt of B UTF-8 bytes has at least
 * {@code ceil(B / maxBytesPerToken)} tokens. When that bound alone reaches max-model-len the prompt is refused
 * in O(B) character counting instead of seconds of tokenizing (a 10 MB prompt took 8-35 s).
 */
final class PromptBound {
    private final Tokenizer tokenizer;
    private final int maxBytesPerToken;

    PromptBound(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        int max = 1;
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            // The piece as stored can be longer than the text it stands for (SentencePiece's "▁", GPT-2's byte
            // map, "<0x0A>"), never shorter; a special token matched in the text stands for its piece.
            max = Math.max(max, Math.max(tokenizer.tokenBytes(id).length,
                    tokenizer.piece(id).getBytes(StandardCharsets.UTF_8).length));
        }
        this.maxBytesPerToken = max;
    }

    Tokenizer tokenizer() {
        return tokenizer;
    }

    int maxBytesPerToken() {
        return maxBytesPerToken;
    }

    /** The fewest tokens {@code text} can encode to, BOS included when the tokenizer adds one. */
    long minTokens(String text) {
        long bytes = utf8Length(text);
        return (bytes + maxBytesPerToken - 1) / maxBytesPerToken + (tokenizer.addBos() && tokenizer.bosId() >= 0 ? 1 : 0);
    }

    /** Checks each text prompt of a completion's {@code prompt} (a string or an array of strings). */
    void checkCompletion(JsonFields f, int maxModelLen) {
        JsonNode p = f.raw("prompt");
        if (p == null) {
            return;
        }
        if (p.isTextual()) {
            check(p.asText(), maxModelLen);
        } else if (p.isArray()) {
            for (JsonNode e : p) {
                if (e.isTextual()) {
                    check(e.asText(), maxModelLen);
                }
            }
        }
    }

    /** Checks a chat request's prompt as the template rendered it, before it is tokenized. */
    void checkChat(String rendered, int maxModelLen) {
        check(rendered, maxModelLen, "messages", "the rendered chat prompt");
    }

    private void check(String text, int maxModelLen) {
        check(text, maxModelLen, "prompt", "the prompt");
    }

    private void check(String text, int maxModelLen, String param, String what) {
        long min = minTokens(text);
        if (min >= maxModelLen) {
            throw new ApiException(400, "invalid_request_error", param, "context_length_exceeded",
                    what + " is " + utf8Length(text) + " bytes, so at least " + min + " tokens (no token of this"
                            + " model is longer than " + maxBytesPerToken + " bytes); the maximum context length"
                            + " (max-model-len) is " + maxModelLen + " tokens");
        }
    }

    /**
     * UTF-8 length without encoding: 1 byte below U+0080, 2 below U+0800, 4 for a surrogate pair, else 3; a lone
     * surrogate counts 1, as the encoder replaces it with '?'.
     */
    static long utf8Length(String s) {
        long n = 0;
        int len = s.length();
        for (int i = 0; i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                n++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
