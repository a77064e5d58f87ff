package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A little-endian cursor over a memory segment that checks every read against the end, so a truncated
 * or hostile file fails with a message naming what was being read instead of an out-of-bounds error.
 */
final class BoundedReader {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment segment;
    private final String source;
    private long position;

    BoundedReader(MemorySegment segment, String source) {
        this.segment = segment;
        this.source = source;
    }

    long position() {
        return position;
    }

    long remaining() {
        return segment.byteSize() - position;
    }

    /** An error about this file: the message is prefixed with the file's name. */
    ModelFormatException error(String message) {
        return new ModelFormatException(source + ": " + message);
    }

    /** Fails unless {@code bytes} more bytes can be read; {@code what} names the item for the message. */
    void require(long bytes, String what) {
        if (bytes < 0 || bytes > remaining()) {
            throw new ModelFormatException(source + ": truncated while reading " + what + " at offset " + position
                    + " (needs " + bytes + " bytes, " + remaining() + " left)");
        }
    }

    byte i8(String what) {
        require(1, what);
        return segment.get(ValueLayout.JAVA_BYTE, position++);
    }

    short i16(String what) {
        require(2, what);
        short v = segment.get(I16, position);
        position += 2;
        return v;
    }

    int i32(String what) {
        require(4, what);
        int v = segment.get(I32, position);
        position += 4;
        return v;
    }

    long i64(String what) {
        require(8, what);
        long v = segment.get(I64, position);
        position += 8;
        return v;
    }

    float f32(String what) {
        require(4, what);
        float v = segment.get(F32, position);
        position += 4;
        return v;
    }

    double f64(String what) {
        require(8, what);
        double v = segment.get(F64, position);
        position += 8;
        return v;
    }

    /** A GGUF string: a uint64 byte length then UTF-8 bytes. */
    String string(String what) {
        long len = i64(what + " length");
        // A corrupt length is far more likely than a truncated file, so say which number is wrong.
        if (len < 0 || len > remaining()) {
            throw error(what + " claims a length of " + len + " bytes, but only " + remaining()
                    + " bytes are left in the file (offset " + position + ")");
        }
        if (len > Integer.MAX_VALUE - 8) {
            throw error(what + " length " + len + " is absurd");
        }
        byte[] bytes = new byte[(int) len];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, position, bytes, 0, bytes.length);
        position += len;
        return decodeUtf8(bytes, what);
    }

    private String decodeUtf8(byte[] bytes, String what) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(source + ": " + what + " is not UTF-8", e);
        }
    }
}
