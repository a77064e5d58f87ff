package dev.continuum.loader;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the integer fields of a well-formed GGUF image lie (counts, lengths, types, integer values, tensor
 * dimensions and offsets), found by walking the format independently of {@link GgufFile}, so a mutational fuzzer
 * can overwrite exactly the numbers the loader trusts. Long arrays contribute only their first and last elements,
 * so a token table does not drown out the header's fields.
 */
final class GgufFieldMap {
    /** An integer field: {@code width} bytes at {@code offset}; {@code key} is the metadata key of a scalar value. */
    record Field(long offset, int width, String what, String key) {
    }

    private static final int ARRAY_SAMPLE = 3;

    private final ByteBuffer in;
    private final List<Field> fields = new ArrayList<>();
    private long dataStart;

    private GgufFieldMap(byte[] image) {
        this.in = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
    }

    static GgufFieldMap of(byte[] image) {
        GgufFieldMap map = new GgufFieldMap(image);
        map.walk();
        return map;
    }

    List<Field> fields() {
        return fields;
    }

    /** Where the tensor data begins (the end of the header, before alignment padding). */
    long headerEnd() {
        return dataStart;
    }

    private void walk() {
        in.position(8);
        long tensors = field(8, "tensor count", null);
        long kvs = field(8, "metadata count", null);
        for (long i = 0; i < kvs; i++) {
            String key = string("metadata key");
            int type = (int) field(4, "type of " + key, null);
            value(type, key, true);
        }
        for (long i = 0; i < tensors; i++) {
            String name = string("tensor name");
            int dims = (int) field(4, "dimension count of " + name, null);
            for (int d = 0; d < dims; d++) {
                field(8, "dimension " + d + " of " + name, null);
            }
            field(4, "type of " + name, null);
            field(8, "offset of " + name, null);
        }
        dataStart = in.position();
    }

    private void value(int type, String key, boolean record) {
        switch (type) {
            case 0, 1, 7 -> skipOrRecord(1, key, record);
            case 2, 3 -> skipOrRecord(2, key, record);
            case 4, 5 -> skipOrRecord(4, key, record);
            case 6 -> in.position(in.position() + 4);
            case 10, 11 -> skipOrRecord(8, key, record);
            case 12 -> in.position(in.position() + 8);
            case 8 -> {
                if (record) {
                    string("value of " + key);
                } else {
                    int length = (int) in.getLong();
                    in.position(in.position() + length);
                }
            }
            case 9 -> {
                int elementType = (int) field(4, "array type of " + key, null);
                long count = field(8, "array length of " + key, null);
                for (long e = 0; e < count; e++) {
                    value(elementType, key + "[" + e + "]", record && (e < ARRAY_SAMPLE || e == count - 1));
                }
            }
            default -> throw new IllegalStateException("value type " + type + " of " + key);
        }
    }

    private void skipOrRecord(int width, String key, boolean record) {
        if (record) {
            field(width, "value of " + key, key);
        } else {
            in.position(in.position() + width);
        }
    }

    private String string(String what) {
        int length = (int) field(8, what + " length", null);
        byte[] bytes = new byte[length];
        in.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private long field(int width, String what, String key) {
        long offset = in.position();
        long value = switch (width) {
            case 1 -> in.get() & 0xFF;
            case 2 -> in.getShort() & 0xFFFF;
            case 4 -> in.getInt() & 0xFFFFFFFFL;
            default -> in.getLong();
        };
        fields.add(new Field(offset, width, what, key));
        return value;
    }
}
