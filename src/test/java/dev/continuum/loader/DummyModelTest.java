package dev.continuum.loader;

import dev.continuum.engine.SingleStreamGenerator;
import dev.continuum.format.ModelFormatException;
import dev.continuum.model.CpuModelRunner;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dummy models: named shapes, every supported type, seeded so the same spec always gives the same model. */
class DummyModelTest {
    @Test
    void shapesAndTypes() {
        try (LoadedModel m = ModelLoader.load("dummy:15m:q4_0", null)) {
            assertEquals(288, m.config().dim());
            assertEquals(6, m.config().layers());
            assertEquals(32000, m.config().vocabSize());
            assertEquals(GgmlType.Q4_0, m.weights().layers()[0].wq().type());
            assertTrue(m.description().contains("RANDOM"));
        }
        for (String type : new String[]{"f32", "f16", "bf16", "q8_0", "q4_0"}) {
            try (LoadedModel m = ModelLoader.load("dummy:tiny:" + type, null)) {
                assertEquals(type.toUpperCase(), m.weights().output().type().name());
            }
        }
    }

    @Test
    void sameSpecSameTokens() {
        assertEquals(generate("dummy:tiny"), generate("dummy:tiny"));
    }

    @Test
    void badSpecsAreClearErrors() {
        assertTrue(assertThrows(ModelFormatException.class, () -> ModelLoader.load("dummy:huge", null))
                .getMessage().contains("unknown dummy model 'huge'"));
        assertTrue(assertThrows(ModelFormatException.class, () -> ModelLoader.load("dummy:tiny:q5_k", null))
                .getMessage().contains("q5_k"));
        assertTrue(assertThrows(ModelFormatException.class, () -> ModelLoader.load("/no/such/model.gguf", null))
                .getMessage().contains("no such model file"));
    }

    private static List<Integer> generate(String spec) {
        try (LoadedModel m = ModelLoader.load(spec, null); ComputePool pool = new ComputePool(2)) {
            List<Integer> out = new ArrayList<>();
            new SingleStreamGenerator(new CpuModelRunner(m.config(), m.weights(), pool), m.tokenizer().eosId()).generate(new int[]{1, 50, 60}, 20,
                    new SamplingParams(0.8f, 40, 0.95f, 0f, 0f, 0f, 1f, 7), true, out::add);
            assertEquals(20, out.size());
            return out;
        }
    }
}
