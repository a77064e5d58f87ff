package dev.continuum.chat;

/**
 * Rewrites {@code seq[::-1]} inside Jinja tags to {@code seq|reverse|list}: Jinjava's expression grammar has no slice
 * step, and recent templates (Qwen2.5, Qwen3) walk {@code messages[::-1]} to find the last user turn.
 */
final class PythonSliceRewrite {

    private static final String REVERSED_SLICE = "[::-1]";
    private static final String REVERSE_FILTER = "|reverse|list";

    private PythonSliceRewrite() {}

    static String rewrite(String template) {
        if (!template.contains(REVERSED_SLICE)) {
            return template;
        }
        StringBuilder out = new StringBuilder(template.length());
        boolean inTag = false;
        char quote = 0;
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (!inTag) {
                // Plain text and {# comments #} are output or ignored verbatim: only {{ }} and {% %} are code.
                if (c == '{' && i + 1 < template.length() && "{%".indexOf(template.charAt(i + 1)) >= 0) {
                    inTag = true;
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
            } else if ((c == '}' || c == '%') && i + 1 < template.length() && template.charAt(i + 1) == '}') {
                inTag = false;
                out.append(c).append(template.charAt(++i));
            } else if (template.startsWith(REVERSED_SLICE, i)) {
                out.append(REVERSE_FILTER);
                i += REVERSED_SLICE.length() - 1;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
