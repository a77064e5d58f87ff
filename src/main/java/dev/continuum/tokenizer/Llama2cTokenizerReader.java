package dev.continuum.tokenizer;

import dev.continuum.format.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a llama2.c {@code tokenizer.bin} (int32 max token length, then per token float32 score, int32 length
 * and the bytes) into a SentencePiece tokenizer. llama2.c stores spaces where SentencePiece has U+2581 and
 * wraps BOS/EOS in newlines; both are undone here.
 */
public final class Llama2cTokenizerReader {
    private static final int FIRST_BYTE_TOKEN = 3;

    private Llama2cTokenizerReader() {
    }

    public static SentencePieceTokenizer read(Path path, int vocabSize) {
        if (vocabSize < FIRST_BYTE_TOKEN + 256) {
            throw new ModelFormatException("llama2.c vocabulary size " + vocabSize + " is smaller than the "
                    + (FIRST_BYTE_TOKEN + 256) + " tokens every llama2.c tokenizer has");
        }
        byte[] data;
        try {
            data = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read llama2.c tokenizer " + path + ": " + e.getMessage(), e);
        }
        ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        String[] pieces = new String[vocabSize];
        float[] scores = new float[vocabSize];
        int[] types = new int[vocabSize];
        try {
            in.getInt(); // max token length: only a buffer-size hint for llama2.c
            for (int id = 0; id < vocabSize; id++) {
                scores[id] = in.getFloat();
                int length = in.getInt();
                if (length < 0 || length > in.remaining()) {
                    throw new ModelFormatException("llama2.c tokenizer " + path + ": token " + id + " has length "
                            + length + " but only " + in.remaining() + " bytes remain");
                }
                String text = new String(data, in.position(), length, StandardCharsets.UTF_8);
                in.position(in.position() + length);
                pieces[id] = text.replace(' ', SentencePieceTokenizer.SPACE_MARKER);
                types[id] = id < FIRST_BYTE_TOKEN ? TokenType.CONTROL
                        : id < FIRST_BYTE_TOKEN + 256 ? TokenType.BYTE : TokenType.NORMAL;
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new ModelFormatException("llama2.c tokenizer " + path + " ends before its " + vocabSize
                    + " tokens", e);
        }
        pieces[0] = "<unk>";
        pieces[1] = "<s>";
        pieces[2] = "</s>";
        return new SentencePieceTokenizer(new Vocabulary(pieces, scores, types), 1, 2, 0, true, true);
    }
}
