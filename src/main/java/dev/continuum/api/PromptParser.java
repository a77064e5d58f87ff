package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.chat.ChatMessage;
import dev.continuum.chat.ChatTemplate;
import dev.continuum.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/** Turns the {@code prompt} of a completion or the {@code messages} of a chat into token ids. */
final class PromptParser {
    private PromptParser() {
    }

    /** {@code prompt}: a string, an array of strings, an array of token ids, or an array of such arrays. */
    static List<GenerationCall.Prompt> completion(JsonFields f, Tokenizer tok, boolean echo) {
        JsonNode p = f.raw("prompt");
        if (p == null) {
            throw ApiException.invalid("prompt", "'prompt' is required");
        }
        List<GenerationCall.Prompt> out = new ArrayList<>();
        if (p.isTextual()) {
            out.add(text(p.asText(), tok, echo));
        } else if (p.isArray() && !p.isEmpty()) {
            JsonNode first = p.get(0);
            if (first.isTextual()) {
                for (JsonNode e : p) {
                    if (!e.isTextual()) {
                        throw invalidPrompt();
                    }
                    out.add(text(e.asText(), tok, echo));
                }
            } else if (first.isIntegralNumber()) {
                out.add(ids(p, tok, echo));
            } else if (first.isArray()) {
                for (JsonNode e : p) {
                    if (!e.isArray() || e.isEmpty()) {
                        throw invalidPrompt();
                    }
                    out.add(ids(e, tok, echo));
                }
            } else {
                throw invalidPrompt();
            }
        } else {
            throw invalidPrompt();
        }
        return out;
    }

    /** {@code messages}: rendered through the chat template, then tokenized with special tokens recognised. */
    static GenerationCall.Prompt chat(JsonFields f, Tokenizer tok, ChatTemplate template) {
        return chat(f, tok, template, null, 0);
    }

    /**
     * As {@link #chat(JsonFields, Tokenizer, ChatTemplate)}, refusing a rendered prompt that cannot fit
     * {@code maxModelLen} tokens by its length alone ({@code bound}), before spending the time to tokenize it.
     */
    static GenerationCall.Prompt chat(JsonFields f, Tokenizer tok, ChatTemplate template, PromptBound bound,
                                      int maxModelLen) {
        JsonNode messages = f.raw("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiException.invalid("messages", "'messages' must be a non-empty array");
        }
        List<ChatMessage> list = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonFields mf = new JsonFields(messages.get(i));
            FieldPolicy.checkMessage(mf, i);
            String role = mf.string("role", null);
            if (role == null || !(role.equals("system") || role.equals("user") || role.equals("assistant")
                    || role.equals("developer") || role.equals("tool"))) {
                throw ApiException.invalid("messages", "each message needs a 'role' of system, user or assistant");
            }
            list.add(new ChatMessage(role.equals("developer") ? "system" : role, content(mf.raw("content"))));
        }
        String rendered;
        try {
            rendered = template.render(list, true);
        } catch (RuntimeException e) {
            throw ApiException.invalid("messages", "the chat template rejected the messages: " + e.getMessage());
        }
        if (bound != null) {
            bound.checkChat(rendered, maxModelLen);
        }
        int[] body = tok.encode(rendered, true);
        boolean needsBos = tok.addBos() && tok.bosId() >= 0 && (body.length == 0 || body[0] != tok.bosId());
        return new GenerationCall.Prompt(withBos(body, needsBos ? tok.bosId() : -1), null);
    }

    private static String content(JsonNode c) {
        if (c == null) {
            return "";
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                JsonNode type = part.get("type");
                if (type == null || !"text".equals(type.asText()) || !part.path("text").isTextual()) {
                    throw ApiException.invalid("messages", "only text content parts are supported");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiException.invalid("messages", "message 'content' must be a string or an array of text parts");
    }

    private static GenerationCall.Prompt text(String s, Tokenizer tok, boolean echo) {
        int[] body = tok.encode(s, true);
        int[] ids = withBos(body, tok.addBos() ? tok.bosId() : -1);
        if (ids.length == 0) {
            throw ApiException.invalid("prompt", "the prompt is empty");
        }
        return new GenerationCall.Prompt(ids, echo ? s : null);
    }

    private static GenerationCall.Prompt ids(JsonNode array, Tokenizer tok, boolean echo) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = array.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 0 || e.asInt() >= tok.vocabSize()) {
                throw ApiException.invalid("prompt", "token ids must be integers in [0, " + tok.vocabSize() + ")");
            }
            ids[i] = e.asInt();
        }
        return new GenerationCall.Prompt(ids, echo ? tok.decode(ids) : null);
    }

    private static int[] withBos(int[] body, int bos) {
        if (bos < 0) {
            return body;
        }
        int[] ids = new int[body.length + 1];
        ids[0] = bos;
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
    }

    private static ApiException invalidPrompt() {
        return ApiException.invalid("prompt",
                "'prompt' must be a string, an array of strings, an array of token ids, or an array of token-id arrays");
    }
}
