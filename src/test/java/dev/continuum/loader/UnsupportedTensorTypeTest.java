package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** A tensor type without a kernel is fine in a file; only using that tensor is an error, and it says which. */
class UnsupportedTensorTypeTest {
    @TempDir
    Path dir;

    @Test
    void fileWithQ4KTensorParsesAndUsingItNamesTensorAndType() throws IOException {
        Path file = dir.resolve("k-quant.gguf");
        new GgufWriter()
                .addTensor("blk.0.ffn_down.weight", GgmlType.Q4_K, new long[]{256, 2},
                        MemorySegment.ofArray(new byte[2 * GgmlType.Q4_K.blockBytes]))
                .addTensor("output_norm.weight", GgmlType.F32, new long[]{4}, MemorySegment.ofArray(new float[4]))
                .write(file);

        try (Arena arena = Arena.ofConfined()) {
            GgufFile gguf = GgufFile.open(file, arena);
            GgufTensorInfo q4k = gguf.tensor("blk.0.ffn_down.weight");
            assertEquals(GgmlType.Q4_K, q4k.type());
            assertFalse(q4k.type().supported);
            assertEquals(288, q4k.byteSize());

            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> WeightTensor.of(q4k.name(), q4k.type(), gguf.bytes(q4k), q4k.rows(), q4k.columns()));
            assertTrue(e.getMessage().contains("'blk.0.ffn_down.weight'"), e.getMessage());
            assertTrue(e.getMessage().contains("Q4_K"), e.getMessage());
            assertTrue(e.getMessage().contains("not support"), e.getMessage());

            // The supported tensor in the same file is still usable.
            GgufTensorInfo norm = gguf.tensor("output_norm.weight");
            assertEquals(GgmlType.F32, WeightTensor.of(norm.name(), norm.type(), gguf.bytes(norm), 1, 4).type());
        }
    }
}
