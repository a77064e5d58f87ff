package dev.continuum.model;

import dev.continuum.ChildJvm;
import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.VectorSupport;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM started without the Vector API module ({@code jdk.incubator.vector}) runs whole forward passes (matmuls, attention,
 * softmax, SiLU: every kernel behind the one gate) and generates, greedily, the very tokens the vector kernels
 * generate in this JVM and llama.cpp's reference: the trained stories260K model and the 15M F16 one.
 */
@IntegrationTest
class VectorlessForwardPassTest {
    @Test
    void greedyTokensWithoutTheVectorModuleAreTheVectorPathsTokens() throws Exception {
        Path stories = SharedTestData.require("models/stories260K.gguf");
        Path storiesRef = SharedTestData.require("reference/stories260K-greedy.jsonl");
        Path f16 = SharedTestData.require("models/dummy/dummy-15M-F16.gguf");
        Path f16Ref = SharedTestData.require("reference/dummy-15M-F16-greedy.jsonl");
        ChildJvm.Result child = ChildJvm.run(ChildJvm.serverOptionsWithoutVectorModule(),
                GreedyGenerationMain.class, List.of(stories.toString(), "-", storiesRef.toString(), f16.toString(),
                        "-", f16Ref.toString()), 600);
        assertEquals(0, child.exitCode(), child.describe());
        List<String> lines = child.lines();
        assertEquals("gate scalar kernels", lines.get(0), child.describe());
        assertEquals("module absent", lines.get(1), child.describe());

        assertTrue(VectorSupport.enabled(), "this JVM runs the vector kernels, the path to compare with");
        List<String> expected = new ArrayList<>();
        try (ComputePool pool = new ComputePool(2)) {
            for (Path[] run : new Path[][] {{stories, storiesRef}, {f16, f16Ref}}) {
                List<ReferenceCompletions> refs = ReferenceCompletions.read(run[1]);
                for (int c = 0; c < refs.size(); c++) {
                    int[] vector = GreedyGenerationMain.generate(run[0], null, refs.get(c), pool);
                    assertEquals(GreedyGenerationMain.join(refs.get(c).completionIds()),
                            GreedyGenerationMain.join(vector), "the vector path matches llama.cpp");
                    expected.add("case " + run[0].getFileName() + " " + c + " " + GreedyGenerationMain.join(vector));
                }
            }
        }
        assertEquals(expected, lines.subList(2, lines.size()), child.describe());
    }
}
