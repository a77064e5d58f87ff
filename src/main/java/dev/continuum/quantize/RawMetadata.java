package dev.continuum.quantize;

import dev.continuum.format.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A GGUF file's metadata entries as their encoded bytes, in file order, so they can be copied into another file
 * unchanged (llama-quantize copies every key with its exact type: a UINT32 stays UINT32, which the parsed
 * {@link dev.continuum.loader.GgufMetadata} cannot tell from a UINT64).
 */
record RawMetadata(List<Entry> entries) {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int TYPE_STRING = 8;
    private static final int TYPE_ARRAY = 9;

    /** One entry: its key and the bytes of the whole entry (key length, key, type, value). */
    record Entry(String key, byte[] bytes) {
    }

    /** Reads the entries of the (already validated) GGUF image {@code file}. */
    static RawMetadata read(MemorySegment file) {
        long count = file.get(I64, 16);
        long pos = 24;
        List<Entry> entries = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            long start = pos;
            long keyLength = file.get(I64, pos);
            String key = new String(file.asSlice(pos + 8, keyLength).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            pos += 8 + keyLength;
            int type = file.get(I32, pos);
            pos = skipValue(file, pos + 4, type);
            entries.add(new Entry(key, file.asSlice(start, pos - start).toArray(ValueLayout.JAVA_BYTE)));
        }
        return new RawMetadata(entries);
    }

    private static long skipValue(MemorySegment f, long pos, int type) {
        return switch (type) {
            case 0, 1, 7 -> pos + 1;
            case 2, 3 -> pos + 2;
            case 4, 5, 6 -> pos + 4;
            case 10, 11, 12 -> pos + 8;
            case TYPE_STRING -> pos + 8 + f.get(I64, pos);
            case TYPE_ARRAY -> {
                int elementType = f.get(I32, pos);
                long n = f.get(I64, pos + 4);
                long p = pos + 12;
                int fixed = switch (elementType) {
                    case 0, 1, 7 -> 1;
                    case 2, 3 -> 2;
                    case 4, 5, 6 -> 4;
                    case 10, 11, 12 -> 8;
                    default -> 0;
                };
                if (fixed > 0) {
                    yield p + fixed * n;
                }
                for (long i = 0; i < n; i++) {
                    p = skipValue(f, p, elementType);
                }
                yield p;
            }
            default -> throw new ModelFormatException("unknown GGUF metadata type " + type);
        };
    }
}
