package dev.continuum.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts the texts of special tokens out of an input before the tokenizer proper sees it, longest token text
 * first, as llama.cpp does. Control and unknown tokens are recognised only when special parsing is asked for;
 * user-defined tokens always are (as in Hugging Face's added vocabulary).
 */
final class SpecialTokenSplitter {
    /** A piece of the input: either text still to be tokenized ({@code tokenId == -1}) or one special token. */
    record Fragment(String text, int tokenId) {
        boolean isText() {
            return tokenId < 0;
        }
    }

    private final Vocabulary vocab;
    private final int[] specialIds;

    SpecialTokenSplitter(Vocabulary vocab) {
        this.vocab = vocab;
        int n = 0;
        int[] ids = new int[vocab.size()];
        for (int id = 0; id < vocab.size(); id++) {
            int t = vocab.type(id);
            boolean special = t == TokenType.CONTROL || t == TokenType.USER_DEFINED || t == TokenType.UNKNOWN;
            if (special && !vocab.piece(id).isEmpty()) {
                ids[n++] = id;
            }
        }
        Integer[] sorted = new Integer[n];
        for (int i = 0; i < n; i++) {
            sorted[i] = ids[i];
        }
        // Longest first so that a token containing another's text wins; ties keep id order (stable sort).
        Arrays.sort(sorted, (a, b) -> Integer.compare(vocab.piece(b).length(), vocab.piece(a).length()));
        specialIds = new int[n];
        for (int i = 0; i < n; i++) {
            specialIds[i] = sorted[i];
        }
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(new Fragment(text, -1));
        for (int id : specialIds) {
            if (!parseSpecial && vocab.type(id) != TokenType.USER_DEFINED) {
                continue;
            }
            String special = vocab.piece(id);
            for (int f = 0; f < fragments.size(); f++) {
                Fragment fragment = fragments.get(f);
                if (!fragment.isText() || fragment.text().indexOf(special) < 0) {
                    continue;
                }
                List<Fragment> parts = cut(fragment.text(), special, id);
                fragments.remove(f);
                fragments.addAll(f, parts);
                f += parts.size() - 1;
            }
        }
        return fragments;
    }

    private static List<Fragment> cut(String text, String special, int id) {
        List<Fragment> parts = new ArrayList<>();
        int from = 0;
        int at;
        while ((at = text.indexOf(special, from)) >= 0) {
            if (at > from) {
                parts.add(new Fragment(text.substring(from, at), -1));
            }
            parts.add(new Fragment(special, id));
            from = at + special.length();
        }
        if (from < text.length()) {
            parts.add(new Fragment(text.substring(from), -1));
        }
        return parts;
    }
}
