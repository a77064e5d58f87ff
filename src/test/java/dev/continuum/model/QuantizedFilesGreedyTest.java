package dev.continuum.model;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.engine.SingleStreamGenerator;
import dev.continuum.loader.DummyModelFactory;
import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.quantize.GgufQuantizer;
import dev.continuum.quantize.QuantizeType;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.GgmlType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Files as users download them, made by llama.cpp's {@code llama-quantize}, serve correctly. {@code continuum
 * quantize} makes them here byte for byte (the whole file's sha256 equals llama-quantize's, recorded in
 * {@code reference/quantize/}), so these are llama.cpp's own files: the shared 15M F16 model in every type, and the
 * dummy 110M model (every row a multiple of 256, so real K-quants throughout, and Q4_0's output matrix in Q6_K).
 * Each then loads, and:
 * <ul>
 *   <li>its greedy completions equal llama.cpp's ({@code reference/greedy/}) token for token up to the first step
 *   where llama.cpp's two best logits lie closer than {@link #NEAR_TIE} (random weights give nearly flat logits:
 *   there two correct engines may pick differently, and from there on the texts differ);</li>
 *   <li>its prompt logits are within {@link #LOGIT_TOLERANCE} of a float model of its dequantized weights
 *   (activations quantized to 8 bits move them; measured at most 0.042 on the 110M files, where llama.cpp's own
 *   logits lie 0.047-0.058 from that float model).</li>
 * </ul>
 * The near-tie bound is twice the largest logit difference measured between the two engines on these files (0.063
 * on the 110M shape; llama.cpp's K-quant dot products quantize activations per 256 columns, Continuum's per 32), so
 * that no rounding of either engine can reorder the two best tokens above it.
 */
@IntegrationTest
class QuantizedFilesGreedyTest {
    /**
     * Near-ties: twice the largest logit difference measured between the engines at the first step of a prompt on
     * these files (15M: 0.029, Q3_K_M and Q4_K_S; 110M: 0.065, Q3_K_M), so that above it neither engine's rounding
     * can reorder the two best tokens.
     */
    private static final float NEAR_TIE_15M = 0.06f;
    private static final float NEAR_TIE_110M = 0.14f;
    private static final float LOGIT_TOLERANCE = 0.06f;
    /**
     * Each file's references must pin at least one token before a near-tie, so the check is never vacuous; they pin
     * 78 to 121 of 256 on the 15M files and 13 to 67 of 256 on the 110M ones (eight prompts, 32 tokens each).
     * At 110M the mixes whose references pin fewer (Q5_K_M 2, Q2_K 5) are left to the 15M files, whose ffn_down
     * matrices hold the same K types, and to the byte-identity tests of the quantizer.
     */
    private static final int MIN_PINNED = 1;
    private static final ComputePool POOL = new ComputePool(2);
    private static Path dir;
    private static Path input110m;

    @BeforeAll
    static void export110m() throws IOException {
        dir = Files.createTempDirectory("quantized-files");
        input110m = dir.resolve("110m-f16.gguf");
        try (LoadedModel m = DummyModelFactory.create("110m:f16")) {
            GgufExporter.write(m, input110m);
        }
    }

    @AfterAll
    static void clean() throws IOException {
        POOL.close();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q4_K_M", "Q5_K_M", "Q6_K", "Q3_K_M", "Q2_K", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
            "Q4_K_S", "Q5_K_S"})
    void llamaQuantizeFilesOf15mServeLlamaCppsTokens(String type) throws IOException {
        check(SharedTestData.require("models/dummy/dummy-15M-F16.gguf"), "15m", "dummy-15M", type, NEAR_TIE_15M, true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q4_K_M", "Q4_0", "Q6_K", "Q3_K_M"})
    void llamaQuantizeFilesOf110mServeLlamaCppsTokens(String type) throws IOException {
        // The float model of the dequantized 110M weights takes half a GB: its check runs on one K-quant mix.
        check(input110m, "110m", "dummy-110M", type, NEAR_TIE_110M, type.equals("Q4_K_M"));
    }

    private static void check(Path input, String shape, String model, String type, float nearTie,
                              boolean floatModel) throws IOException {
        Path file = dir.resolve(shape + "-" + type + ".gguf");
        GgufQuantizer.quantize(input, file, QuantizeType.parse(type), false, 2, null);
        try {
            assertEquals(referenceSha256(shape + "-" + type + ".tsv"), sha256(file),
                    "the file is llama-quantize's, byte for byte");
            try (LoadedModel m = ModelLoader.load(file.toString(), null); Arena arena = Arena.ofShared()) {
                if (type.equals("Q4_0") && shape.equals("110m")) {
                    assertEquals(GgmlType.Q6_K, m.weights().output().type(), "llama-quantize's Q4_0 output matrix");
                }
                int pinned = 0;
                for (JsonNode ref : references(model + "-" + type + "-greedy.jsonl")) {
                    pinned += greedyMatches(m, ref, nearTie);
                }
                assertTrue(pinned >= MIN_PINNED, "only " + pinned + " tokens lie before a near-tie");
                if (floatModel) {
                    promptLogitsMatchTheDequantizedModel(m, arena);
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Asserts the completion up to llama.cpp's first near-tie; returns how many tokens that pinned. */
    private static int greedyMatches(LoadedModel m, JsonNode ref, float nearTie) {
        int[] prompt = GreedyGenerationMain.promptIds(m.tokenizer(), ref.get("prompt").asText());
        assertArrayEquals(ints(ref.get("prompt_ids")), prompt, "prompt ids");
        int[] expected = ints(ref.get("completion_ids"));
        JsonNode margins = ref.get("margins");
        int pinned = 0;
        while (pinned < expected.length && margins.get(pinned).floatValue() >= nearTie) {
            pinned++;
        }
        if (pinned == 0) {
            return 0;
        }
        List<Integer> got = new ArrayList<>();
        new SingleStreamGenerator(new CpuModelRunner(m.config(), m.weights(), POOL), m.tokenizer().eosId())
                .generate(prompt, pinned, SamplingParams.GREEDY, false, got::add);
        for (int i = 0; i < pinned; i++) {
            assertEquals(expected[i], got.get(i), "'" + ref.get("prompt").asText() + "' token " + i + " (llama.cpp's"
                    + " margin there " + margins.get(i).floatValue() + ")");
        }
        return pinned;
    }

    private static void promptLogitsMatchTheDequantizedModel(LoadedModel m, Arena arena) {
        int[] prompt = GreedyGenerationMain.promptIds(m.tokenizer(), "Hello world");
        LlamaModel quantized = ModelHarness.model(m.config(), m.weights().interleaved(), POOL);
        LlamaModel reference = ModelHarness.model(m.config(), ModelHarness.dequantized(m.weights(), arena), POOL);
        float[][] q = ModelHarness.prefillLogits(quantized, prompt);
        float[][] r = ModelHarness.prefillLogits(reference, prompt);
        for (int i = 0; i < prompt.length; i++) {
            float diff = ModelHarness.maxAbsDiff(q[i], r[i]);
            assertTrue(diff <= LOGIT_TOLERANCE, "position " + i + ": max |logit - float model's| " + diff);
        }
    }

    private static List<JsonNode> references(String name) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        ObjectMapper om = new ObjectMapper();
        for (String line : resource("reference/greedy/" + name).split("\n")) {
            if (!line.isBlank()) {
                out.add(om.readTree(line));
            }
        }
        return out;
    }

    private static String referenceSha256(String tsv) throws IOException {
        for (String line : resource("reference/quantize/" + tsv).split("\n")) {
            if (line.startsWith("#file\t")) {
                return line.substring("#file\t".length()).strip();
            }
        }
        throw new AssertionError(tsv + " has no #file line");
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = QuantizedFilesGreedyTest.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new AssertionError("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
