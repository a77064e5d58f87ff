package dev.continuum.loader;

import dev.continuum.ChildJvm;
import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thousands of seeded mutants of {@code stories260K.gguf} (byte flips, boundary values written into the header's
 * integer fields and hyper-parameters, truncations, garbled runs): each loads and runs a forward step, or is
 * refused with a {@link dev.continuum.format.ModelFormatException}; never another exception, an out-of-memory
 * error or a hang. The fuzzer ({@link GgufFuzzMain}) runs in a child JVM whose heap is small, so a size the file
 * merely claims cannot hide behind the test JVM's large heap, and a hang is cut off per mutant.
 */
@IntegrationTest
class GgufMutationFuzzTest {
    private static final long SEED = 17;
    private static final int MUTANTS = 3000;
    private static final int TIMEOUT_PER_MUTANT_SECONDS = 10;

    @Test
    void everyMutantLoadsAndRunsOrIsRefusedWithAModelFormatException() throws Exception {
        Path model = SharedTestData.require("models/stories260K.gguf");
        ChildJvm.Result r = ChildJvm.run(List.of(ChildJvm.SERVER_OPTIONS, "-Xmx256m"), GgufFuzzMain.class,
                List.of(model.toString(), Long.toString(SEED), Integer.toString(MUTANTS),
                        Integer.toString(TIMEOUT_PER_MUTANT_SECONDS)), 170);
        System.out.println(r.out());
        assertEquals(0, r.exitCode(), r::describe);
        String summary = r.lines().stream().filter(l -> l.startsWith("OUTCOMES ")).findFirst().orElseThrow();
        assertTrue(summary.endsWith(" bad=0"), summary);
        // Both outcomes occur: the mutations reach past the parser, and they are not all harmless.
        assertTrue(!summary.contains("loaded=0 ") && !summary.contains("refused=0 "), summary);
    }
}
