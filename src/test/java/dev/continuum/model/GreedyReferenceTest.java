package dev.continuum.model;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.engine.SingleStreamGenerator;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Greedy completions equal llama.cpp's token for token: prompt ids from our tokenizer, then every completion id,
 * for the trained stories260K model (GGUF and llama2.c formats) and the random-weight 15M F16 GGUF.
 */
@IntegrationTest
class GreedyReferenceTest {
    private static final ComputePool POOL = new ComputePool(2);

    @AfterAll
    static void closePool() {
        POOL.close();
    }

    @TestFactory
    List<DynamicTest> stories260kGguf() throws IOException {
        return cases(SharedTestData.require("models/stories260K.gguf"), null, "reference/stories260K-greedy.jsonl");
    }

    @TestFactory
    List<DynamicTest> stories260kLlama2c() throws IOException {
        return cases(SharedTestData.require("models/stories260K.bin"), SharedTestData.require("models/tok512.bin"),
                "reference/stories260K-greedy.jsonl");
    }

    @TestFactory
    List<DynamicTest> dummy15mF16() throws IOException {
        return cases(SharedTestData.require("models/dummy/dummy-15M-F16.gguf"), null,
                "reference/dummy-15M-F16-greedy.jsonl");
    }

    private static List<DynamicTest> cases(Path model, Path tokenizer, String reference) throws IOException {
        List<ReferenceCompletions> refs = ReferenceCompletions.read(SharedTestData.require(reference));
        List<DynamicTest> tests = new ArrayList<>();
        for (ReferenceCompletions ref : refs) {
            tests.add(DynamicTest.dynamicTest(model.getFileName() + ": '" + ref.prompt() + "'", () -> {
                try (LoadedModel m = ModelLoader.load(model.toString(), tokenizer)) {
                    Tokenizer tok = m.tokenizer();
                    int[] prompt = GreedyGenerationMain.promptIds(tok, ref.prompt());
                    assertArrayEquals(ref.promptIds(), prompt, "prompt ids");

                    List<Integer> got = new ArrayList<>();
                    var stats = new SingleStreamGenerator(new CpuModelRunner(m.config(), m.weights(), POOL), m.tokenizer().eosId()).generate(prompt, ref.completionIds().length,
                            SamplingParams.GREEDY, false, got::add);
                    assertArrayEquals(ref.completionIds(), got.stream().mapToInt(Integer::intValue).toArray(),
                            "greedy completion ids");
                    assertEquals(ref.stoppedBy(), stats.stopReason().equals("stop") ? "eos" : "length");
                    int[] ids = got.stream().mapToInt(Integer::intValue).toArray();
                    assertEquals(ref.completionText(), tok.decode(ids), "completion text");
                }
            }));
        }
        return tests;
    }
}
