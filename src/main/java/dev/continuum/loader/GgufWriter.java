package dev.continuum.loader;

import dev.continuum.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a GGUF v3 file: metadata of any GGUF value type, then tensors each starting at a multiple of
 * {@code general.alignment} (32 unless that key is set, as a UINT32 power of two).
 *
 * <p>Tensor bytes are written straight into a memory mapping of the output file, so tensors larger than the
 * heap stream through the page cache, and regions a {@link TensorFiller} leaves untouched stay sparse.
 */
public final class GgufWriter {
    static final int VERSION = 3;
    private static final int MAGIC = 0x46554747; // "GGUF" little-endian
    private static final long DEFAULT_ALIGNMENT = 32;

    /** Fills a tensor's bytes, given as a writable region of the output file of exactly its size. */
    @FunctionalInterface
    public interface TensorFiller {
        void fill(MemorySegment target) throws IOException;
    }

    private record Entry(GgufValueType type, Object value) {}

    private record Tensor(String name, long[] dims, GgmlType type, long byteSize, TensorFiller filler) {}

    private final Map<String, Entry> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    /**
     * Adds a metadata entry. {@code value} is a {@link String} for STRING, a {@link Boolean} for BOOL, a
     * {@link GgufArray} for ARRAY and a {@link Number} otherwise (for UINT64 the long's bits are unsigned).
     * Integers out of the type's range are rejected rather than silently truncated.
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        encode(new LittleEndianBuffer(), type, value, key); // validate now, where the caller's mistake is
        if (metadata.putIfAbsent(key, new Entry(type, value)) != null) {
            throw new IllegalArgumentException("metadata key '" + key + "' is already set");
        }
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    public GgufWriter putUint32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putInt32(String key, int value) {
        return put(key, GgufValueType.INT32, value);
    }

    public GgufWriter putUint64(String key, long value) {
        return put(key, GgufValueType.UINT64, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putStringArray(String key, List<String> values) {
        return put(key, GgufValueType.ARRAY, new GgufArray(GgufValueType.STRING, values));
    }

    public GgufWriter putInt32Array(String key, int[] values) {
        return put(key, GgufValueType.ARRAY, new GgufArray(GgufValueType.INT32, Arrays.stream(values).boxed().toList()));
    }

    public GgufWriter putFloat32Array(String key, float[] values) {
        List<Float> boxed = new ArrayList<>(values.length);
        for (float v : values) {
            boxed.add(v);
        }
        return put(key, GgufValueType.ARRAY, new GgufArray(GgufValueType.FLOAT32, boxed));
    }

    /** Adds a tensor whose bytes are copied from {@code data}, which must hold exactly the tensor's bytes. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, MemorySegment data) {
        long expected = checkedByteSize(name, type, dims);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' needs " + expected + " bytes, got "
                    + data.byteSize());
        }
        return addTensor(name, type, dims, target -> MemorySegment.copy(data, 0, target, 0, expected));
    }

    /** Adds a tensor ({@code dims[0]} innermost) whose bytes {@code filler} writes when the file is written. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, TensorFiller filler) {
        long byteSize = checkedByteSize(name, type, dims);
        if (!tensorNames.add(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' is already added");
        }
        tensors.add(new Tensor(name, dims.clone(), type, byteSize, filler));
        return this;
    }

    private static long checkedByteSize(String name, GgmlType type, long[] dims) {
        if (dims.length < 1 || dims.length > 4) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + dims.length + " dimensions, GGUF allows 1 to 4");
        }
        long elements = 1;
        for (long d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has dimension " + d);
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (dims[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor '" + name + "' row length " + dims[0]
                    + " is not a multiple of the " + type + " block size " + type.blockSize);
        }
        return type.bytesFor(elements);
    }

    /** Writes the file, replacing any existing one. */
    public void write(Path path) throws IOException {
        long alignment = alignment();
        LittleEndianBuffer header = new LittleEndianBuffer();
        header.i32(MAGIC).i32(VERSION).i64(tensors.size()).i64(metadata.size());
        metadata.forEach((key, e) -> {
            header.string(key).i32(e.type.id);
            encode(header, e.type, e.value, key);
        });
        long[] offsets = new long[tensors.size()];
        long dataSize = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            offsets[i] = dataSize;
            dataSize = alignUp(dataSize + t.byteSize, alignment);
            header.string(t.name).i32(t.dims.length);
            for (long d : t.dims) {
                header.i64(d);
            }
            header.i32(t.type.id).i64(offsets[i]);
        }
        header.padTo(alignment);
        long dataStart = header.size();

        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofConfined()) {
            ByteBuffer head = ByteBuffer.wrap(header.toByteArray());
            while (head.hasRemaining()) {
                ch.write(head);
            }
            if (dataSize == 0) {
                return;
            }
            // Mapping extends the file with zeros, which also provides the padding between tensors.
            MemorySegment data = ch.map(FileChannel.MapMode.READ_WRITE, dataStart, dataSize, arena);
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                t.filler.fill(data.asSlice(offsets[i], t.byteSize));
            }
            data.force();
        }
    }

    private long alignment() {
        Entry e = metadata.get("general.alignment");
        if (e == null) {
            return DEFAULT_ALIGNMENT;
        }
        long a = e.type == GgufValueType.UINT32 ? ((Number) e.value).longValue() : -1;
        if (a <= 0 || Long.bitCount(a) != 1) {
            throw new IllegalArgumentException("general.alignment must be a UINT32 power of two, got " + e.type
                    + " " + e.value);
        }
        return a;
    }

    private static long alignUp(long v, long alignment) {
        return (v + alignment - 1) & -alignment;
    }

    private static void encode(LittleEndianBuffer out, GgufValueType type, Object value, String key) {
        switch (type) {
            case UINT8 -> out.i8((int) integer(key, type, value, 0, 0xFF));
            case INT8 -> out.i8((int) integer(key, type, value, Byte.MIN_VALUE, Byte.MAX_VALUE));
            case UINT16 -> out.i16((int) integer(key, type, value, 0, 0xFFFF));
            case INT16 -> out.i16((int) integer(key, type, value, Short.MIN_VALUE, Short.MAX_VALUE));
            case UINT32 -> out.i32((int) integer(key, type, value, 0, 0xFFFF_FFFFL));
            case INT32 -> out.i32((int) integer(key, type, value, Integer.MIN_VALUE, Integer.MAX_VALUE));
            case UINT64, INT64 -> out.i64(integer(key, type, value, Long.MIN_VALUE, Long.MAX_VALUE));
            case FLOAT32 -> out.f32(as(key, type, value, Number.class).floatValue());
            case FLOAT64 -> out.f64(as(key, type, value, Number.class).doubleValue());
            case BOOL -> out.i8(as(key, type, value, Boolean.class) ? 1 : 0);
            case STRING -> out.string(as(key, type, value, String.class));
            case ARRAY -> {
                GgufArray array = as(key, type, value, GgufArray.class);
                out.i32(array.elementType().id).i64(array.values().size());
                for (Object element : array.values()) {
                    encode(out, array.elementType(), element, key);
                }
            }
        }
    }

    private static long integer(String key, GgufValueType type, Object value, long min, long max) {
        if (!(value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte)) {
            throw new IllegalArgumentException("metadata '" + key + "': " + type + " needs an integer, got " + value);
        }
        long v = ((Number) value).longValue();
        if (v < min || v > max) {
            throw new IllegalArgumentException("metadata '" + key + "': " + v + " does not fit in " + type);
        }
        return v;
    }

    private static <T> T as(String key, GgufValueType type, Object value, Class<T> expected) {
        if (!expected.isInstance(value)) {
            throw new IllegalArgumentException("metadata '" + key + "': " + type + " needs a "
                    + expected.getSimpleName() + ", got " + value);
        }
        return expected.cast(value);
    }
}
