package dev.continuum.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StreamingDecoderTest {
    private final ByteLevelTokenizer tokenizer = new ByteLevelTokenizer(512);

    @Test
    void holdsBackASplitCharacterUntilItIsComplete() {
        StreamingDecoder decoder = new StreamingDecoder(tokenizer);
        int[] ids = tokenizer.encode("a€b", false); // € is three bytes
        assertEquals(5, ids.length);
        assertEquals("a", decoder.push(ids[0]));
        assertEquals("", decoder.push(ids[1]));
        assertEquals("", decoder.push(ids[2]));
        assertEquals("€", decoder.push(ids[3]));
        assertEquals("b", decoder.push(ids[4]));
        assertEquals("", decoder.flush());
    }

    @Test
    void holdsBackAFourByteCharacterAfterText() {
        StreamingDecoder decoder = new StreamingDecoder(tokenizer);
        byte[] emoji = "🦙".getBytes(StandardCharsets.UTF_8);
        assertEquals("x", decoder.push(3 + 'x'));
        StringBuilder out = new StringBuilder();
        for (byte b : emoji) {
            String piece = decoder.push(3 + (b & 0xFF));
            assertEquals(piece.isEmpty() || piece.equals("🦙"), true, "never half a character: " + piece);
            out.append(piece);
        }
        assertEquals("🦙", out.toString());
    }

    @Test
    void controlTokensAddNothing() {
        StreamingDecoder decoder = new StreamingDecoder(tokenizer);
        assertEquals("", decoder.push(tokenizer.bosId()));
        assertEquals("h", decoder.push(3 + 'h'));
    }

    @Test
    void flushRendersAnUnfinishedCharacterAsReplacement() {
        StreamingDecoder decoder = new StreamingDecoder(tokenizer);
        assertEquals("", decoder.push(3 + 0xE2));
        assertEquals("\uFFFD", decoder.flush());
        assertEquals("", decoder.flush());
    }

    @Test
    void invalidBytesDoNotStallTheStream() {
        StreamingDecoder decoder = new StreamingDecoder(tokenizer);
        assertEquals("\uFFFD", decoder.push(3 + 0x80));
        assertEquals("\uFFFDz", decoder.push(3 + 0xFF) + decoder.push(3 + 'z'));
    }
}
