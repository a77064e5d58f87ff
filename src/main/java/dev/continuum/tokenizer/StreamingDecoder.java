package dev.continuum.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a stream of generated tokens into text pieces for streaming, holding back the bytes of a UTF-8
 * character until the token that completes it arrives, so that no client ever sees half a character.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private byte[] pending = new byte[16];
    private int pendingLength;

    public StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The text this token completes; empty while a character is still incomplete. */
    public String push(int tokenId) {
        byte[] bytes = tokenizer.tokenBytes(tokenId);
        if (pendingLength + bytes.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + bytes.length));
        }
        System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
        pendingLength += bytes.length;
        int complete = completePrefixLength();
        if (complete == 0) {
            return "";
        }
        String text = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, pendingLength - complete);
        pendingLength -= complete;
        return text;
    }

    /** Whatever is still held back, with bytes that never formed a character as U+FFFD. */
    public String flush() {
        String text = new String(pending, 0, pendingLength, StandardCharsets.UTF_8);
        pendingLength = 0;
        return text;
    }

    /**
     * How many leading pending bytes can be decoded now: all of them, unless they end in the start of a
     * multi-byte character whose continuation bytes have not all arrived. Invalid bytes count as complete
     * (they decode to U+FFFD right away rather than stalling the stream).
     */
    private int completePrefixLength() {
        // A UTF-8 character is at most 4 bytes, so only the last 3 bytes can belong to an unfinished one.
        int lowest = Math.max(0, pendingLength - 3);
        for (int i = pendingLength - 1; i >= lowest; i--) {
            int b = pending[i] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue; // continuation byte: keep looking for its lead byte
            }
            int needed = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 1;
            return pendingLength - i < needed ? i : pendingLength;
        }
        return pendingLength;
    }
}
