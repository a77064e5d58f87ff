package dev.continuum.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * A request body that is JSON text (RFC 8259) and nothing else: declared as {@code application/json} (UTF-8 if a
 * charset is named), valid UTF-8, one value with nothing after it, no duplicate keys, and no string that is not
 * Unicode (a lone surrogate from a {@code \ud800} escape). Lenient parsing would answer a request other than
 * the one sent: replacement characters for bad bytes, the first of two objects, the last of two keys.
 */
final class JsonBody {
    private JsonBody() {
    }

    /** 415 unless the declared media type is JSON in UTF-8. */
    static void checkContentType(String header) {
        if (header == null || header.isBlank()) {
            throw unsupported("the request has no Content-Type; send 'Content-Type: application/json'");
        }
        String[] parts = header.split(";");
        if (!parts[0].trim().toLowerCase(Locale.ROOT).equals("application/json")) {
            throw unsupported("Content-Type '" + header + "' is not supported; send 'application/json'");
        }
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].split("=", 2);
            if (kv[0].trim().equalsIgnoreCase("charset")) {
                String charset = kv.length < 2 ? "" : kv[1].trim().replace("\"", "");
                if (!charset.equalsIgnoreCase("utf-8")) {
                    throw unsupported("charset '" + charset + "' is not supported; JSON is UTF-8");
                }
            }
        }
    }

    /** Decodes and parses the body, or throws a 400 saying what is wrong with it. */
    static JsonNode parse(byte[] bytes, ObjectMapper json) {
        if (bytes == null || bytes.length == 0) {
            throw ApiException.invalid(null, "the request body is empty; expected a JSON object");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw ApiException.invalid(null, "the request body is not valid UTF-8");
        }
        if (text.isBlank()) {
            throw ApiException.invalid(null, "the request body is empty; expected a JSON object");
        }
        ObjectReader reader = json.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION);
        JsonNode tree;
        try {
            tree = reader.readTree(text);
        } catch (JacksonException e) {
            throw ApiException.invalid(null, "malformed JSON in the request body: " + e.getOriginalMessage());
        }
        rejectLoneSurrogates(tree);
        return tree;
    }

    private static void rejectLoneSurrogates(JsonNode n) {
        if (n.isTextual()) {
            checkString(n.textValue());
        } else if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                checkString(e.getKey());
                rejectLoneSurrogates(e.getValue());
            }
        } else if (n.isArray()) {
            for (JsonNode e : n) {
                rejectLoneSurrogates(e);
            }
        }
    }

    private static void checkString(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw ApiException.invalid(null, "the request body has a string with a lone surrogate (\\u"
                        + String.format("%04x", (int) c) + "); JSON strings must be Unicode text");
            }
        }
    }

    private static ApiException unsupported(String message) {
        return new ApiException(415, "invalid_request_error", null, "unsupported_media_type", message);
    }
}
