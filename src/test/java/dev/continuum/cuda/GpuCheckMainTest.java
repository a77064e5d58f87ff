package dev.continuum.cuda;

import dev.continuum.ChildJvm;
import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.cuda.emulator.EmulatedCuda;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device check's Java stage ({@code gpu/check} runs it on a GPU machine) run here on the emulated device with
 * {@code --quick}: the greedy CPU/CUDA agreement and the timing loops execute end to end, so the code a GPU
 * machine will run has run before it gets there. The figures it prints here say nothing about speed.
 */
@IntegrationTest
class GpuCheckMainTest {
    @Test
    void quickCheckPassesOnTheEmulatedDevice(@TempDir Path out) throws Exception {
        Path models = SharedTestData.require("models/stories260K.gguf").getParent();
        ChildJvm.Result r = ChildJvm.run(List.of(ChildJvm.SERVER_OPTIONS),
                Map.of("LD_LIBRARY_PATH", EmulatedCuda.library().toString()), GpuCheckMain.class,
                List.of("--out", out.toString(), "--models", models.toString(), "--quick"), 300);
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.out().contains("cuda: available, driver 13.0"), r.describe());
        assertTrue(r.out().matches("(?s).*greedy +.*stories260K.gguf +(EQUAL|NEAR-TIE).*"), r.describe());
        assertTrue(r.out().matches("(?s).*decode +dummy:tiny:q4_0 +16 seq .*tok/s.*"), r.describe());
        assertTrue(r.out().matches("(?s).*prefill +dummy:tiny:q8_0 +40 tok .*tok/s.*"), r.describe());
        List<String> json = Files.readAllLines(out.resolve("gpu-check.jsonl"));
        assertEquals(2 + 2 * 3, json.size(), String.join("\n", json));
        assertTrue(json.stream().allMatch(l -> l.startsWith("{\"check\":")), String.join("\n", json));
    }
}
