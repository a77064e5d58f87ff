package dev.continuum.cuda;

import dev.continuum.IntegrationTest;
import dev.continuum.backend.Backend;
import dev.continuum.backend.OpenedRunner;
import dev.continuum.backend.RunnerFactory;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.model.LlamaWeights;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightTensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model with weights only the CPU reads (here a Q4_1 token embedding, standing in for the K-quants, which the
 * tiny model's width of 64 cannot hold) with a GPU present (the emulated one): the CUDA runner refuses it naming
 * the type, {@code --backend auto} serves it from the CPU with one warning saying why, {@code cuda} fails.
 */
@IntegrationTest
class KQuantOnEmulatedCudaTest {
    @BeforeAll
    static void device() {
        EmulatedCudaDevice.install();
    }

    @Test
    void aGpuThatCannotReadTheWeightsIsRefusedNamingTheTypeAndAutoFallsBack() {
        try (LoadedModel m = ModelLoader.load("dummy:tiny:q8_0", null)) {
            LlamaWeights w = m.weights();
            int vocab = w.tokenEmbedding().rows();
            WeightTensor q41 = WeightTensor.of("token_embd.weight", GgmlType.Q4_1,
                    MemorySegment.ofArray(new byte[vocab * 2 * GgmlType.Q4_1.blockBytes]), vocab, 64);
            LlamaWeights mixed = new LlamaWeights(q41, w.layers(), w.outputNorm(), w.output());
            CudaException e = assertThrows(CudaException.class, () -> new CudaModelRunner(m.config(), mixed));
            assertTrue(e.getMessage().contains("do not read Q4_1 weights"), e.getMessage());

            LoadedModel k = new LoadedModel(m.name(), m.description(), m.config(), mixed, m.tokenizer(),
                    m.chatTemplate(), null);
            List<String> warnings = new ArrayList<>();
            try (OpenedRunner auto = RunnerFactory.open(k, Backend.AUTO, 1, warnings::add)) {
                assertTrue(auto.pool() != null, "served from the CPU");
            }
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).contains("Q4_1") && warnings.get(0).contains("serving from the CPU"),
                    warnings.get(0));
            CudaException cuda = assertThrows(CudaException.class,
                    () -> RunnerFactory.open(k, Backend.CUDA, 1, warnings::add));
            assertTrue(cuda.getMessage().contains("Q4_1"), cuda.getMessage());
        }
    }
}
