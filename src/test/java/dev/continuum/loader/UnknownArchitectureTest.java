package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.model.Architecture;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A file of an architecture outside the table is refused at load, naming it and listing every supported one. */
class UnknownArchitectureTest {
    @ParameterizedTest
    @ValueSource(strings = {"falcon", "mamba", "LLAMA", ""})
    void isRefusedByName(String architecture, @TempDir Path dir) throws IOException {
        Path file = dir.resolve("model.gguf");
        new GgufWriter()
                .putString("general.architecture", architecture)
                .putUint32(architecture + ".block_count", 1)
                .addTensor("token_embd.weight", GgmlType.F32, new long[] {4, 8}, MemorySegment.ofArray(new byte[128]))
                .write(file);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufModelLoader.load(file).close());
        assertTrue(e.getMessage().contains("architecture '" + architecture + "' is not supported"), e.getMessage());
        for (Architecture a : Architecture.values()) {
            assertTrue(e.getMessage().contains(a.ggufName()), a + " missing from: " + e.getMessage());
        }
    }
}
