package dev.continuum.model;

import dev.continuum.format.ModelFormatException;
import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.GgufModelLoader;
import dev.continuum.loader.LoadedModel;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reading a Mixtral file: the 3-D expert tensors become per-expert views of the mapping (no copy) in any weight
 * type, and hostile expert counts are refused with the key's name.
 */
class MixtralLoadingTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    void eachExpertIsASliceOfItsTensor(GgmlType type, @TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("mixtral.gguf");
        try (LoadedModel m = MixtralModels.create(type)) {
            GgufExporter.write(m, file);
            try (LoadedModel loaded = GgufModelLoader.load(file)) {
                assertEquals(8, loaded.config().expertCount());
                assertEquals(2, loaded.config().expertsUsed());
                for (int l = 0; l < MixtralModels.LAYERS; l++) {
                    LayerWeights w = loaded.weights().layers()[l];
                    assertNull(w.gate());
                    assertNull(w.up());
                    assertNull(w.down());
                    Experts ex = w.experts();
                    assertEquals(GgmlType.F32, ex.router().type());
                    assertEquals(8, ex.router().rows());
                    WeightTensor[][] all = {ex.gate(), ex.up(), ex.down()};
                    Experts original = m.weights().layers()[l].experts();
                    WeightTensor[][] written = {original.gate(), original.up(), original.down()};
                    for (int k = 0; k < 3; k++) {
                        long bytes = all[k][0].data().byteSize();
                        for (int e = 0; e < 8; e++) {
                            assertEquals(type, all[k][e].type());
                            assertEquals(all[k][0].data().address() + e * bytes, all[k][e].data().address(),
                                    "expert " + e + " starts right after expert " + (e - 1));
                            assertArrayEquals(row(written[k][e], 3), row(all[k][e], 3));
                        }
                    }
                }
            }
        }
    }

    @Test
    void tooManyExpertsAreRefused(@TempDir Path tmp) throws IOException {
        assertRefused(tmp, "llama.expert_count", 300, "metadata 'llama.expert_count' = 300");
        assertRefused(tmp, "llama.expert_count", -1, "llama.expert_count");
    }

    @Test
    void anExpertCountTheTensorsDoNotHoldIsRefused(@TempDir Path tmp) throws IOException {
        assertRefused(tmp, "llama.expert_count", 4, "the experts of tensor 'blk.0.ffn_up_exps.weight'");
    }

    @Test
    void usingMoreExpertsThanThereAreIsRefused(@TempDir Path tmp) throws IOException {
        assertRefused(tmp, "llama.expert_used_count", 9, "metadata 'llama.expert_used_count' = 9");
        assertRefused(tmp, "llama.expert_used_count", 0, "metadata 'llama.expert_used_count' = 0");
    }

    @Test
    void aMissingExpertTensorIsRefusedByName(@TempDir Path tmp) throws IOException {
        Path file = write(tmp);
        byte[] b = Files.readAllBytes(file);
        int at = ArchitectureReferences.indexOf(b, "blk.1.ffn_down_exps.weight".getBytes(StandardCharsets.US_ASCII));
        b[at + "blk.1.ffn_".length()] = 'x';
        Files.write(file, b);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufModelLoader.load(file).close());
        assertTrue(e.getMessage().contains("blk.1.ffn_down_exps.weight"), e.getMessage());
    }

    private static void assertRefused(Path tmp, String key, int value, String expected) throws IOException {
        Path file = write(tmp);
        byte[] b = Files.readAllBytes(file);
        byte[] name = key.getBytes(StandardCharsets.US_ASCII);
        int at = ArchitectureReferences.indexOf(b, name);
        assertTrue(at > 8);
        // A GGUF key/value: u64 key length, the key, u32 value type (4: UINT32 as the exporter writes), the u32.
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at + name.length + 4, value);
        Files.write(file, b);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufModelLoader.load(file).close());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private static Path write(Path tmp) throws IOException {
        Path file = tmp.resolve("mixtral.gguf");
        try (LoadedModel m = MixtralModels.create(GgmlType.F32)) {
            GgufExporter.write(m, file);
        }
        return file;
    }

    private static float[] row(WeightTensor t, int r) {
        float[] out = new float[t.cols()];
        t.dequantizeRow(r, out, 0);
        return out;
    }
}
