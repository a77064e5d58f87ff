package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Hand-made broken GGUF files: each must fail with a {@link ModelFormatException} saying what is wrong, never
 * with an out-of-memory, out-of-bounds or arithmetic error, and never hang.
 */
class GgufMalformedFileTest {
    private static final int MAGIC = 0x46554747;
    private static final int F32 = 0;
    private static final int TYPE_UINT32 = 4;
    private static final int TYPE_STRING = 8;
    private static final int TYPE_ARRAY = 9;

    @TempDir
    Path dir;

    private static LittleEndianBuffer header(long tensorCount, long kvCount) {
        return new LittleEndianBuffer().i32(MAGIC).i32(3).i64(tensorCount).i64(kvCount);
    }

    private static LittleEndianBuffer tensorInfo(LittleEndianBuffer b, String name, long[] dims, int type, long offset) {
        b.string(name).i32(dims.length);
        for (long d : dims) {
            b.i64(d);
        }
        return b.i32(type).i64(offset);
    }

    /** One F32 tensor {@code dims} at relative offset 0, its data present and zero. */
    private static LittleEndianBuffer oneTensor(long[] dims, int type) {
        LittleEndianBuffer b = tensorInfo(header(1, 0), "w", dims, type, 0).padTo(32);
        return b.bytes(new byte[64]);
    }

