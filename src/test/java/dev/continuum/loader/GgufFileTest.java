package dev.continuum.loader;

import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static dev.continuum.loader.GgufValueType.*;
import static org.junit.jupiter.api.Assertions.*;

/** Round trips through {@link GgufWriter} and {@link GgufFile}: every value type, tensor layout and bytes. */
class GgufFileTest {
    @TempDir
    Path dir;

    private static final long[][] DIMS = {{64, 3}, {32, 2, 2}, {96, 4}, {32}, {8}};
    private static final GgmlType[] TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.F32};
    private static final String[] NAMES = {"a.f32", "b.f16", "c.q8_0", "d.q4_0", "e.tiny"};

    /** A writer holding every metadata type, five tensors of random bytes and alignment 64. */
    private static GgufWriter everything(byte[][] tensorBytes) {
        GgufWriter w = new GgufWriter()
                .put("u8", UINT8, 250)
                .put("i8", INT8, -7)
                .put("u16", UINT16, 65535)
                .put("i16", INT16, -30000)
                .putUint32("u32", 4_000_000_000L)
                .putInt32("i32", -123456789)
                .putFloat32("f32", 1.5f)
                .putBool("yes", true)
                .putBool("no", false)
                .putString("str", "héllo ✓ GGUF")
                .putString("empty", "")
                .putUint64("u64", -1L) // all bits set: 2^64 - 1 read back as the long -1
                .put("i64", INT64, Long.MIN_VALUE)
                .put("f64", FLOAT64, Math.PI)
                .put("a.u8", ARRAY, GgufArray.of(UINT8, 0, 255, 128))
                .put("a.i8", ARRAY, GgufArray.of(INT8, -128, 127))
                .put("a.u16", ARRAY, GgufArray.of(UINT16, 0, 65535))
                .put("a.i16", ARRAY, GgufArray.of(INT16, -32768, 32767))
                .put("a.u32", ARRAY, GgufArray.of(UINT32, 0L, 4294967295L))
                .putInt32Array("a.i32", new int[]{Integer.MIN_VALUE, 0, Integer.MAX_VALUE})
                .putFloat32Array("a.f32", new float[]{-0.5f, Float.MAX_VALUE, Float.MIN_VALUE})
                .put("a.bool", ARRAY, GgufArray.of(BOOL, true, false, true))
                .putStringArray("a.str", List.of("<s>", "", "▁the"))
                .put("a.u64", ARRAY, GgufArray.of(UINT64, 1L, -1L))
                .put("a.i64", ARRAY, GgufArray.of(INT64, Long.MIN_VALUE, Long.MAX_VALUE))
                .put("a.f64", ARRAY, GgufArray.of(FLOAT64, 1e300, -2.5))
                .put("a.empty", ARRAY, GgufArray.of(INT32))
                .put("a.nested", ARRAY, GgufArray.of(ARRAY,
                        GgufArray.of(INT32, 1, 2, 3), GgufArray.of(STRING, "x"), GgufArray.of(ARRAY,
                                GgufArray.of(FLOAT32, 2f))))
                .putUint32("general.alignment", 64);
        Random random = new Random(42);
        for (int i = 0; i < NAMES.length; i++) {
            long elements = 1;
            for (long d : DIMS[i]) {
                elements *= d;
            }
            tensorBytes[i] = new byte[(int) TYPES[i].bytesFor(elements)];
            random.nextBytes(tensorBytes[i]);
            w.addTensor(NAMES[i], TYPES[i], DIMS[i], MemorySegment.ofArray(tensorBytes[i]));
        }
        return w;
    }

    @Test
    void roundTripKeepsEveryValueTypeAndTensor() throws IOException {
        byte[][] tensorBytes = new byte[NAMES.length][];
        Path file = dir.resolve("all.gguf");
        everything(tensorBytes).write(file);

        try (Arena arena = Arena.ofConfined()) {
            GgufFile gguf = GgufFile.open(file, arena);
            assertEquals(3, gguf.version());
            assertEquals(64, gguf.alignment());
            GgufMetadata m = gguf.metadata();
            assertEquals(250, m.get("u8"));
            assertEquals(-7, m.get("i8"));
            assertEquals(65535, m.get("u16"));
            assertEquals(-30000, m.get("i16"));
            assertEquals(4_000_000_000L, m.get("u32"));
            assertEquals(-123456789, m.get("i32"));
            assertEquals(1.5f, m.get("f32"));
            assertEquals(true, m.get("yes"));
            assertEquals(false, m.get("no"));
            assertEquals("héllo ✓ GGUF", m.getString("str"));
            assertEquals("", m.getString("empty"));
            assertEquals(-1L, m.get("u64"));
            assertEquals(Long.MIN_VALUE, m.get("i64"));
            assertEquals(Math.PI, m.get("f64"));
            assertArrayEquals(new int[]{0, 255, 128}, (int[]) m.get("a.u8"));
            assertArrayEquals(new int[]{-128, 127}, (int[]) m.get("a.i8"));
            assertArrayEquals(new int[]{0, 65535}, (int[]) m.get("a.u16"));
            assertArrayEquals(new int[]{-32768, 32767}, (int[]) m.get("a.i16"));
            assertArrayEquals(new long[]{0, 4294967295L}, (long[]) m.get("a.u32"));
            assertArrayEquals(new int[]{Integer.MIN_VALUE, 0, Integer.MAX_VALUE}, m.getIntArray("a.i32"));
            assertArrayEquals(new float[]{-0.5f, Float.MAX_VALUE, Float.MIN_VALUE}, m.getFloatArray("a.f32"));
            assertArrayEquals(new boolean[]{true, false, true}, (boolean[]) m.get("a.bool"));
            assertArrayEquals(new String[]{"<s>", "", "▁the"}, m.getStringArray("a.str"));
            assertArrayEquals(new long[]{1, -1}, (long[]) m.get("a.u64"));
            assertArrayEquals(new long[]{Long.MIN_VALUE, Long.MAX_VALUE}, (long[]) m.get("a.i64"));
            assertArrayEquals(new double[]{1e300, -2.5}, (double[]) m.get("a.f64"));
            assertArrayEquals(new int[0], (int[]) m.get("a.empty"));
            Object[] nested = (Object[]) m.get("a.nested");
            assertEquals(3, nested.length);
            assertArrayEquals(new int[]{1, 2, 3}, (int[]) nested[0]);
            assertArrayEquals(new String[]{"x"}, (String[]) nested[1]);
            assertArrayEquals(new float[]{2f}, (float[]) ((Object[]) nested[2])[0]);
            assertEquals(64L, m.get("general.alignment"));
            assertEquals(29, m.keys().size());

            assertEquals(List.of(NAMES), List.copyOf(gguf.tensors().keySet()));
            long previousEnd = 0;
            for (int i = 0; i < NAMES.length; i++) {
                GgufTensorInfo t = gguf.tensor(NAMES[i]);
                assertArrayEquals(DIMS[i], t.dims(), NAMES[i]);
                assertEquals(TYPES[i], t.type(), NAMES[i]);
                assertEquals(0, t.offset() % 64, NAMES[i] + " offset " + t.offset());
                assertTrue(t.offset() >= previousEnd, "tensors must not overlap");
                previousEnd = t.offset() + t.byteSize();
                assertEquals(tensorBytes[i].length, t.byteSize());
                assertArrayEquals(tensorBytes[i], gguf.bytes(t).toArray(ValueLayout.JAVA_BYTE),
                        NAMES[i]);
            }
            assertEquals((previousEnd + 63) / 64 * 64, Files.size(file), "the last tensor is padded to the alignment");
        }
    }

    @Test
    void version2HeaderParsesTheSame() throws IOException {
        byte[][] tensorBytes = new byte[NAMES.length][];
        Path file = dir.resolve("v3.gguf");
        everything(tensorBytes).write(file);
        byte[] image = Files.readAllBytes(file);
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 2);

        GgufFile v2 = GgufFile.parse(Path.of("v2.gguf"), MemorySegment.ofArray(image));
        assertEquals(2, v2.version());
        assertEquals("héllo ✓ GGUF", v2.metadata().getString("str"));
        GgufTensorInfo q4 = v2.tensor("d.q4_0");
        assertEquals(GgmlType.Q4_0, q4.type());
        assertArrayEquals(tensorBytes[3], v2.bytes(q4).toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void defaultAlignmentIs32AndAnEmptyFileOfTensorsIsValid() throws IOException {
        Path file = dir.resolve("meta-only.gguf");
        new GgufWriter().putString("general.architecture", "llama").write(file);
        try (Arena arena = Arena.ofConfined()) {
            GgufFile gguf = GgufFile.open(file, arena);
            assertEquals(32, gguf.alignment());
            assertTrue(gguf.tensors().isEmpty());
            assertEquals("llama", gguf.metadata().getString("general.architecture"));
        }
        Path withTensor = dir.resolve("one.gguf");
        new GgufWriter().addTensor("w", GgmlType.F32, new long[]{3}, MemorySegment.ofArray(new float[]{1, 2, 3}))
                .write(withTensor);
        try (Arena arena = Arena.ofConfined()) {
            GgufTensorInfo t = GgufFile.open(withTensor, arena).tensor("w");
            assertEquals(0, t.offset() % 32);
            assertEquals(12, t.byteSize());
        }
    }

    @Test
    void writerRejectsValuesThatDoNotFitTheirType() {
        GgufWriter w = new GgufWriter();
        assertThrows(IllegalArgumentException.class, () -> w.put("k", UINT8, 256));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", INT8, 128));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", UINT32, -1L));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", INT32, 1.5f));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", STRING, 3));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", ARRAY, GgufArray.of(INT16, 40000)));
        w.putString("k", "v");
        assertThrows(IllegalArgumentException.class, () -> w.putString("k", "again"));
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("t", GgmlType.Q4_0, new long[]{33}, target -> {}));
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("t", GgmlType.F32, new long[]{4}, MemorySegment.ofArray(new byte[15])));
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("t", GgmlType.F32, new long[]{1, 1, 1, 1, 1}, target -> {}));
        w.addTensor("t", GgmlType.F32, new long[]{1}, target -> {});
        w.putInt32("general.alignment", 48);
        assertThrows(IllegalArgumentException.class, () -> w.write(Path.of("never-written.gguf")));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", GgmlType.F32, new long[]{1}, target -> {}));
    }
}
