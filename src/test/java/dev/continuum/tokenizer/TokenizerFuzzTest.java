package dev.continuum.tokenizer;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.loader.GgufFile;
import dev.continuum.loader.GgufTokenizerReader;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded random text (raw bytes decoded as UTF-8, code points from every plane, lone surrogates, controls, the
 * vocabulary's own special-token texts spliced in) through real vocabularies: encoding, with and without special
 * tokens, gives ids inside the vocabulary and never throws; decoding any ids never throws; and where the
 * tokenizer promises it (byte-level BPE and SentencePiece with byte fallback, on well-formed text without
 * special-token parsing), decoding gives the text back.
 */
@IntegrationTest
class TokenizerFuzzTest {
    private static final long SEED = 17;
    private static final int STRINGS = 1500;

    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-gpt-2.gguf",
            "vocab/ggml-vocab-deepseek-coder.gguf", "vocab/ggml-vocab-bert-bge.gguf", "vocab/ggml-vocab-phi-3.gguf"})
    void randomTextEncodesAndDecodesWithoutExceptions(String file) {
        Tokenizer tok;
        try (Arena arena = Arena.ofConfined()) {
            tok = GgufTokenizerReader.read(GgufFile.open(SharedTestData.require("models/" + file), arena).metadata());
        }
        List<String> specials = new ArrayList<>();
        for (int id = 0; id < tok.vocabSize() && specials.size() < 32; id++) {
            if (tok.isControl(id)) {
                specials.add(tok.piece(id));
            }
        }
        boolean promisesRoundTrip = tok instanceof Gpt2Tokenizer || tok instanceof SentencePieceTokenizer;
        SplittableRandom random = new SplittableRandom(SEED);
        int roundTrips = 0;
        List<String> broken = new ArrayList<>();
        for (int i = 0; i < STRINGS; i++) {
            String text = randomText(random, specials);
            for (boolean special : new boolean[]{false, true}) {
                int[] ids = encode(tok, text, special, i);
                for (int id : ids) {
                    assertTrue(id >= 0 && id < tok.vocabSize(), "string " + i + ": id " + id + " of " + escape(text));
                }
                String back = tok.decode(ids);
                if (promisesRoundTrip && !special && wellFormed(text)) {
                    roundTrips++;
                    // SentencePiece's space prefix is part of the encoding: a decoder keeps it, as llama.cpp's does.
                    if (!back.equals(text) && !back.equals(" " + text)) {
                        broken.add(escape(text) + " -> " + escape(back));
                    }
                }
            }
            int[] randomIds = random.ints(1 + random.nextInt(8), 0, tok.vocabSize()).toArray();
            assertNotNull(tok.decode(randomIds));
        }
        System.out.printf("%s: %d strings, %d round trips checked, %d broken%n", file, STRINGS, roundTrips,
                broken.size());
        assertTrue(broken.isEmpty(), () -> broken.size() + " round trips broken, e.g. " + broken.subList(0,
                Math.min(5, broken.size())));
    }

    private static int[] encode(Tokenizer tok, String text, boolean special, int i) {
        try {
            return tok.encode(text, special);
        } catch (RuntimeException e) {
            throw new AssertionError("string " + i + " (" + escape(text) + "), parseSpecial " + special + ": " + e, e);
        }
    }

    private static String randomText(SplittableRandom random, List<String> specials) {
        StringBuilder sb = new StringBuilder();
        int parts = 1 + random.nextInt(6);
        for (int p = 0; p < parts; p++) {
            switch (random.nextInt(6)) {
                case 0 -> {
                    byte[] bytes = new byte[random.nextInt(12)];
                    random.nextBytes(bytes);
                    sb.append(new String(bytes, StandardCharsets.UTF_8));
                }
                case 1 -> {
                    for (int k = random.nextInt(8); k > 0; k--) {
                        int cp = random.nextInt(Character.MAX_CODE_POINT + 1);
                        if (Character.isValidCodePoint(cp)) {
                            sb.appendCodePoint(cp);
                        }
                    }
                }
                case 2 -> sb.append((char) (0xD800 + random.nextInt(0x800))); // a lone surrogate
                case 3 -> {
                    for (int k = random.nextInt(6); k > 0; k--) {
                        String spaces = " \t\n\r\u0000\u00a0\u200b\u3000";
                        sb.append(spaces.charAt(random.nextInt(spaces.length())));
                    }
                }
                case 4 -> {
                    if (!specials.isEmpty()) {
                        sb.append(specials.get(random.nextInt(specials.size())));
                    }
                }
                default -> sb.append("Once upon a time, ü日本🦙".substring(0, random.nextInt(20)));
            }
        }
        return sb.toString();
    }

    /** No lone surrogates: such text survives the UTF-8 round trip a tokenizer's bytes make. */
    private static boolean wellFormed(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(s);
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> sb.append(cp >= 0x20 && cp < 0x7F ? Character.toString(cp)
                : String.format("\\u{%x}", cp)));
        return sb.append('"').toString();
    }
}
