package dev.continuum.tokenizer;

import java.nio.charset.StandardCharsets;

/** Text to token ids and back, for one model's vocabulary. */
public interface Tokenizer {
    int vocabSize();

    int bosId();

    int eosId();

    boolean addBos();

    int[] encode(String text, boolean parseSpecial);

    byte[] tokenBytes(int id);

    String piece(int id);

    boolean isControl(int id);

    default String decode(int[] ids) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(tokenBytes(id));
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
