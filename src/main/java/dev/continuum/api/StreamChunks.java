package dev.continuum.api;

import dev.continuum.engine.TokenEvent;
import dev.continuum.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The SSE event of one streamed chunk, written straight as text: the very characters Jackson writes for the tree
 * of {@link ResponseFormat#envelope} and {@link ResponseFormat#chunkChoice} (same keys in the same order, strings
 * escaped as its default generator escapes them, floats as {@link Float#toString}, non-finite ones quoted),
 * without building the tree. The part before the choice's index is the same for every chunk of a call and is
 * built once. A token cost an envelope, a choice, a delta and their maps, a generator and two concatenations;
 * now it costs appending to one reused builder. {@code StreamChunksTest} holds it to the tree's bytes.
 */
final class StreamChunks {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private final ResponseFormat format;
    private final String head;
    private final boolean includeUsage;
    private final StringBuilder out = new StringBuilder(256);

    StreamChunks(ResponseFormat format, String id, long created, String model, boolean includeUsage) {
        this.format = format;
        this.includeUsage = includeUsage;
        StringBuilder h = new StringBuilder("data: {\"id\":");
        string(h, id);
        h.append(",\"object\":");
        string(h, format.chunkObject);
        h.append(",\"created\":").append(created).append(",\"model\":");
        string(h, model);
        h.append(",\"choices\":[{\"index\":");
        this.head = h.toString();
    }

    /**
     * {@code data: <chunk>\n\n} for choice {@code index}; {@code logprobs} is that token's event (its text starting
     * at {@code textOffset} of the choice) or null for {@code "logprobs":null}; {@code tok} is needed only with it.
     */
    String event(int index, String text, TokenEvent logprobs, Tokenizer tok, int textOffset, String finishReason,
                 boolean first) {
        StringBuilder b = out;
        b.setLength(0);
        b.append(head).append(index);
        if (format == ResponseFormat.COMPLETION) {
            b.append(",\"text\":");
            string(b, text);
        } else {
            b.append(",\"delta\":{");
            if (first) {
                b.append("\"role\":\"assistant\"");
            }
            if (!text.isEmpty() || (first && finishReason == null)) {
                b.append(first ? ",\"content\":" : "\"content\":");
                string(b, text);
            }
            b.append('}');
        }
        b.append(",\"logprobs\":");
        if (logprobs == null) {
            b.append("null");
        } else {
            logprobs(b, logprobs, tok, textOffset);
        }
        b.append(",\"finish_reason\":");
        if (finishReason == null) {
            b.append("null");
        } else {
            string(b, finishReason);
        }
        b.append("}]");
        if (includeUsage) {
            b.append(",\"usage\":null");
        }
        b.append("}\n\n");
        return b.toString();
    }

    /** One token's log-probabilities as {@link ResponseFormat#addLogprobs} puts them into a fresh container. */
    private void logprobs(StringBuilder b, TokenEvent e, Tokenizer tok, int textOffset) {
        int[] top = e.topTokens();
        if (format == ResponseFormat.COMPLETION) {
            b.append("{\"tokens\":[");
            string(b, tokenText(tok, e.token()));
            b.append("],\"token_logprobs\":[");
            number(b, e.logprob());
            b.append("],\"top_logprobs\":[{");
            if (top != null) {
                topObject(b, e, tok);
            }
            b.append("}],\"text_offset\":[").append(textOffset).append("]}");
        } else {
            b.append("{\"content\":[");
            tokenEntry(b, tok, e.token(), e.logprob());
            b.setLength(b.length() - 1); // reopen the entry for its alternatives
            b.append(",\"top_logprobs\":[");
            if (top != null) {
                for (int i = 0; i < top.length; i++) {
                    if (i > 0) {
                        b.append(',');
                    }
                    tokenEntry(b, tok, top[i], e.topLogprobs()[i]);
                }
            }
            b.append("]}]}");
        }
    }

    /**
     * Completions' {@code top_logprobs} object, text to log-probability. Two alternatives with the same text (two
     * ids of one spelling) are one key, as in the tree's map: at the first one's place, with the last one's value.
     */
    private static void topObject(StringBuilder b, TokenEvent e, Tokenizer tok) {
        int[] top = e.topTokens();
        String[] texts = new String[top.length];
        for (int i = 0; i < top.length; i++) {
            texts[i] = tokenText(tok, top[i]);
        }
        boolean any = false;
        for (int i = 0; i < top.length; i++) {
            int last = i;
            boolean seen = false;
            for (int j = 0; j < top.length; j++) {
                if (texts[j].equals(texts[i])) {
                    if (j < i) {
                        seen = true;
                    }
                    last = j;
                }
            }
            if (seen) {
                continue;
            }
            if (any) {
                b.append(',');
            }
            any = true;
            string(b, texts[i]);
            b.append(':');
            number(b, e.topLogprobs()[last]);
        }
    }

    private static void tokenEntry(StringBuilder b, Tokenizer tok, int id, float logprob) {
        b.append("{\"token\":");
        string(b, tokenText(tok, id));
        b.append(",\"logprob\":");
        number(b, logprob);
        b.append(",\"bytes\":[");
        byte[] bytes = tok.tokenBytes(id);
        for (int i = 0; i < bytes.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(bytes[i] & 0xFF);
        }
        b.append("]}");
    }

    private static String tokenText(Tokenizer tok, int id) {
        return new String(tok.tokenBytes(id), StandardCharsets.UTF_8);
    }

    /** A float as Jackson writes one: the shortest decimal that round-trips, NaN and infinities as strings. */
    static void number(StringBuilder b, float f) {
        if (Float.isFinite(f)) {
            b.append(f);
        } else {
            b.append('"').append(f).append('"');
        }
    }

    /**
     * A JSON string as Jackson's default generator escapes it: quote and backslash with a backslash, the control
     * characters below U+0020 as {@code \b \t \n \f \r} or {@code \\u00XX} (upper-case hex), everything else as is
     * (a lone surrogate too: it becomes '?' when the text is encoded, as before).
     */
    static void string(StringBuilder b, String s) {
        b.append('"');
        int n = s.length();
        int run = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\') {
                continue;
            }
            b.append(s, run, i);
            run = i + 1;
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\b' -> b.append("\\b");
                case '\t' -> b.append("\\t");
                case '\n' -> b.append("\\n");
                case '\f' -> b.append("\\f");
                case '\r' -> b.append("\\r");
                default -> b.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        b.append(s, run, n).append('"');
    }
}
