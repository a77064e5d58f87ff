package dev.continuum.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.lang.reflect.Array;
import java.util.Map;

/**
 * The {@code tojson} filter as Hugging Face defines it: Python's json.dumps with ensure_ascii=False, so ", " and ": "
 * separators and non-ASCII kept as is; tool-calling templates embed this output verbatim in the prompt.
 */
final class PythonJsonFilter implements Filter {

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indentArg = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
        int indent = indentArg == null ? -1 : Integer.parseInt(indentArg.toString());
        StringBuilder out = new StringBuilder();
        write(var, indent, 0, out);
        return out.toString();
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        return filter(var, interpreter, args, Map.of());
    }

    private static void write(Object value, int indent, int depth, StringBuilder out) {
        switch (value) {
            case null -> out.append("null");
            case Boolean b -> out.append(b);
            case Double d when d.isNaN() || d.isInfinite() -> out.append(d.isNaN() ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
            case Number n -> out.append(n);
            case Map<?, ?> map -> writeContainer('{', '}', map.entrySet(), indent, depth, out);
            case Iterable<?> items -> writeContainer('[', ']', items, indent, depth, out);
            case Object array when array.getClass().isArray() -> {
                java.util.List<Object> items = new java.util.ArrayList<>();
                for (int i = 0; i < Array.getLength(array); i++) {
                    items.add(Array.get(array, i));
                }
                writeContainer('[', ']', items, indent, depth, out);
            }
            default -> writeString(value.toString(), out);
        }
    }

    private static void writeContainer(char open, char close, Iterable<?> items, int indent, int depth,
            StringBuilder out) {
        out.append(open);
        boolean first = true;
        for (Object item : items) {
            if (!first) {
                out.append(indent < 0 ? ", " : ",");
            }
            first = false;
            newline(indent, depth + 1, out);
            if (item instanceof Map.Entry<?, ?> entry) {
                writeString(String.valueOf(entry.getKey()), out);
                out.append(": ");
                write(entry.getValue(), indent, depth + 1, out);
            } else {
                write(item, indent, depth + 1, out);
            }
        }
        if (!first) {
            newline(indent, depth, out);
        }
        out.append(close);
    }

    private static void newline(int indent, int depth, StringBuilder out) {
        if (indent >= 0) {
            out.append('\n').append(" ".repeat(indent * depth));
        }
    }

    private static void writeString(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
