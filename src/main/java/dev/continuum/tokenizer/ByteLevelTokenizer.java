package dev.continuum.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The tokenizer of seeded random "dummy" models, which have no vocabulary of their own: 0 unknown, 1 BOS,
 * 2 EOS, 3..258 the bytes 0x00..0xFF, and every higher id one printable ASCII character so that generated
 * output stays readable.
 */
public final class ByteLevelTokenizer implements Tokenizer {
    private static final int FIRST_BYTE = 3;
    private static final int FIRST_PRINTABLE = FIRST_BYTE + 256;
    private static final byte[] NOTHING = new byte[0];

    private final int vocabSize;

    public ByteLevelTokenizer(int vocabSize) {
        if (vocabSize < FIRST_PRINTABLE) {
            throw new IllegalArgumentException("a byte-level vocabulary needs at least " + FIRST_PRINTABLE
                    + " tokens, got " + vocabSize);
        }
        this.vocabSize = vocabSize;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int bosId() {
        return 1;
    }

    @Override
    public int eosId() {
        return 2;
    }

    @Override
    public boolean addBos() {
        return true;
    }

    @Override
    public int[] encode(String text, boolean parseSpecial) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            ids[i] = FIRST_BYTE + (utf8[i] & 0xFF);
        }
        return ids;
    }

    @Override
    public byte[] tokenBytes(int id) {
        checkId(id);
        if (id < FIRST_BYTE) {
            return NOTHING;
        }
        if (id < FIRST_PRINTABLE) {
            return new byte[] {(byte) (id - FIRST_BYTE)};
        }
        return new byte[] {(byte) (32 + (id - FIRST_PRINTABLE) % 95)};
    }

    @Override
    public String piece(int id) {
        checkId(id);
        return switch (id) {
            case 0 -> "<unk>";
            case 1 -> "<s>";
            case 2 -> "</s>";
            default -> id < FIRST_PRINTABLE ? String.format("<0x%02X>", id - FIRST_BYTE)
                    : String.valueOf((char) (32 + (id - FIRST_PRINTABLE) % 95));
        };
    }

    @Override
    public boolean isControl(int id) {
        checkId(id);
        return id < FIRST_BYTE;
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocabSize) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + vocabSize);
        }
    }
}
