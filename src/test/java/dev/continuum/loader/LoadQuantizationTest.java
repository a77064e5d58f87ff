package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.model.LayerWeights;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.Int4Tensor;
import dev.continuum.tensor.Int8Tensor;
import dev.continuum.tensor.LoadTimeQuantized;
import dev.continuum.tensor.Nf4Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code --quantize} option: its values, its refusals, and what it converts. */
class LoadQuantizationTest {

    @Test
    void parsesTheThreeFormats() {
        assertEquals(new LoadQuantization("int8", 0), LoadQuantization.parse("int8"));
        assertEquals(new LoadQuantization("nf4", 0), LoadQuantization.parse("nf4"));
        assertEquals(new LoadQuantization("int4:32", 32), LoadQuantization.parse("int4:32"));
        assertEquals(new LoadQuantization("int4:256", 256), LoadQuantization.parse("int4:256"));
        assertNull(LoadQuantization.parse(null));
        assertNull(LoadQuantization.parse(" "));
    }

    @Test
    void refusesEverythingElseNamingTheValue() {
        for (String g : new String[] {"0", "16", "33", "288", "512", "x", "", "-32", "1e2"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LoadQuantization.parse("int4:" + g));
            assertEquals("--quantize int4:" + g + ": the int4 group size must be 32..256 and a multiple of 32, got '"
                    + g + "'", e.getMessage());
        }
        for (String v : new String[] {"int4", "q8_0", "INT8", "fp8", "nf4:64"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LoadQuantization.parse(v));
            assertEquals("--quantize " + v + ": unknown format '" + v + "'; expected int8, int4:G (G = 32..256, a"
                    + " multiple of 32) or nf4", e.getMessage());
        }
    }

    @Test
    void refusesAnAlreadyQuantizedModel() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> ModelLoader.load("dummy:tiny:q4_0", null, LoadQuantization.parse("int8")));
        assertEquals("--quantize needs float weights; dummy:tiny:q4_0 holds Q4_0", e.getMessage());
    }

    @Test
    void convertsEveryLinearWeightOfAFloatModel() {
        for (String option : new String[] {"int8", "int4:64", "nf4"}) {
            try (LoadedModel plain = ModelLoader.load("dummy:tiny:f16", null);
                 LoadedModel m = ModelLoader.load("dummy:tiny:f16", null, LoadQuantization.parse(option))) {
                Class<?> expected = switch (option) {
                    case "int8" -> Int8Tensor.class;
                    case "nf4" -> Nf4Tensor.class;
                    default -> Int4Tensor.class;
                };
                for (LayerWeights l : m.weights().layers()) {
                    for (var t : new dev.continuum.tensor.WeightTensor[] {l.wq(), l.wk(), l.wv(), l.wo(), l.gate(),
                            l.up(), l.down()}) {
                        assertInstanceOf(expected, t, option + " " + t.name());
                        assertEquals(option, ((LoadTimeQuantized) t).format());
                        assertEquals(GgmlType.F16, t.type(), "type() says what the file held");
                    }
                }
                assertInstanceOf(expected, m.weights().output());
                assertSame(m.weights().layers()[0].attnNorm().getClass(), float[].class, "norms stay float");
                boolean tied = plain.weights().output() == plain.weights().tokenEmbedding();
                assertEquals(tied, m.weights().tokenEmbedding() instanceof LoadTimeQuantized,
                        "the embedding is converted exactly when it is the output matrix");
                assertTrue(m.description().endsWith("weights quantized at load to " + option + " (15 matrices"
                        + (tied ? ", token embedding tied to output)" : ")")), m.description());
            }
        }
    }
}