    /** Parses {@code image} and returns the message of the ModelFormatException it must raise. */
    private static String failure(byte[] image) {
        ModelFormatException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(
                ModelFormatException.class, () -> GgufFile.parse(Path.of("bad.gguf"), MemorySegment.ofArray(image))));
        assertTrue(e.getMessage().startsWith("bad.gguf: "), "the message names the file: " + e.getMessage());
        return e.getMessage();
    }

    private static String failure(LittleEndianBuffer b) {
        return failure(b.toByteArray());
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), () -> "expected '" + part + "' in: " + message);
        }
    }

    @Test
    void badMagic() {
        LittleEndianBuffer b = new LittleEndianBuffer().i32(0x4C4D4747).i32(3).i64(0).i64(0); // "GGML"
        assertMentions(failure(b), "not a GGUF file", "bad magic");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 4, -1})
    void unsupportedVersion(int version) {
        LittleEndianBuffer b = new LittleEndianBuffer().i32(MAGIC).i32(version).i64(0).i64(0);
        assertMentions(failure(b), "unsupported GGUF version " + version);
    }

    @Test
    void emptyFile() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.gguf"));
        try (Arena arena = Arena.ofConfined()) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(empty, arena));
            assertMentions(e.getMessage(), "empty.gguf", "truncated while reading magic");
        }
    }

    @Test
    void missingFile() {
        try (Arena arena = Arena.ofConfined()) {
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> GgufFile.open(dir.resolve("nope.gguf"), arena));
            assertMentions(e.getMessage(), "nope.gguf", "no such model file");
        }
    }

    @Test
    void truncatedAtEveryByteBeforeTheLastTensorEnds() throws IOException {
        Path file = dir.resolve("valid.gguf");
        new GgufWriter()
                .putString("general.architecture", "llama")
                .putUint32("llama.block_count", 2)
                .putStringArray("tokenizer.ggml.tokens", List.of("<unk>", "<s>", "</s>", "hello"))
                .put("nested", GgufValueType.ARRAY, GgufArray.of(GgufValueType.ARRAY, GgufArray.of(GgufValueType.INT8, 1, 2)))
                .putFloat32Array("scores", new float[]{0f, -1f, -2f, -3f})
                .addTensor("a", GgmlType.Q8_0, new long[]{32, 2}, MemorySegment.ofArray(new byte[68]))
                .addTensor("b", GgmlType.F32, new long[]{5}, MemorySegment.ofArray(new byte[20]))
                .write(file);
        byte[] valid = Files.readAllBytes(file);
        GgufFile parsed = GgufFile.parse(file, MemorySegment.ofArray(valid));
        GgufTensorInfo last = parsed.tensor("b");
        long end = last.offset() + last.byteSize();
        List<String> expected = List.of("truncated", "left in the file", "more than the file holds", "absurd",
                "past the end of the file");
        for (int length = 0; length < end; length++) {
            String message = failure(Arrays.copyOf(valid, length));
            assertTrue(expected.stream().anyMatch(message::contains), "at " + length + " bytes: " + message);
        }
        // Only the padding after the last tensor is missing: nothing needed is lost.
        assertEquals(2, GgufFile.parse(file, MemorySegment.ofArray(Arrays.copyOf(valid, (int) end))).tensors().size());
    }

    @Test
    void stringLengthOf2Pow62() {
        LittleEndianBuffer b = header(0, 1).i64(1L << 62).bytes(new byte[64]);
        assertMentions(failure(b), "metadata key #0", "length of " + (1L << 62));
    }

    @Test
    void negativeStringLength() {
        LittleEndianBuffer b = header(0, 1).string("k").i32(TYPE_STRING).i64(-1);
        assertMentions(failure(b), "value of 'k'", "length of -1");
    }

    @Test
    void arrayCountOf2Pow40() {
        LittleEndianBuffer b = header(0, 1).string("tokens").i32(TYPE_ARRAY).i32(TYPE_STRING).i64(1L << 40);
        assertMentions(failure(b), "'tokens'", (1L << 40) + " array elements", "more than the file holds");
    }

    @Test
    void tensorCountOf2Pow50() {
        assertMentions(failure(header(1L << 50, 0)), "absurd tensor count " + (1L << 50));
    }

    @ParameterizedTest
    @ValueSource(longs = {Long.MAX_VALUE, -1, 1L << 40})
    void absurdMetadataCount(long count) {
        assertMentions(failure(header(0, count).bytes(new byte[100])), "absurd metadata count " + count);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 5, 7, -1})
    void dimensionCountOutOfRange(int nDims) {
        LittleEndianBuffer b = header(1, 0).string("w").i32(nDims).bytes(new byte[100]);
        assertMentions(failure(b), "'w'", "has " + nDims + " dimensions");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -5, Long.MIN_VALUE})
    void zeroOrNegativeDimension(long dim) {
        assertMentions(failure(oneTensor(new long[]{32, dim}, F32)), "'w'", "absurd dimension " + dim);
    }

    @Test
    void elementCountOverflow() {
        // Each dimension alone is plausible for a file this size; their product is not representable.
        LittleEndianBuffer b = oneTensor(new long[]{1 << 16, 1 << 16, 1 << 16, 1 << 16}, F32).bytes(new byte[8192]);
        assertMentions(failure(b), "'w'", "too many elements");
    }

    @Test
    void byteSizeOverflow() {
        // 2^60 elements fit in a long, but 2^60 F64 values take 2^63 bytes, which does not.
        LittleEndianBuffer b = oneTensor(new long[]{1 << 15, 1 << 15, 1 << 15, 1 << 15}, GgmlType.F64.id)
                .bytes(new byte[4096]);
        assertMentions(failure(b), "'w'", "too many elements");
    }

    @ParameterizedTest
    @ValueSource(ints = {99, 4, 5, -1, 1000})
    void unknownGgmlType(int typeId) {
        assertMentions(failure(oneTensor(new long[]{32}, typeId)), "'w'", "unknown ggml type " + typeId);
    }

    @Test
    void rowLengthNotAMultipleOfTheBlockSize() {
        assertMentions(failure(oneTensor(new long[]{33}, GgmlType.Q4_0.id)), "'w'", "row length 33", "block size 32");
    }

    @ParameterizedTest
    @ValueSource(longs = {1 << 20, Long.MAX_VALUE - 31})
    void tensorOffsetPastTheEnd(long offset) {
        LittleEndianBuffer b = tensorInfo(header(1, 0), "w", new long[]{4}, F32, offset).padTo(32).bytes(new byte[32]);
        assertMentions(failure(b), "'w'", "past the end of the file");
    }

    @Test
    void misalignedTensorOffset() {
        LittleEndianBuffer b = tensorInfo(header(1, 0), "w", new long[]{4}, F32, 5).padTo(32).bytes(new byte[64]);
        assertMentions(failure(b), "'w'", "offset 5 is not aligned to 32");
    }

    @Test
    void negativeTensorOffset() {
        LittleEndianBuffer b = tensorInfo(header(1, 0), "w", new long[]{4}, F32, -32).padTo(32).bytes(new byte[64]);
        assertMentions(failure(b), "'w'", "negative offset -32");
    }

    @Test
    void duplicateTensorNames() {
        LittleEndianBuffer b = header(2, 0);
        tensorInfo(b, "w", new long[]{4}, F32, 0);
        tensorInfo(b, "w", new long[]{4}, F32, 32);
        assertMentions(failure(b.padTo(32).bytes(new byte[64])), "duplicate tensor 'w'");
    }

    @Test
    void duplicateMetadataKeys() {
        LittleEndianBuffer b = header(0, 2).string("k").i32(TYPE_UINT32).i32(1).string("k").i32(TYPE_UINT32).i32(2);
        assertMentions(failure(b), "duplicate metadata key 'k'");
    }

    @Test
    void unknownMetadataValueType() {
        LittleEndianBuffer b = header(0, 1).string("k").i32(13).bytes(new byte[16]);
        assertMentions(failure(b), "'k'", "unknown value type 13");
    }

    @Test
    void unknownArrayElementType() {
        LittleEndianBuffer b = header(0, 1).string("k").i32(TYPE_ARRAY).i32(42).i64(1).bytes(new byte[16]);
        assertMentions(failure(b), "'k'", "array of unknown type 42");
    }

    @Test
    void arraysNestedTooDeeply() {
        LittleEndianBuffer b = header(0, 1).string("k").i32(TYPE_ARRAY);
        for (int depth = 0; depth < 6; depth++) {
            b.i32(TYPE_ARRAY).i64(1);
        }
        assertMentions(failure(b.bytes(new byte[64])), "'k'", "nests arrays too deeply");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 48, -64})
    void alignmentNotAPowerOfTwo(int alignment) {
        LittleEndianBuffer b = header(0, 1).string("general.alignment").i32(5).i32(alignment);
        assertMentions(failure(b), "general.alignment " + alignment, "not a sane power of two");
    }

    @Test
    void dataSectionTruncatedInsideTheLastTensor() throws IOException {
        Path file = dir.resolve("cut.gguf");
        new GgufWriter()
                .addTensor("first", GgmlType.F32, new long[]{8}, MemorySegment.ofArray(new float[8]))
                .addTensor("last", GgmlType.F16, new long[]{64}, MemorySegment.ofArray(new short[64]))
                .write(file);
        byte[] image = Files.readAllBytes(file);
        // The last tensor ends the file (32 + 128 bytes of data need no padding): cut its final byte.
        String message = failure(Arrays.copyOf(image, image.length - 1));
        assertMentions(message, "'last'", "128 bytes", "extends past the end of the file", "truncated file?");
    }
}
