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
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.*;

/** Files past 2 GiB, made sparse so they cost no disk: offsets and reads must not be limited to int. */
class GgufLargeFileTest {
    private static final long GAP = 5L << 29; // 2.5 GiB
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    @Test
    void readsATensorLocatedPast2GiB() throws IOException {
        Path file = dir.resolve("sparse.gguf");
        LittleEndianBuffer header = new LittleEndianBuffer().i32(0x46554747).i32(3).i64(1).i64(0)
                .string("far").i32(2).i64(4).i64(2).i32(GgmlType.F32.id).i64(GAP).padTo(32);
        ByteBuffer values = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 8; i++) {
            values.putFloat(i * 0.25f - 1);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(header.toByteArray()));
            ch.write(values.flip(), header.size() + GAP); // everything in between is a hole
        }
        assertTrue(Files.size(file) > GAP);

        try (Arena arena = Arena.ofConfined()) {
            GgufFile gguf = GgufFile.open(file, arena);
            GgufTensorInfo far = gguf.tensor("far");
            assertEquals(header.size() + GAP, far.offset());
            MemorySegment bytes = gguf.bytes(far);
            assertEquals(32, bytes.byteSize());
            for (int i = 0; i < 8; i++) {
                assertEquals(i * 0.25f - 1, bytes.getAtIndex(F32, i));
            }
        }
    }

    @Test
    void writerStreamsPast2GiBAndLeavesUnfilledTensorsSparse() throws IOException {
        Path file = dir.resolve("written.gguf");
        new GgufWriter()
                .putString("general.architecture", "dummy")
                .addTensor("gap", GgmlType.F32, new long[]{GAP / 4}, target -> {}) // never touched: stays a hole
                .addTensor("tail", GgmlType.F32, new long[]{4}, MemorySegment.ofArray(new float[]{1, 2, 3, 4}))
                .write(file);

        try (Arena arena = Arena.ofConfined()) {
            GgufFile gguf = GgufFile.open(file, arena);
            assertEquals(GAP, gguf.tensor("gap").byteSize());
            GgufTensorInfo tail = gguf.tensor("tail");
            assertTrue(tail.offset() > GAP);
            assertArrayEquals(new float[]{1, 2, 3, 4}, gguf.bytes(tail).toArray(F32));
            assertEquals(0f, gguf.bytes(gguf.tensor("gap")).getAtIndex(F32, GAP / 4 - 1));
        }
    }
}
