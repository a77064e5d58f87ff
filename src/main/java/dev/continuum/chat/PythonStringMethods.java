package dev.continuum.chat;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Answers Python str method calls ({@code s.strip()}, {@code s.startswith(x)}, ...) that HF templates use and Java's
 * String lacks or spells differently; every other property or call falls through to Jinjava's own resolvers.
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || method == null) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        Object result;
        switch (method.toString()) {
            case "strip" -> result = strip(s, charsArg(args), true, true);
            case "lstrip" -> result = strip(s, charsArg(args), true, false);
            case "rstrip" -> result = strip(s, charsArg(args), false, true);
            case "upper" -> result = s.toUpperCase(Locale.ROOT);
            case "lower" -> result = s.toLowerCase(Locale.ROOT);
            case "title" -> result = title(s);
            case "capitalize" -> result = s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "startswith" -> result = args.length > 0 && anyMatch(args[0], s::startsWith);
            case "endswith" -> result = args.length > 0 && anyMatch(args[0], s::endsWith);
            case "split" -> result = split(s, args.length > 0 ? args[0] : null, args.length > 1 ? toInt(args[1]) : -1);
            case "replace" -> result = args.length < 2 ? null : replace(s, str(args[0]), str(args[1]),
                    args.length > 2 ? toInt(args[2]) : -1);
            case "find" -> result = args.length > 0 ? (long) s.indexOf(str(args[0])) : null;
            case "count" -> result = args.length > 0 ? count(s, str(args[0])) : null;
            case "join" -> result = args.length > 0 ? join(s, args[0]) : null;
            case "isspace" -> result = !s.isEmpty() && s.isBlank();
            default -> {
                return null;
            }
        }
        if (result == null) {
            return null; // wrong arity: let Jinjava report the call as unresolvable
        }
        context.setPropertyResolved(true);
        return result;
    }

    private static String charsArg(Object[] args) {
        return args.length == 0 || args[0] == null ? null : args[0].toString();
    }

    /** Python semantics: no chars (or None) strips whitespace; otherwise strips any of the given characters. */
    private static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end && isStripped(s.charAt(start), chars)) {
            start++;
        }
        while (right && end > start && isStripped(s.charAt(end - 1), chars)) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isStripped(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) || Character.isSpaceChar(c) : chars.indexOf(c) >= 0;
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousIsLetter = false;
        for (char c : s.toCharArray()) {
            out.append(previousIsLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousIsLetter = Character.isLetter(c);
        }
        return out.toString();
    }

    /** startswith/endswith accept a single string or a tuple (here: any collection) of alternatives. */
    private static boolean anyMatch(Object candidates, java.util.function.Predicate<String> test) {
        if (candidates instanceof Collection<?> many) {
            return many.stream().anyMatch(c -> c != null && test.test(c.toString()));
        }
        return candidates != null && test.test(candidates.toString());
    }

    private static List<String> split(String s, Object separator, int maxSplit) {
        List<String> parts = new ArrayList<>();
        if (separator == null) {
            // Python's sep=None: runs of whitespace separate, leading/trailing whitespace yields no empty parts.
            String rest = strip(s, null, true, false);
            while (!rest.isEmpty()) {
                if (maxSplit >= 0 && parts.size() == maxSplit) {
                    parts.add(rest);
                    return parts;
                }
                int end = 0;
                while (end < rest.length() && !isStripped(rest.charAt(end), null)) {
                    end++;
                }
                parts.add(rest.substring(0, end));
                rest = strip(rest.substring(end), null, true, false);
            }
            return parts;
        }
        String sep = separator.toString();
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        int from = 0;
        int at;
        while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static String replace(String s, String old, String replacement, int count) {
        if (count < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder out = new StringBuilder();
        int from = 0;
        int at;
        for (int done = 0; done < count && !old.isEmpty() && (at = s.indexOf(old, from)) >= 0; done++) {
            out.append(s, from, at).append(replacement);
            from = at + old.length();
        }
        return out.append(s.substring(from)).toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.length() + 1L;
        }
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    private static String join(String separator, Object items) {
        List<String> parts = new ArrayList<>();
        if (items instanceof Iterable<?> iterable) {
            iterable.forEach(item -> parts.add(str(item)));
        } else {
            parts.add(str(items));
        }
        return String.join(separator, parts);
    }

    private static String str(Object value) {
        return value == null ? "None" : value.toString();
    }

    private static int toInt(Object value) {
        return value instanceof Number n ? n.intValue() : Integer.parseInt(value.toString());
    }

    // Property access is not ours to answer: leave it unresolved for the next resolver.

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return false;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return base instanceof String ? Object.class : null;
    }
}
