package dev.continuum.cuda;

import dev.continuum.loader.DummyModelFactory;
import dev.continuum.loader.LoadedModel;
import dev.continuum.model.LlamaWeights;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GPU refuses, naming the type, the weight formats only the CPU reads, before it touches the driver. */
class CudaWeightTypesTest {
    @Test
    void theCudaKernelsReadExactlyTheFormatsTheyHaveKernelsFor() {
        for (GgmlType t : GgmlType.values()) {
            boolean expected = switch (t) {
                case F32, F16, BF16, Q8_0, Q4_0 -> true;
                default -> false;
            };
            assertEquals(expected, CudaWeightTypes.readable(t), t.name());
        }
    }

    @Test
    void aModelWithAK_QuantEmbeddingIsRefusedNamingTheType() {
        try (LoadedModel m = DummyModelFactory.create("tiny:q8_0")) {
            assertNull(CudaWeightTypes.unreadableWeights(m.weights()));
            LlamaWeights w = m.weights();
            int vocab = w.tokenEmbedding().rows();
            // The tiny model is 64 wide: Q4_1 (32-element blocks) stands in for the block formats there.
            WeightTensor q41 = WeightTensor.of("token_embd.weight", GgmlType.Q4_1,
                    MemorySegment.ofArray(new byte[vocab * 2 * GgmlType.Q4_1.blockBytes]), vocab, 64);
            String why = CudaWeightTypes.unreadableWeights(new LlamaWeights(q41, w.layers(), w.outputNorm(),
                    w.output()));
            assertTrue(why.contains("Q4_1") && why.contains("CPU"), why);
            assertFalse(CudaWeightTypes.readable(GgmlType.Q4_K));
        }
    }
}
