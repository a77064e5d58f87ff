package dev.continuum.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.continuum.format.ModelFormatException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Word splits of the pre-tokenizers that have no llama.cpp vocabulary vectors here. */
class PreTokenizerTest {
    @Test
    void llama3GroupsDigitsByThreeAndKeepsContractionsApart() {
        assertEquals(List.of("Hello", " world", " ", "123", "45", " I", "'M", "\n\n"),
                PreTokenizer.forName("llama-bpe").split("Hello world 12345 I'M\n\n"));
    }

    @Test
    void qwen2SplitsEveryDigit() {
        assertEquals(List.of("x", "1", "2", "3", " +", " ", "4"), PreTokenizer.forName("qwen2").split("x123 + 4"));
    }

    @Test
    void starcoderSplitsDigitsFirst() {
        assertEquals(List.of("a", " ", "1", "2", "3"), PreTokenizer.forName("starcoder").split("a 123"));
    }

    @Test
    void falconSplitsPunctuationThenDigitTriples() {
        assertEquals(List.of("Hello", ",", " ", "123", "4", "!"), PreTokenizer.forName("falcon").split("Hello, 1234!"));
    }

    @Test
    void gpt2KeepsUnicodeWhitespaceTogether() {
        assertEquals(List.of("a", "\u3000", " b"), PreTokenizer.forName("gpt-2").split("a\u3000 b"));
    }

    @Test
    void unknownPreIsNamedInTheError() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> PreTokenizer.forName("klingon"));
        assertTrue(e.getMessage().contains("'klingon'"), e.getMessage());
    }
}
