package dev.continuum.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.IntegrationTest;
import dev.continuum.format.ModelFormatException;
import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.GgufModelLoader;
import dev.continuum.loader.LoadedModel;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Qwen3 against an independent float64 implementation of its published definition (llama.cpp c392e509 predates
 * qwen3): {@link Qwen3Models}' F32 and F16 files, written by the exporter and read back by the GGUF loader, its last prompt position's logits and 64 greedy tokens
 * against {@code qwen3_reference.py}'s (how they were made: {@code src/test/resources/reference/architectures/README.md}).
 */
@IntegrationTest
class Qwen3Test {
    private static final int GENERATE = 64;
    /**
     * Several times the largest logit difference measured against the float64 reference (see the README): Continuum
     * computes in float32 and keeps its KV cache in F16.
     */
    static final double LOGIT_TOLERANCE = 2e-3;

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16"})
    void matchesTheFloat64Reference(GgmlType type, @TempDir Path tmp) throws IOException {
        JsonNode ref = ArchitectureReferences.json("qwen3-" + type.name().toLowerCase(Locale.ROOT));
        int[] prompt = Qwen3Models.prompt();
        ArchitectureReferences.samePrompt(ref, prompt);
        Path file = tmp.resolve("qwen3-test.gguf");
        try (LoadedModel m = Qwen3Models.create(type)) {
            GgufExporter.write(m, file);
        }
        try (LoadedModel m = GgufModelLoader.load(file); ComputePool pool = new ComputePool(2)) {
            assertEquals(Architecture.QWEN3, m.config().architecture());
            assertEquals(type, m.weights().layers()[0].wq().type());
            assertEquals(Qwen3Models.HEAD_DIM, m.config().headDim());
            assertEquals(RopeType.NEOX, m.config().ropeType());
            ReferenceComparison.Result r = ReferenceComparison.run(new CpuModelRunner(m.config(), m.weights(), pool),
                    prompt, ref, Qwen3Models.VOCAB, ArchitectureReferences.CHUNK, 2 * LOGIT_TOLERANCE);
            assertTrue(r.maxDifference() <= LOGIT_TOLERANCE, "prompt logits differ by " + r.maxDifference());
            assertEquals(GENERATE, r.matched(), "greedy tokens equal to the reference's");
        }
    }

    /** The head norms are what makes the model Qwen3: without them the logits are far off the reference. */
    @Test
    void theHeadNormsMatter() throws IOException {
        JsonNode ref = ArchitectureReferences.json("qwen3-f32");
        try (LoadedModel m = Qwen3Models.create(); ComputePool pool = new ComputePool(2)) {
            LayerWeights[] plain = m.weights().layers().clone();
            for (int l = 0; l < plain.length; l++) {
                LayerWeights w = plain[l];
                plain[l] = new LayerWeights(w.attnNorm(), w.wq(), w.wk(), w.wv(), w.bq(), w.bk(), w.bv(), w.wo(),
                        w.ffnNorm(), w.gate(), w.up(), w.down());
            }
            LlamaWeights without = new LlamaWeights(m.weights().tokenEmbedding(), plain, m.weights().outputNorm(),
                    m.weights().output());
            float[] logits = ArchitectureReferences.promptLogits(new CpuModelRunner(m.config(), without, pool),
                    Qwen3Models.prompt());
            double diff = ArchitectureReferences.maxDifference(ref.get("logits"), logits, Qwen3Models.VOCAB);
            assertTrue(diff > 100 * LOGIT_TOLERANCE, "without the head norms the logits differ by only " + diff);
        }
    }

    /** A qwen3 file without a layer's query norm is refused at load, naming the tensor. */
    @Test
    void aMissingHeadNormIsRefused(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("qwen3-test.gguf");
        try (LoadedModel m = Qwen3Models.create()) {
            GgufExporter.write(m, file);
        }
        byte[] b = Files.readAllBytes(file);
        byte[] name = "blk.1.attn_q_norm.weight".getBytes(StandardCharsets.US_ASCII);
        int at = ArchitectureReferences.indexOf(b, name);
        assertTrue(at > 0);
        b[at + "blk.1.attn_q_".length()] = 'x'; // blk.1.attn_q_xorm.weight: an unknown tensor, the norm missing
        Files.write(file, b);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufModelLoader.load(file).close());
        assertTrue(e.getMessage().contains("blk.1.attn_q_norm.weight"), e.getMessage());
    }

    /** The exporter writes Qwen3's keys and head norms, and the loader reads back the same weights. */
    @Test
    void theFileRoundTrips(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("qwen3-test.gguf");
        try (LoadedModel m = Qwen3Models.create()) {
            GgufExporter.write(m, file);
            try (LoadedModel loaded = GgufModelLoader.load(file)) {
                assertEquals(m.config().dim(), loaded.config().dim());
                assertEquals(m.config().heads(), loaded.config().heads());
                assertEquals(m.config().kvHeads(), loaded.config().kvHeads());
                assertEquals(m.config().rmsEps(), loaded.config().rmsEps());
                assertEquals(m.config().ropeTheta(), loaded.config().ropeTheta());
                for (int l = 0; l < Qwen3Models.LAYERS; l++) {
                    assertArrayEquals(m.weights().layers()[l].qNorm(), loaded.weights().layers()[l].qNorm());
                    assertArrayEquals(m.weights().layers()[l].kNorm(), loaded.weights().layers()[l].kNorm());
                }
            }
        }
    }
}
