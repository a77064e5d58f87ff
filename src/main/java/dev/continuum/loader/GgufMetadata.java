package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file. Scalars are boxed Java values (unsigned 32-bit and all 64-bit
 * integers as {@link Long}); arrays are primitive arrays ({@code int[]}, {@code long[]}, {@code float[]},
 * {@code double[]}, {@code boolean[]}), {@code String[]}, or {@code Object[]} for arrays of arrays.
 */
public final class GgufMetadata {
    private final Map<String, Object> values;

    public GgufMetadata(Map<String, Object> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public Set<String> keys() {
        return values.keySet();
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public Object get(String key) {
        return values.get(key);
    }

    public String getString(String key) {
        return cast(key, String.class, true);
    }

    public String getString(String key, String fallback) {
        String v = cast(key, String.class, false);
        return v == null ? fallback : v;
    }

    public int getInt(String key) {
        return toInt(key, cast(key, Number.class, true));
    }

    public int getInt(String key, int fallback) {
        Number n = cast(key, Number.class, false);
        return n == null ? fallback : toInt(key, n);
    }

    public float getFloat(String key, float fallback) {
        Number n = cast(key, Number.class, false);
        return n == null ? fallback : n.floatValue();
    }

    public boolean getBoolean(String key, boolean fallback) {
        Boolean b = cast(key, Boolean.class, false);
        return b == null ? fallback : b;
    }

    public String[] getStringArray(String key) {
        return cast(key, String[].class, false);
    }

    public float[] getFloatArray(String key) {
        return cast(key, float[].class, false);
    }

    /** An integer array of any integer element type, widened to int. */
    public int[] getIntArray(String key) {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof int[] a) {
            return a;
        }
        if (v instanceof long[] a) {
            int[] r = new int[a.length];
            for (int i = 0; i < a.length; i++) {
                if (a[i] != (int) a[i]) {
                    throw new ModelFormatException("metadata '" + key + "' element " + i + " = " + a[i]
                            + " is not a 32-bit integer");
                }
                r[i] = (int) a[i];
            }
            return r;
        }
        throw new ModelFormatException("metadata '" + key + "' is " + describe(v) + ", expected an integer array");
    }

    private <T> T cast(String key, Class<T> type, boolean required) {
        Object v = values.get(key);
        if (v == null) {
            if (required) {
                throw new ModelFormatException("required metadata '" + key + "' is missing");
            }
            return null;
        }
        if (!type.isInstance(v)) {
            throw new ModelFormatException("metadata '" + key + "' is " + describe(v) + ", expected "
                    + type.getSimpleName());
        }
        return type.cast(v);
    }

    private static int toInt(String key, Number n) {
        long l = n.longValue();
        if (n instanceof Float || n instanceof Double || l != (int) l) {
            throw new ModelFormatException("metadata '" + key + "' = " + n + " is not a 32-bit integer");
        }
        return (int) l;
    }

    private static String describe(Object v) {
        return v.getClass().isArray() ? "an array of " + v.getClass().getComponentType().getSimpleName()
                : "a " + v.getClass().getSimpleName();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(k).append('=')
                .append(v.getClass().isArray() ? describe(v) : String.valueOf(v)).append('\n'));
        return sb.toString();
    }
}
