package dev.continuum.tokenizer;

import dev.continuum.format.ModelFormatException;
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
    // Cased letters, as in DeepSeek LLM's tokenizer.json; escaped so no editor can normalise them.
    private static final String DEEPSEEK_LLM_LETTERS = "\\s?["
            + "A-Za-z\\u00B5\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u01BA\\u01BC-\\u01BF\\u01C4-\\u0293"
            + "\\u0295-\\u02AF\\u0370-\\u0373\\u0376\\u0377\\u037B-\\u037D\\u037F\\u0386\\u0388-\\u038A"
            + "\\u038C\\u038E-\\u03A1\\u03A3-\\u03F5\\u03F7-\\u0481\\u048A-\\u052F\\u0531-\\u0556\\u10A0-"
            + "\\u10C5\\u13A0-\\u13F5\\u13F8-\\u13FD\\u1C90-\\u1CBA\\u1CBD-\\u1CBF\\u1D00-\\u1D2B\\u1D6B-"
            + "\\u1D77\\u1D79-\\u1D9A\\u1E00-\\u1F15\\u1F18-\\u1F1D\\u1F20-\\u1F45\\u1F48-\\u1F4D\\u1F50-"
            + "\\u1F57\\u1F59\\u1F5B\\u1F5D\\u1F5F-\\u1F7D\\u1F80-\\u1FB4\\u1FB6-\\u1FBC\\u1FBE\\u1FC2-"
            + "\\u1FC4\\u1FC6-\\u1FCC\\u1FD0-\\u1FD3\\u1FD6-\\u1FDB\\u1FE0-\\u1FEC\\u1FF2-\\u1FF4\\u1FF6-"
            + "\\u1FFC\\u2102\\u2107\\u210A-\\u2113\\u2115\\u2119-\\u211D\\u2124\\u2126\\u2128\\u212A-"
            + "\\u212D\\u212F-\\u2134\\u2139\\u213C-\\u213F\\u2145-\\u2149\\u214E\\u2183\\u2184\\u2C00-"
            + "\\u2C7B\\u2C7E-\\u2CE4\\u2CEB-\\u2CEE\\u2CF2\\u2CF3\\uA640-\\uA66D\\uA680-\\uA69B\\uA722-"
            + "\\uA76F\\uA771-\\uA787\\uA78B-\\uA78E\\uAB70-\\uABBF\\uFB00-\\uFB06\\uFB13-\\uFB17\\uFF21-"
            + "\\uFF3A\\uFF41-\\uFF5A\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}"
            + "\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}"
            + "]+";
    private static final String CJK = "[\\u4E00-\\u9FA5\\u0800-\\u4E00\\uAC00-\\uD7FF]+";
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
                    "\\s?[!-/:-~\\uFF01-\\uFF0F\\uFF1A-\\uFF5E\\u2018-\\u201F\\u3000-\\u3002]+", "\\s+\\z", CJK, "\\p{N}+");
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
