package dev.continuum.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.format.ModelFormatException;
import dev.continuum.tokenizer.Gpt2Tokenizer;
import dev.continuum.tokenizer.SentencePieceTokenizer;
import dev.continuum.tokenizer.Tokenizer;
import java.lang.foreign.Arena;
import java.util.Map;
import org.junit.jupiter.api.Test;

@IntegrationTest
class GgufTokenizerReaderTest {
    @Test
    void unknownModelIsNamedInTheError() {
        GgufMetadata md = new GgufMetadata(Map.of("tokenizer.ggml.model", "rwkv",
                "tokenizer.ggml.tokens", new String[] {"a"}));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufTokenizerReader.read(md));
        assertTrue(e.getMessage().contains("'rwkv'"), e.getMessage());
    }

    @Test
    void missingTokensIsAnError() {
        GgufMetadata md = new GgufMetadata(Map.of("tokenizer.ggml.model", "llama"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufTokenizerReader.read(md));
        assertTrue(e.getMessage().contains("tokenizer.ggml.tokens"), e.getMessage());
    }

    @Test
    void outOfRangeSpecialIdIsAnError() {
        GgufMetadata md = new GgufMetadata(Map.of("tokenizer.ggml.model", "llama",
                "tokenizer.ggml.tokens", new String[] {"<unk>", "<s>", "</s>"},
                "tokenizer.ggml.eos_token_id", 7L));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufTokenizerReader.read(md));
        assertTrue(e.getMessage().contains("EOS token id 7"), e.getMessage());
    }

    @Test
    void sentencePieceParsesSpecialTokensOnlyWhenAsked() {
        Tokenizer t = load("models/stories260K.gguf");
        assertInstanceOf(SentencePieceTokenizer.class, t);
        int[] hi = t.encode("Hi", false);
        int[] special = t.encode("<s>Hi", true);
        assertEquals(1, special[0]);
        assertArrayEquals(hi, java.util.Arrays.copyOfRange(special, 1, special.length));
        for (int id : t.encode("<s>Hi", false)) {
            assertTrue(id != 1, "plain-text <s> must not become BOS");
        }
        assertTrue(t.isControl(1));
        assertEquals(0, t.tokenBytes(1).length);
    }

    @Test
    void gpt2ParsesEndOfTextOnlyWhenAsked() {
        Tokenizer t = load("models/vocab/ggml-vocab-gpt-2.gguf");
        assertInstanceOf(Gpt2Tokenizer.class, t);
        assertFalse(t.addBos());
        int eot = 50256;
        assertEquals("<|endoftext|>", t.piece(eot));
        assertArrayEquals(new int[] {64, eot, 65}, t.encode("a<|endoftext|>b", true));
        for (int id : t.encode("a<|endoftext|>b", false)) {
            assertTrue(id != eot, "plain-text <|endoftext|> must not become the control token");
        }
        assertEquals("ab", t.decode(new int[] {64, eot, 65}));
    }

    private static Tokenizer load(String relative) {
        try (Arena arena = Arena.ofConfined()) {
            return GgufTokenizerReader.read(GgufFile.open(SharedTestData.require(relative), arena).metadata());
        }
    }
}
