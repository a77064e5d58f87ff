package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.continuum.engine.TokenEvent;
import dev.continuum.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The two OpenAI response dialects: legacy completions ({@code text}, {@code text_completion}) and chat
 * ({@code message}/{@code delta}, {@code chat.completion}); everything else about a call is shared.
 */
enum ResponseFormat {
    COMPLETION("text_completion", "text_completion"),
    CHAT("chat.completion", "chat.completion.chunk");

    final String object;
    final String chunkObject;

    ResponseFormat(String object, String chunkObject) {
        this.object = object;
        this.chunkObject = chunkObject;
    }

    ObjectNode envelope(ObjectMapper json, String id, long created, String model, boolean chunk) {
        ObjectNode n = json.createObjectNode();
        n.put("id", id);
        n.put("object", chunk ? chunkObject : object);
        n.put("created", created);
        n.put("model", model);
        n.putArray("choices");
        return n;
    }

    /** A streamed choice chunk; {@code first} marks chat's opening delta carrying the role. */
    ObjectNode chunkChoice(ObjectMapper json, int index, String text, JsonNode logprobs, String finishReason,
                           boolean first) {
        ObjectNode c = json.createObjectNode();
        c.put("index", index);
        if (this == COMPLETION) {
            c.put("text", text);
        } else {
            ObjectNode delta = c.putObject("delta");
            if (first) {
                delta.put("role", "assistant");
            }
            if (!text.isEmpty() || (first && finishReason == null)) {
                delta.put("content", text);
            }
        }
        c.set("logprobs", logprobs);
        c.put("finish_reason", finishReason);
        return c;
    }

    /** A complete choice for the non-streaming response. */
    ObjectNode fullChoice(ObjectMapper json, int index, String text, JsonNode logprobs, String finishReason) {
        ObjectNode c = json.createObjectNode();
        c.put("index", index);
        if (this == COMPLETION) {
            c.put("text", text);
        } else {
            ObjectNode message = c.putObject("message");
            message.put("role", "assistant");
            message.put("content", text);
        }
        c.set("logprobs", logprobs);
        c.put("finish_reason", finishReason);
        return c;
    }

    /** An empty log-probability container of this dialect. */
    ObjectNode newLogprobs(ObjectMapper json) {
        ObjectNode n = json.createObjectNode();
        if (this == COMPLETION) {
            n.putArray("tokens");
            n.putArray("token_logprobs");
            n.putArray("top_logprobs");
            n.putArray("text_offset");
        } else {
            n.putArray("content");
        }
        return n;
    }

    /** Appends one token's log-probabilities; {@code textOffset} is where its text starts in the choice. */
    void addLogprobs(ObjectMapper json, ObjectNode into, TokenEvent e, Tokenizer tok, int textOffset) {
        String token = tokenText(tok, e.token());
        if (this == COMPLETION) {
            ((ArrayNode) into.get("tokens")).add(token);
            ((ArrayNode) into.get("token_logprobs")).add(e.logprob());
            ObjectNode top = json.createObjectNode();
            if (e.topTokens() != null) {
                for (int i = 0; i < e.topTokens().length; i++) {
                    top.put(tokenText(tok, e.topTokens()[i]), e.topLogprobs()[i]);
                }
            }
            ((ArrayNode) into.get("top_logprobs")).add(top);
            ((ArrayNode) into.get("text_offset")).add(textOffset);
        } else {
            ObjectNode entry = tokenEntry(json, tok, e.token(), e.logprob());
            ArrayNode top = entry.putArray("top_logprobs");
            if (e.topTokens() != null) {
                for (int i = 0; i < e.topTokens().length; i++) {
                    top.add(tokenEntry(json, tok, e.topTokens()[i], e.topLogprobs()[i]));
                }
            }
            ((ArrayNode) into.get("content")).add(entry);
        }
    }

    private static ObjectNode tokenEntry(ObjectMapper json, Tokenizer tok, int id, float logprob) {
        ObjectNode n = json.createObjectNode();
        n.put("token", tokenText(tok, id));
        n.put("logprob", logprob);
        ArrayNode bytes = n.putArray("bytes");
        for (byte b : tok.tokenBytes(id)) {
            bytes.add(b & 0xFF);
        }
        return n;
    }

    private static String tokenText(Tokenizer tok, int id) {
        return new String(tok.tokenBytes(id), StandardCharsets.UTF_8);
    }
}
