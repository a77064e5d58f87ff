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
    void fileWithIq2XxsTensorParsesAndUsingItNamesTensorAndType() throws IOException {
        Path file = dir.resolve("i-quant.gguf");
        new GgufWriter()
                .addTensor("blk.0.ffn_down.weight", GgmlType.IQ2_XXS, new long[]{256, 2},
                        MemorySegment.ofArray(new byte[2 * GgmlType.IQ2_XXS.blockBytes]))
                .addTensor("output_norm.weight", GgmlType.F32, new long[]{4}, MemorySegment.ofArray(new float[4]))
                .write(file);

        try (Arena arena = Arena.ofConfined()) {
            GgufFile gguf = GgufFile.open(file, arena);
            GgufTensorInfo iq2 = gguf.tensor("blk.0.ffn_down.weight");
            assertEquals(GgmlType.IQ2_XXS, iq2.type());
            assertFalse(iq2.type().supported);
            assertEquals(132, iq2.byteSize());

            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> WeightTensor.of(iq2.name(), iq2.type(), gguf.bytes(iq2), iq2.rows(), iq2.columns()));
            assertTrue(e.getMessage().contains("'blk.0.ffn_down.weight'"), e.getMessage());
            assertTrue(e.getMessage().contains("IQ2_XXS"), e.getMessage());
            assertTrue(e.getMessage().contains("not support"), e.getMessage());

            // The supported tensor in the same file is still usable.
            GgufTensorInfo norm = gguf.tensor("output_norm.weight");
            assertEquals(GgmlType.F32, WeightTensor.of(norm.name(), norm.type(), gguf.bytes(norm), 1, 4).type());
        }
    }
}
