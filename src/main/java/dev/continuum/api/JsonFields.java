package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/** Typed, validated access to the fields of a JSON request body; every mistake names its field. */
final class JsonFields {
    private final JsonNode body;

    JsonFields(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(null, "the request body must be a JSON object");
        }
        this.body = body;
    }

    JsonNode raw(String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    /** Every field name of the body, null-valued ones included. */
    Iterable<String> names() {
        return body::fieldNames;
    }

    boolean has(String name) {
        return raw(name) != null;
    }

    String string(String name, String fallback) {
        JsonNode n = raw(name);
        if (n == null) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw ApiException.invalid(name, "'" + name + "' must be a string");
        }
        return n.asText();
    }

    boolean bool(String name, boolean fallback) {
        JsonNode n = raw(name);
        if (n == null) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw ApiException.invalid(name, "'" + name + "' must be a boolean");
        }
        return n.asBoolean();
    }

    long integer(String name, long fallback, long min, long max) {
        JsonNode n = raw(name);
        if (n == null) {
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ApiException.invalid(name, "'" + name + "' must be an integer");
        }
        long v = n.asLong();
        if (v < min || v > max) {
            throw ApiException.invalid(name, "'" + name + "' must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    /** A number in {@code [min, max]} (or {@code (min, max]} when {@code minExclusive}). */
    float number(String name, float fallback, double min, boolean minExclusive, double max) {
        JsonNode n = raw(name);
        if (n == null) {
            return fallback;
        }
        if (!n.isNumber()) {
            throw ApiException.invalid(name, "'" + name + "' must be a number");
        }
        double v = n.asDouble();
        if (!Double.isFinite(v) || v > max || v < min || (minExclusive && v == min)) {
            throw ApiException.invalid(name, "'" + name + "' must be in " + (minExclusive ? "(" : "[") + min + ", "
                    + max + "], got " + v);
        }
        return (float) v;
    }

    /** {@code stop}: a string or an array of strings. */
    List<String> stringOrList(String name, int maxItems) {
        JsonNode n = raw(name);
        List<String> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        if (n.isTextual()) {
            out.add(n.asText());
        } else if (n.isArray()) {
            for (JsonNode e : n) {
                if (!e.isTextual()) {
                    throw ApiException.invalid(name, "'" + name + "' must be a string or an array of strings");
                }
                out.add(e.asText());
            }
        } else {
            throw ApiException.invalid(name, "'" + name + "' must be a string or an array of strings");
        }
        if (out.size() > maxItems) {
            throw ApiException.invalid(name, "'" + name + "' has " + out.size() + " entries; at most " + maxItems);
        }
        for (String s : out) {
            if (s.isEmpty()) {
                throw ApiException.invalid(name, "'" + name + "' entries must not be empty");
            }
        }
        return out;
    }
}
