package dev.continuum.engine;

import java.util.List;

/**
 * Finds stop strings in a choice's text as it streams, across token boundaries: text that could still turn
 * into a stop string is held back until it either completes one (then it and everything after is dropped)
 * or can no longer match (then it is released).
 */
final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    StopMatcher(List<String> stops) {
        this.stops = stops;
    }

    boolean stopped() {
        return stopped;
    }

    /** Adds text; returns what can be released now. After a stop string is seen, {@link #stopped()} is true. */
    String push(String text) {
        return push(text, true);
    }

    /**
     * As {@link #push(String)}; while not {@code armed} (the choice is below min_tokens) nothing is matched and
     * the text, with anything held back before, is released as is.
     */
    String push(String text, boolean armed) {
        if (stopped) {
            return "";
        }
        if (stops.isEmpty()) {
            return text;
        }
        if (!armed) {
            if (pending.isEmpty()) {
                return text;
            }
            String out = pending + text;
            pending.setLength(0);
            return out;
        }
        pending.append(text);
        int first = -1;
        for (String s : stops) {
            int i = pending.indexOf(s);
            if (i >= 0 && (first < 0 || i < first)) {
                first = i;
            }
        }
        if (first >= 0) {
            stopped = true;
            String out = pending.substring(0, first);
            pending.setLength(0);
            return out;
        }
        int hold = longestStopPrefixSuffix();
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return out;
    }

    /** Releases what was held back when the choice ends for another reason. */
    String flush() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    /** Length of the longest suffix of the pending text that is a proper prefix of some stop string. */
    private int longestStopPrefixSuffix() {
        int best = 0;
        for (String s : stops) {
            int max = Math.min(s.length() - 1, pending.length());
            for (int len = max; len > best; len--) {
                if (endsWithPrefix(s, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }

    private boolean endsWithPrefix(String s, int len) {
        int start = pending.length() - len;
        for (int i = 0; i < len; i++) {
            if (pending.charAt(start + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
