package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.continuum.engine.TokenEvent;
import dev.continuum.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link StreamChunks} against the serialization it replaced: the Jackson tree of {@link ResponseFormat#envelope}
 * and {@link ResponseFormat#chunkChoice} (with {@link ResponseFormat#addLogprobs} into a fresh container), written
 * by an ObjectMapper, as {@code "data: " + json + "\n\n"}, compared as the UTF-8 bytes a client receives, for
 * every field combination and for strings and numbers that need escaping or special spelling.
 */
class StreamChunksTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Texts that need escaping, or are easy to get wrong: every control character is in CONTROLS. */
    private static final List<String> TEXTS = List.of("", "hello", " world", "\"quoted\" \\back\\slash/",
            "tab\there\nnew\rret\bbs\ffeed", "\u0000\u0001\u001f\u007f\u0080", "caf\u00e9 \u4e2d\u6587",
            "\ud83d\ude00 emoji", "\ufffd", "lone \ud800 high", "lone \udc00 low", "\u2028\u2029", "</script>",
            controls());

    /** Tokens: whole characters, a multi-byte character split over two tokens, quotes, control bytes, twins. */
    private static final byte[][] VOCAB = {
            "a".getBytes(StandardCharsets.UTF_8),
            "\"".getBytes(StandardCharsets.UTF_8),
            {(byte) 0xE4, (byte) 0xB8},               // the first two bytes of U+4E2D
            {(byte) 0xAD},                            // its last byte
            "\u00e9".getBytes(StandardCharsets.UTF_8),
            {0x00, 0x0A, 0x1F, 0x7F},
            {(byte) 0xE4, (byte) 0xB8},               // a twin of token 2: the same text
            "\\n".getBytes(StandardCharsets.UTF_8),
            {(byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80},
    };

    private static final float[] FLOATS = {0f, -0f, -1.2345678f, -1e-10f, -Float.MIN_VALUE, -Float.MAX_VALUE,
            -100f, -0.1f, Float.NEGATIVE_INFINITY, Float.NaN, Float.POSITIVE_INFINITY, -3.4028235e38f, -1e7f,
            -1.0E-3f, -123456.79f};

    private static String controls() {
        StringBuilder b = new StringBuilder();
        for (char c = 0; c < 0x20; c++) {
            b.append(c);
        }
        return b.toString();
    }

    @Test
    void chunksWithoutLogprobsAreTheTreesBytes() throws Exception {
        int cases = 0;
        for (ResponseFormat format : ResponseFormat.values()) {
            for (boolean usage : new boolean[]{false, true}) {
                for (String id : List.of("cmpl-0123abcd", "chat\"\\id\u0001")) {
                    StreamChunks chunks = new StreamChunks(format, id, 1733140000L, "dummy:110m:q8_0", usage);
                    for (String text : TEXTS) {
                        for (String finish : Arrays.asList(null, "stop", "length")) {
                            for (boolean first : new boolean[]{false, true}) {
                                for (int index : new int[]{0, 7, 15}) {
                                    String expected = reference(format, id, 1733140000L, "dummy:110m:q8_0", usage,
                                            index, text, null, null, 0, finish, first);
                                    assertSameBytes(expected, chunks.event(index, text, null, null, 0, finish, first));
                                    cases++;
                                }
                            }
                        }
                    }
                }
            }
        }
        assertEquals(2 * 2 * 2 * TEXTS.size() * 3 * 2 * 3, cases);
    }

    @Test
    void chunksWithLogprobsAreTheTreesBytes() throws Exception {
        Tokenizer tok = new TableTokenizer(VOCAB);
        List<int[]> tops = new ArrayList<>();
        tops.add(null);                    // logprobs: 0, the chosen token alone
        tops.add(new int[0]);
        tops.add(new int[]{1});
        tops.add(new int[]{2, 0, 6, 3});   // 2 and 6 share their text: one key in completions' map
        tops.add(new int[]{6, 6, 2, 8, 5, 4, 7});
        int cases = 0;
        for (ResponseFormat format : ResponseFormat.values()) {
            StreamChunks chunks = new StreamChunks(format, "cmpl-x", 42L, "m\u00e9", true);
            for (int token = 0; token < VOCAB.length; token++) {
                for (int[] top : tops) {
                    for (int f = 0; f < FLOATS.length; f++) {
                        float[] topLps = null;
                        if (top != null) {
                            topLps = new float[top.length];
                            for (int i = 0; i < top.length; i++) {
                                topLps[i] = FLOATS[(f + i + 1) % FLOATS.length];
                            }
                        }
                        TokenEvent e = new TokenEvent(0, token, "t\"" + token, FLOATS[f], top, topLps);
                        for (int offset : new int[]{0, 123456}) {
                            String text = TEXTS.get((token + f) % TEXTS.size());
                            String expected = reference(format, "cmpl-x", 42L, "m\u00e9", true, 3, text, e, tok,
                                    offset, null, f % 2 == 0);
                            assertSameBytes(expected, chunks.event(3, text, e, tok, offset, null, f % 2 == 0));
                            cases++;
                        }
                    }
                }
            }
        }
        assertEquals(2 * VOCAB.length * tops.size() * FLOATS.length * 2, cases);
    }

    @Test
    void oneWriterServesConsecutiveChunksWithoutCarryingAnythingOver() throws Exception {
        StreamChunks chunks = new StreamChunks(ResponseFormat.CHAT, "chatcmpl-1", 7L, "m", false);
        String longer = chunks.event(0, "a much longer piece of text than the next", null, null, 0, null, true);
        String shorter = chunks.event(0, "b", null, null, 0, null, false);
        assertSameBytes(reference(ResponseFormat.CHAT, "chatcmpl-1", 7L, "m", false, 0,
                "a much longer piece of text than the next", null, null, 0, null, true), longer);
        assertSameBytes(reference(ResponseFormat.CHAT, "chatcmpl-1", 7L, "m", false, 0, "b", null, null, 0, null,
                false), shorter);
    }

    /** The previous GenerationCall.writeChunk, verbatim but for its inputs. */
    private static String reference(ResponseFormat format, String id, long created, String model, boolean usage,
                                     int index, String text, TokenEvent e, Tokenizer tok, int offset, String finish,
                                     boolean first) throws Exception {
        JsonNode lp = NullNode.getInstance();
        if (e != null) {
            ObjectNode fresh = format.newLogprobs(JSON);
            format.addLogprobs(JSON, fresh, e, tok, offset);
            lp = fresh;
        }
        ObjectNode chunk = format.envelope(JSON, id, created, model, true);
        ((ArrayNode) chunk.get("choices")).add(format.chunkChoice(JSON, index, text, lp, finish,
                first && format == ResponseFormat.CHAT));
        if (usage) {
            chunk.putNull("usage");
        }
        return "data: " + JSON.writeValueAsString(chunk) + "\n\n";
    }

    /** Compared as the response encodes them (a lone surrogate becomes '?' in both), and as text for the message. */
    private static void assertSameBytes(String expected, String actual) {
        assertEquals(expected, actual);
        assertArrayEquals(expected.getBytes(StandardCharsets.UTF_8), actual.getBytes(StandardCharsets.UTF_8));
    }

    /** A tokenizer that knows only each id's bytes, all the chunk writer asks of it. */
    private record TableTokenizer(byte[][] vocab) implements Tokenizer {
        @Override
        public int vocabSize() {
            return vocab.length;
        }

        @Override
        public int bosId() {
            return -1;
        }

        @Override
        public int eosId() {
            return -1;
        }

        @Override
        public boolean addBos() {
            return false;
        }

        @Override
        public int[] encode(String text, boolean parseSpecial) {
            throw new UnsupportedOperationException();
        }

        @Override
        public byte[] tokenBytes(int id) {
            return vocab[id];
        }

        @Override
        public String piece(int id) {
            return new String(vocab[id], StandardCharsets.UTF_8);
        }

        @Override
        public boolean isControl(int id) {
            return false;
        }
    }
}
