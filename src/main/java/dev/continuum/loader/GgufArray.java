package dev.continuum.loader;

import java.util.List;

/**
 * A GGUF metadata array value to write: every element has {@code elementType}; for {@link GgufValueType#ARRAY}
 * the elements are themselves {@code GgufArray}s, each with its own element type.
 */
public record GgufArray(GgufValueType elementType, List<?> values) {
    public GgufArray {
        values = List.copyOf(values);
    }

    public static GgufArray of(GgufValueType elementType, Object... values) {
        return new GgufArray(elementType, List.of(values));
    }
}
