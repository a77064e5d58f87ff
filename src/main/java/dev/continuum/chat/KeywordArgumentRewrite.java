package dev.continuum.chat;

/**
 * Parenthesises keyword arguments' values inside Jinja tags, {@code f(a, k=x|length - 1)} to
 * {@code f(a, k=(x|length - 1))}: Jinjava binds {@code k=x|length} before the {@code - 1} (its named parameter is an
 * operand), where Python's Jinja takes the whole expression up to the next comma as the value. Qwen3's template
 * counts {@code namespace(multi_step_tool=true, last_query_index=messages|length - 1)}.
 *
 * <p>A value runs to the first comma or closing bracket at its own nesting depth, outside string literals.
 */
final class KeywordArgumentRewrite {
    /** Deeper nesting than any template writes; past it the text is left as it is. */
    private static final int MAX_DEPTH = 64;

    private KeywordArgumentRewrite() {}

    static String rewrite(String template) {
        if (template.indexOf('=') < 0) {
            return template;
        }
        StringBuilder out = new StringBuilder(template.length() + 16);
        boolean[] wrapped = new boolean[MAX_DEPTH + 1]; // an open "(" we added at this depth
        int depth = 0;
        boolean inTag = false;
        char quote = 0;
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (!inTag) {
                if (c == '{' && i + 1 < template.length() && "{%".indexOf(template.charAt(i + 1)) >= 0) {
                    inTag = true;
                    depth = 0;
                    out.append(c).append(template.charAt(++i));
                } else {
                    out.append(c);
                }
            } else if (quote != 0) {
                out.append(c);
                if (c == '\\' && i + 1 < template.length()) {
                    out.append(template.charAt(++i));
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                out.append(c);
            } else if (depth == 0 && (c == '}' || c == '%') && i + 1 < template.length()
                    && template.charAt(i + 1) == '}') {
                inTag = false;
                out.append(c).append(template.charAt(++i));
            } else if (c == '(' || c == '[' || c == '{') {
                out.append(c);
                if (depth < MAX_DEPTH) {
                    wrapped[++depth] = false;
                }
            } else if (c == ')' || c == ']' || c == '}' || c == ',') {
                if (depth > 0 && wrapped[depth]) {
                    out.append(')');
                    wrapped[depth] = false;
                }
                if (c != ',' && depth > 0) {
                    depth--;
                }
                out.append(c);
            } else if (c == '=' && depth > 0 && isKeyword(template, i, out)) {
                out.append("=(");
                wrapped[depth] = true;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Whether the {@code =} at {@code at} assigns a keyword argument: not part of {@code ==}, {@code !=},
     * {@code <=}, {@code >=}, and preceded by a name that follows the call's {@code (} or a {@code ,}.
     */
    private static boolean isKeyword(String s, int at, CharSequence written) {
        if (at + 1 < s.length() && s.charAt(at + 1) == '=') {
            return false;
        }
        int j = written.length() - 1;
        while (j >= 0 && written.charAt(j) == ' ') {
            j--;
        }
        int end = j;
        while (j >= 0 && (Character.isLetterOrDigit(written.charAt(j)) || written.charAt(j) == '_')) {
            j--;
        }
        if (j == end || Character.isDigit(written.charAt(j + 1))) {
            return false; // no name before it: "==" second half, "!=", "<=", ">=" or a digit
        }
        while (j >= 0 && (written.charAt(j) == ' ' || written.charAt(j) == '\n')) {
            j--;
        }
        return j >= 0 && (written.charAt(j) == '(' || written.charAt(j) == ',');
    }
}
