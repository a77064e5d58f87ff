package dev.continuum.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ByteLevelTokenizerTest {
    private final ByteLevelTokenizer tokenizer = new ByteLevelTokenizer(1000);

    @Test
    void roundTripsAnyText() {
        String text = "Hello, wörld! 🦙\n\t€";
        int[] ids = tokenizer.encode(text, false);
        assertEquals(text, tokenizer.decode(ids));
        assertEquals(3 + 'H', ids[0]);
    }

    @Test
    void specialAndHighIds() {
        assertEquals(1, tokenizer.bosId());
        assertEquals(2, tokenizer.eosId());
        assertTrue(tokenizer.addBos());
        assertTrue(tokenizer.isControl(1));
        assertArrayEquals(new byte[0], tokenizer.tokenBytes(2));
        assertArrayEquals(new byte[] {' '}, tokenizer.tokenBytes(259));
        assertArrayEquals(new byte[] {'~'}, tokenizer.tokenBytes(259 + 94));
        assertArrayEquals(new byte[] {' '}, tokenizer.tokenBytes(259 + 95));
        assertEquals("Hi", tokenizer.decode(new int[] {1, 3 + 'H', 3 + 'i'}));
    }
}
