package dev.continuum.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Turns text into token ids and token ids back into bytes, as the model's vocabulary defines them. */
public interface Tokenizer {
    int vocabSize();

    /** The beginning-of-sequence token, or -1 when the vocabulary has none. */
    int bosId();

    /** The end-of-generation token, or -1 when the vocabulary has none. */
    int eosId();

    /** Whether a prompt gets BOS prepended by default. */
    boolean addBos();

    /**
     * Encodes text without BOS. With {@code parseSpecial} the texts of control and user-defined tokens (such as
     * {@code <|im_start|>}) are recognised in the text; without it they are plain text, as in llama.cpp's
     * {@code parse_special=false} (user-defined tokens are still recognised then, as llama.cpp does).
     */
    int[] encode(String text, boolean parseSpecial);

    /**
     * The raw bytes this token contributes to the output text: nothing for control tokens, one byte for a
     * byte token, the piece with its space marker or byte-level mapping undone otherwise.
     */
    byte[] tokenBytes(int id);

    /** The vocabulary string as stored. */
    String piece(int id);

    boolean isControl(int id);

    /** The UTF-8 decoding of the concatenated bytes of the tokens (invalid bytes become U+FFFD). */
    default String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(tokenBytes(id));
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
