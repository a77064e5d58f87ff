package dev.continuum.loader;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** A growable little-endian byte buffer for building GGUF headers. */
final class LittleEndianBuffer {
    private ByteBuffer buf = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);

    private ByteBuffer room(int bytes) {
        if (buf.remaining() < bytes) {
            long wanted = Math.max((long) buf.capacity() * 2, (long) buf.position() + bytes);
            ByteBuffer bigger = ByteBuffer.allocate(Math.toIntExact(wanted)).order(ByteOrder.LITTLE_ENDIAN);
            bigger.put(buf.flip());
            buf = bigger;
        }
        return buf;
    }

    LittleEndianBuffer i8(int v) {
        room(1).put((byte) v);
        return this;
    }

    LittleEndianBuffer i16(int v) {
        room(2).putShort((short) v);
        return this;
    }

    LittleEndianBuffer i32(int v) {
        room(4).putInt(v);
        return this;
    }

    LittleEndianBuffer i64(long v) {
        room(8).putLong(v);
        return this;
    }

    LittleEndianBuffer f32(float v) {
        room(4).putFloat(v);
        return this;
    }

    LittleEndianBuffer f64(double v) {
        room(8).putDouble(v);
        return this;
    }

    LittleEndianBuffer bytes(byte[] v) {
        room(v.length).put(v);
        return this;
    }

    /** A GGUF string: uint64 byte length, then the UTF-8 bytes. */
    LittleEndianBuffer string(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        return i64(utf8.length).bytes(utf8);
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    LittleEndianBuffer padTo(long alignment) {
        while (buf.position() % alignment != 0) {
            i8(0);
        }
        return this;
    }

    int size() {
        return buf.position();
    }

    byte[] toByteArray() {
        byte[] out = new byte[buf.position()];
        buf.get(0, out);
        return out;
    }
}
