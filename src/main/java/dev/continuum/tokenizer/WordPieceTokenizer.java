package dev.continuum.tokenizer;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * BERT's WordPiece tokenizer as llama.cpp runs it on converted vocabularies (word starts marked with U+2581
 * instead of continuations marked "##"): NFD, accent stripping, lowercasing, splitting at whitespace and around punctuation and
 * CJK characters, then the longest vocabulary match from the left; a word that cannot be covered becomes
 * the unknown token.
 */
public final class WordPieceTokenizer extends VocabularyTokenizer {
    private final int unknownId;
    private final int maxTokenLength;

    public WordPieceTokenizer(Vocabulary vocab, int bosId, int eosId, int unknownId, boolean addBos) {
        super(vocab, bosId, eosId, addBos);
        this.unknownId = vocab.checkedId("unknown token id", unknownId);
        int longest = 0;
        for (int id = 0; id < vocab.size(); id++) {
            longest = Math.max(longest, vocab.piece(id).length());
            int type = vocab.type(id);
            bytesById[id] = type == TokenType.NORMAL
                    ? vocab.piece(id).replace(SentencePieceTokenizer.SPACE_MARKER, ' ').getBytes(StandardCharsets.UTF_8)
                    : type == TokenType.USER_DEFINED ? vocab.piece(id).getBytes(StandardCharsets.UTF_8) : new byte[0];
        }
        maxTokenLength = longest;
    }








    @Override
    public int[] encode(String text, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 4);
        for (SpecialTokenSplitter.Fragment fragment : splitter.split(text, parseSpecial)) {
            if (!fragment.isText()) {
                out.add(fragment.tokenId());
                continue;
            }
            for (String word : words(fragment.text())) {
                encodeWord(SentencePieceTokenizer.SPACE_MARKER + word, out);
            }
        }
        return out.toArray();
    }

    private void encodeWord(String word, IntList out) {
        int firstToken = out.size();
        int n = word.length();
        int i = 0;
        while (i < n) {
            int matchEnd = -1;
            for (int j = Math.min(n, i + maxTokenLength); j > i; j--) {
                if (j < n && Character.isLowSurrogate(word.charAt(j))) {
                    continue; // never end a candidate inside a surrogate pair
                }
                int id = vocab.id(word.substring(i, j));
                if (id >= 0) {
                    out.add(id);
                    matchEnd = j;
                    break;
                }
            }
            if (matchEnd < 0) {
                out.truncate(firstToken); // one uncovered piece discards the whole word
                break;
            }
            i = matchEnd;
        }
        if (out.size() == firstToken) {
            out.add(unknownId);
        }
    }

    /** BERT's basic tokenization: the words of the normalised text. */
    static List<String> words(String text) {
        String nfd = Normalizer.normalize(text, Normalizer.Form.NFD);
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < nfd.length(); ) {
            int cp = nfd.codePointAt(i);
            i += Character.charCount(cp);
            if (isWhitespace(cp)) {
                flush(word, words);
                continue;
            }
            // Accents go: uncased BERT vocabularies hold the base letters only (NFD split them off above).
            if (cp == 0 || cp == 0xFFFD || isControlCharacter(cp) || Character.getType(cp) == Character.NON_SPACING_MARK) {
                continue;
            }
            int lower = Character.toLowerCase(cp);
            if (isPunctuation(cp) || (cp < 0x7F && isSymbol(cp)) || isChinese(cp)) {
                flush(word, words);
                word.appendCodePoint(lower);
                flush(word, words);
            } else {
                word.appendCodePoint(lower);
            }
        }
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (!word.isEmpty()) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }

    private static boolean isControlCharacter(int cp) {
        int type = Character.getType(cp);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.PRIVATE_USE
                || type == Character.SURROGATE || type == Character.UNASSIGNED;
    }

    private static boolean isPunctuation(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    private static boolean isSymbol(int cp) {
        return switch (Character.getType(cp)) {
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                    Character.OTHER_SYMBOL -> true;
            default -> false;
        };
    }

    private static boolean isChinese(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
