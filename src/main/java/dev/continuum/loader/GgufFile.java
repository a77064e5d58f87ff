package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A parsed GGUF file (v2 or v3): its metadata, tensor directory and the whole file memory-mapped copy-on-write
 * (the file itself is never written; the weight kernels repack tensors in place in the process's private copy of
 * their pages). The mapping lives in the arena given at open time and stays valid until that arena closes.
 */
public final class GgufFile {
    private static final int MAGIC = 0x46554747; // "GGUF" little-endian
    private static final int MAX_DIMS = 4;
    private static final long MAX_ARRAY_NESTING = 4;

    private final Path path;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final MemorySegment data;
    private final long alignment;

    private GgufFile(Path path, int version, GgufMetadata metadata, Map<String, GgufTensorInfo> tensors,
                     MemorySegment data, long alignment) {
        this.path = path;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.data = data;
        this.alignment = alignment;
    }

    /** Maps {@code path} in {@code arena} (use a long-lived one: the weights are read from the mapping). */
    public static GgufFile open(Path path, Arena arena) {
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(path + ": no such model file");
        }
        try {
            return parse(path, FileMapping.map(path, arena));
        } catch (IOException e) {
            throw new ModelFormatException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Parses a GGUF image already in memory; {@code path} is used in messages only. */
    public static GgufFile parse(Path path, MemorySegment segment) {
        String src = path.getFileName().toString();
        BoundedReader in = new BoundedReader(segment, src);
        int magic = in.i32("magic");
        if (magic != MAGIC) {
            throw new ModelFormatException(src + ": not a GGUF file (bad magic 0x" + Integer.toHexString(magic) + ")");
        }
        int version = in.i32("version");
        if (version != 2 && version != 3) {
            throw new ModelFormatException(src + ": unsupported GGUF version " + version + " (2 and 3 are supported)");
        }
        long tensorCount = in.i64("tensor count");
        long kvCount = in.i64("metadata count");
        // Each tensor info takes at least 8+0+4+8+4+8 bytes (an empty name is legal), each key/value at least
        // 8+0+4+1: counts beyond that cannot be honest, and checking first avoids allocating for them.
        if (tensorCount < 0 || tensorCount > in.remaining() / 32) {
            throw new ModelFormatException(src + ": absurd tensor count " + tensorCount);
        }
        if (kvCount < 0 || kvCount > in.remaining() / 13) {
            throw new ModelFormatException(src + ": absurd metadata count " + kvCount);
        }
        Map<String, Object> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string("metadata key #" + i);
            int type = in.i32("type of metadata '" + key + "'");
            if (kv.put(key, readValue(in, type, key, 0)) != null) {
                throw new ModelFormatException(src + ": duplicate metadata key '" + key + "'");
            }
        }
        GgufMetadata metadata = new GgufMetadata(kv);
        long alignment = metadata.has("general.alignment") ? metadata.getInt("general.alignment") : 32;
        if (alignment <= 0 || Long.bitCount(alignment) != 1 || alignment > 1 << 20) {
            throw new ModelFormatException(src + ": general.alignment " + alignment + " is not a sane power of two");
        }

        record Raw(String name, long[] dims, GgmlType type, long relOffset) {}
        List<Raw> raws = new ArrayList<>((int) tensorCount);
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = in.string("tensor name #" + i);
            if (!names.add(name)) {
                throw new ModelFormatException(src + ": duplicate tensor '" + name + "'");
            }
            int nDims = in.i32("dimension count of '" + name + "'");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new ModelFormatException(src + ": tensor '" + name + "' has " + nDims + " dimensions");
            }
            long[] dims = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                dims[d] = in.i64("dimension " + d + " of '" + name + "'");
                if (dims[d] <= 0 || dims[d] > segment.byteSize() * 8) {
                    throw new ModelFormatException(src + ": tensor '" + name + "' has absurd dimension " + dims[d]);
                }
            }
            int typeId = in.i32("type of '" + name + "'");
            GgmlType type = GgmlType.byId(typeId);
            // Known but unsupported types are accepted: a file may carry tensors the model never uses, and
            // WeightTensor.of reports the ones it does use.
            if (type == null) {
                throw new ModelFormatException(src + ": tensor '" + name + "' has unknown ggml type " + typeId);
            }
            long rel = in.i64("offset of '" + name + "'");
            raws.add(new Raw(name, dims, type, rel));
        }
        long dataStart = alignUp(in.position(), alignment);
        Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
        for (Raw r : raws) {
            if (r.dims[0] % r.type.blockSize != 0) {
                throw new ModelFormatException(src + ": tensor '" + r.name + "' row length " + r.dims[0]
                        + " is not a multiple of the " + r.type + " block size " + r.type.blockSize);
            }
            long bytes;
            try {
                long elements = 1;
                for (long d : r.dims) {
                    elements = Math.multiplyExact(elements, d);
                }
                bytes = r.type.bytesFor(elements);
            } catch (ArithmeticException e) {
                throw new ModelFormatException(src + ": tensor '" + r.name + "' " + Arrays.toString(r.dims)
                        + " has too many elements (its size overflows 64 bits)");
            }
            if (r.relOffset < 0) {
                throw new ModelFormatException(src + ": tensor '" + r.name + "' has negative offset " + r.relOffset);
            }
            if (r.relOffset % alignment != 0) {
                throw new ModelFormatException(src + ": tensor '" + r.name + "' offset " + r.relOffset
                        + " is not aligned to " + alignment);
            }
            long abs = dataStart + r.relOffset;
            if (abs < dataStart || abs > segment.byteSize() || bytes > segment.byteSize() - abs) {
                throw new ModelFormatException(src + ": tensor '" + r.name + "' (" + bytes + " bytes at offset " + abs
                        + ") extends past the end of the file (" + segment.byteSize() + " bytes): truncated file?");
            }
            tensors.put(r.name, new GgufTensorInfo(r.name, r.dims, r.type, abs, bytes));
        }
        return new GgufFile(path, version, metadata, Collections.unmodifiableMap(tensors), segment, alignment);
    }

    private static Object readValue(BoundedReader in, int type, String key, int depth) {
        String what = "value of '" + key + "'";
        return switch (type) {
            case 0 -> (int) in.i8(what) & 0xFF;
            case 1 -> (int) in.i8(what);
            case 2 -> (int) in.i16(what) & 0xFFFF;
            case 3 -> (int) in.i16(what);
            case 4 -> (long) in.i32(what) & 0xFFFFFFFFL;
            case 5 -> in.i32(what);
            case 6 -> in.f32(what);
            case 7 -> in.i8(what) != 0;
            case 8 -> in.string(what);
            case 9 -> readArray(in, key, depth);
            case 10, 11 -> in.i64(what);
            case 12 -> in.f64(what);
            default -> throw in.error("metadata '" + key + "' has unknown value type " + type);
        };
    }

    private static Object readArray(BoundedReader in, String key, int depth) {
        if (depth >= MAX_ARRAY_NESTING) {
            throw in.error("metadata '" + key + "' nests arrays too deeply");
        }
        int type = in.i32("array type of '" + key + "'");
        long count = in.i64("array length of '" + key + "'");
        int minBytes = switch (type) {
            case 0, 1, 7 -> 1;
            case 2, 3 -> 2;
            case 4, 5, 6 -> 4;
            case 8, 10, 11, 12 -> 8;
            case 9 -> 12;
            default -> throw in.error("metadata '" + key + "' is an array of unknown type " + type);
        };
        if (count < 0 || count > in.remaining() / minBytes) {
            throw in.error("metadata '" + key + "' claims " + count + " array elements, more than the file holds");
        }
        int n = (int) count;
        String what = "element of '" + key + "'";
        switch (type) {
            case 0, 1, 2, 3, 5 -> {
                int[] a = new int[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Integer) readValue(in, type, key, depth);
                }
                return a;
            }
            case 4, 10, 11 -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) {
                    a[i] = type == 4 ? in.i32(what) & 0xFFFFFFFFL : in.i64(what);
                }
                return a;
            }
            case 6 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.f32(what);
                }
                return a;
            }
            case 12 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.f64(what);
                }
                return a;
            }
            case 7 -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.i8(what) != 0;
                }
                return a;
            }
            case 8 -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.string(what);
                }
                return a;
            }
            default -> {
                Object[] a = new Object[n];
                for (int i = 0; i < n; i++) {
                    a[i] = readArray(in, key, depth + 1);
                }
                return a;
            }
        }
    }

    private static long alignUp(long v, long alignment) {
        return (v + alignment - 1) & -alignment;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    public long alignment() {
        return alignment;
    }

    public Map<String, GgufTensorInfo> tensors() {
        return tensors;
    }

    /** The tensor's info, or a clear error when the file lacks it. */
    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(path.getFileName() + ": required tensor '" + name + "' is missing");
        }
        return t;
    }

    /** The bytes of a tensor, as a slice of the mapping. */
    public MemorySegment bytes(GgufTensorInfo t) {
        return data.asSlice(t.offset(), t.byteSize());
    }
}
