package dev.continuum.tokenizer;

import dev.continuum.loader.ModelFormatException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the words that byte-level BPE merges within, using the regular expressions llama.cpp uses
 * for each {@code tokenizer.ggml.pre} value. The expressions apply in order, each one splitting every piece
 * left by the previous ones into its matches and the gaps between them.
 */
final class PreTokenizer {
    private static final String GPT2 =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    // Contractions spelled case-insensitively without an inline flag, like llama.cpp's adaptation.
    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private static final String LLAMA3 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String DEEPSEEK_LLM_LETTERS = "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-Ⴥ"
            + "Ꭰ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄ"
            + "Ⰰ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+";
    private static final String CJK = "[一-龥ࠀ-一가-퟿]+";
    private static final String SPLIT_GPT2 =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

    private final String name;
    private final Pattern[] patterns;

    private PreTokenizer(String name, String... expressions) {
        this.name = name;
        this.patterns = new Pattern[expressions.length];
        for (int i = 0; i < expressions.length; i++) {
            patterns[i] = Pattern.compile(unicodeWhitespace(expressions[i]));
        }
    }

    /** The pre-tokenizer for a {@code tokenizer.ggml.pre} value (null or empty meaning "default"). */
    static PreTokenizer forName(String pre) {
        String p = pre == null || pre.isEmpty() ? "default" : pre;
        return switch (p) {
            case "default" -> new PreTokenizer(p, "[\\p{P}\\$\\+<=>\\^~\\|]+", SPLIT_GPT2, "\\p{N}+",
                    "[0-9][0-9][0-9]");
            case "gpt-2", "gpt2", "mpt", "gpt-neox", "olmo", "phi-2", "jais" -> new PreTokenizer(p, GPT2);
            case "llama3", "llama-v3", "llama-bpe", "dbrx", "smaug-bpe" -> new PreTokenizer(p, LLAMA3);
            case "qwen2", "deepseek-r1-qwen", "stablelm2" -> new PreTokenizer(p, QWEN2);
            case "deepseek-llm" -> new PreTokenizer(p, "[\\r\\n]", DEEPSEEK_LLM_LETTERS,
                    "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+\\z", CJK, "\\p{N}+");
            case "deepseek-coder" -> new PreTokenizer(p, "[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK, "\\p{N}");
            case "falcon" -> new PreTokenizer(p, "[\\p{P}\\$\\+<=>\\^~\\|`]+", SPLIT_GPT2, "[0-9][0-9][0-9]");
            case "starcoder", "refact", "command-r", "smollm", "codeshell" -> new PreTokenizer(p, "\\p{N}", SPLIT_GPT2);
            default -> throw new ModelFormatException("unsupported tokenizer.ggml.pre '" + p
                    + "': supported are default, gpt-2, mpt, gpt-neox, olmo, llama3/llama-bpe, qwen2, deepseek-llm,"
                    + " deepseek-coder, falcon, starcoder, refact");
        };
    }

    /**
     * Unicode whitespace for \s and \S: llama.cpp classifies every Unicode White_Space code point as
     * whitespace, while Java's \s is ASCII-only.
     */
    private static String unicodeWhitespace(String expression) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < expression.length(); i++) {
            char c = expression.charAt(i);
            if (c == '\\' && i + 1 < expression.length()) {
                char n = expression.charAt(i + 1);
                if (n == 's') {
                    sb.append("\\p{IsWhite_Space}");
                } else if (n == 'S') {
                    sb.append("\\P{IsWhite_Space}");
                } else {
                    sb.append(c).append(n);
                }
                i++;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    String name() {
        return name;
    }

    /** The words of text, in order; together they are exactly the text. */
    List<String> split(String text) {
        List<int[]> pieces = new ArrayList<>();
        pieces.add(new int[] {0, text.length()});
        for (Pattern pattern : patterns) {
            List<int[]> next = new ArrayList<>();
            Matcher m = pattern.matcher(text);
            for (int[] piece : pieces) {
                int start = piece[0];
                int end = piece[1];
                m.region(start, end);
                int at = start;
                while (m.find()) {
                    if (m.end() == m.start()) {
                        continue;
                    }
                    if (m.start() > at) {
                        next.add(new int[] {at, m.start()});
                    }
                    next.add(new int[] {m.start(), m.end()});
                    at = m.end();
                }
                if (at < end) {
                    next.add(new int[] {at, end});
                }
            }
            pieces = next;
        }
        List<String> words = new ArrayList<>(pieces.size());
        for (int[] piece : pieces) {
            words.add(text.substring(piece[0], piece[1]));
        }
        return words;
    }
}
