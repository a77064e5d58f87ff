package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Checks a JSON value against a schema of an OpenAPI 3.1 document: the keywords the published document uses
 * ({@code $ref}, {@code allOf}, {@code oneOf}, {@code anyOf}, {@code type} with {@code 'null'}, {@code enum},
 * {@code required}, {@code properties}, {@code items}, {@code additionalProperties}). Enough to catch a missing
 * field or a null where an object is promised; not a general validator.
 */
final class SchemaCheck {
    private final JsonNode document;

    SchemaCheck(JsonNode document) {
        this.document = document;
    }

    /** The problems of {@code value} against {@code #/components/schemas/name}; empty when it conforms. */
    List<String> problems(JsonNode value, String name) {
        List<String> out = new ArrayList<>();
        check(value, schema(name), "$", out);
        return out;
    }

    private JsonNode schema(String name) {
        JsonNode s = document.path("components").path("schemas").path(name);
        if (s.isMissingNode()) {
            throw new AssertionError("the document has no schema " + name);
        }
        return s;
    }

    private void check(JsonNode v, JsonNode s, String at, List<String> out) {
        if (s.has("$ref")) {
            String ref = s.get("$ref").asText();
            check(v, schema(ref.substring(ref.lastIndexOf('/') + 1)), at, out);
        }
        for (JsonNode sub : s.path("allOf")) {
            check(v, sub, at, out);
        }
        for (String key : new String[]{"oneOf", "anyOf"}) {
            if (s.has(key)) {
                int matches = 0;
                for (JsonNode sub : s.get(key)) {
                    List<String> tmp = new ArrayList<>();
                    check(v, sub, at, tmp);
                    matches += tmp.isEmpty() ? 1 : 0;
                }
                if (matches == 0 || (key.equals("oneOf") && matches > 1)) {
                    out.add(at + ": " + matches + " of the " + key + " alternatives match " + v);
                }
            }
        }
        if (s.has("type") && !typeMatches(v, s.get("type"))) {
            out.add(at + ": " + kind(v) + " where the schema says " + s.get("type"));
            return;
        }
        if (s.has("enum")) {
            boolean found = false;
            for (JsonNode e : s.get("enum")) {
                found |= e.equals(v) || (e.isNull() && v.isNull());
            }
            if (!found) {
                out.add(at + ": " + v + " is not one of " + s.get("enum"));
            }
        }
        if (v.isObject()) {
            for (JsonNode r : s.path("required")) {
                if (!v.has(r.asText())) {
                    out.add(at + ": required field '" + r.asText() + "' is missing");
                }
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                JsonNode p = s.path("properties").get(f.getKey());
                if (p != null) {
                    check(f.getValue(), p, at + "." + f.getKey(), out);
                } else if (s.path("additionalProperties").isObject()) {
                    check(f.getValue(), s.get("additionalProperties"), at + "." + f.getKey(), out);
                }
            }
        }
        if (v.isArray() && s.has("items")) {
            for (int i = 0; i < v.size(); i++) {
                check(v.get(i), s.get("items"), at + "[" + i + "]", out);
            }
        }
    }

    private static boolean typeMatches(JsonNode v, JsonNode type) {
        if (type.isArray()) {
            for (JsonNode t : type) {
                if (typeMatches(v, t)) {
                    return true;
                }
            }
            return false;
        }
        return switch (type.asText()) {
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "string" -> v.isTextual();
            case "integer" -> v.isIntegralNumber();
            case "number" -> v.isNumber();
            case "boolean" -> v.isBoolean();
            case "null" -> v.isNull();
            default -> throw new AssertionError("unknown type " + type);
        };
    }

    private static String kind(JsonNode v) {
        return v.isNull() ? "null" : v.getNodeType().name().toLowerCase();
    }
}
