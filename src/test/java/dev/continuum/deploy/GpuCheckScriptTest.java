package dev.continuum.deploy;

import dev.continuum.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device check's scripts (gpu/bundle builds target/gpu-check/ here, gpu/check runs on the GPU machine) are
 * checked statically: they parse, and they do the stages gpu/README.md describes within the time and size
 * budget. Running gpu/check through the emulated driver is a separate test.
 */
@IntegrationTest // bash -n is a child process
class GpuCheckScriptTest {
    static final Path BUNDLE = Path.of("gpu/bundle");
    static final Path CHECK = Path.of("gpu/check");

    @ParameterizedTest
    @ValueSource(strings = {"gpu/bundle", "gpu/check"})
    void scriptParsesAndIsExecutable(String script) throws Exception {
        Path file = Path.of(script);
        assertTrue(Files.readString(file).startsWith("#!/usr/bin/env bash\n"), "a bash script");
        assertTrue(Files.getPosixFilePermissions(file).contains(PosixFilePermission.OWNER_EXECUTE), "executable");
        Process p = new ProcessBuilder("bash", "-n", script).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "bash -n timed out");
        String output = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), "bash -n " + script + ": " + output);
    }

    @Test
    void checkRunsEveryStageBoundedAndSummarised() throws IOException {
        String check = Files.readString(CHECK);
        for (String expected : List.of(
                "OUT=${OUT:-./gpu-out}",
                // 1. the GPU
                "nvidia-smi --query-gpu=", "name,driver_version,memory.total", "$OUT/gpu.csv",
                // 2. the kernels on the device, and their timings when the binary offers them
                "kernels=$bundle/kernel-checks", "stage kernel-checks \"$t_kernels\" \"$OUT/kernels.log\" \"$kernels\"",
                "\"$kernels\" --bench",
                // 3. the Java route: the bundle's JRE, the shared flags file, JCuda's library, the check main
                "java=$bundle/jre/bin/java", "\"@$bundle/continuum.jvmopts\"", "\"-Djava.library.path=$bundle/natives\"",
                "-cp \"$bundle/lib/*\"", "dev.continuum.cuda.GpuCheckMain --out \"$OUT\" --models \"$bundle/models\"",
                // --emulated: the stand-in libcuda.so.1 first on the loader path, --quick, no GPU stages
                "--emulated)", "export LD_LIBRARY_PATH=\"$emulated", "main+=(--quick)", "skip nvidia-smi \"(emulated)\"",
                "skip kernel-checks \"(emulated)\"",
                // every stage bounded; a failure recorded, not fatal; one summary; nonzero exit if any failed
                "timeout --kill-after=10 \"$limit\" \"$@\"", "$OUT/summary.txt", "exit $failed")) {
            assertTrue(check.contains(expected), "gpu/check lacks: " + expected);
        }
        assertTrue(!check.contains("set -e") && check.contains("set -uo pipefail"), "a failed stage does not stop the rest");

        // The stages' default limits fit the 5 minutes the device check is planned for.
        Matcher limit = Pattern.compile("(?m)^t_\\w+=\\$\\{GPU_CHECK_\\w+_TIMEOUT:-(\\d+)}$").matcher(check);
        int total = 0;
        int stages = 0;
        while (limit.find()) {
            total += Integer.parseInt(limit.group(1));
            stages++;
        }
        assertEquals(5, stages, "limits of nvidia-smi, kernel-checks, kernel-bench, jre, java-check");
        assertTrue(total <= 300, "stage limits add up to " + total + " s");
    }

    @Test
    void bundleCarriesAJreTheClassesJCudaAndAModelWithinTheLimit() throws IOException {
        String bundle = Files.readString(BUNDLE);
        for (String expected : List.of(
                "bundle=target/gpu-check",
                "modules=java.base,jdk.incubator.vector,java.logging,jdk.unsupported",
                "jlink --add-modules \"$modules\" --compress=zip-9 --strip-debug --no-header-files --no-man-pages",
                "strip --strip-unneeded \"$bundle/jre/lib/server/libjvm.so\"",
                "cp " + JvmFlagsTest.FLAGS + " \"$bundle/continuum.jvmopts\"",
                "jar --create --file \"$bundle/lib/continuum.jar\" -C target/classes .",
                "\"$bundle/lib/jcuda-$jcuda_version.jar\"",
                "library=libJCudaDriver-$jcuda_version-linux-x86_64.so", "jar xf \"$natives_jar\" \"lib/$library\"",
                "src/main/cuda/build.sh device-tests \"$bundle\"",
                "/stories260K.gguf",
                "limit_mib=${GPU_BUNDLE_LIMIT_MIB:-60}", "-gt $((limit_mib * 1048576))")) {
            assertTrue(bundle.contains(expected), "gpu/bundle lacks: " + expected);
        }
        assertTrue(bundle.contains("set -euo pipefail"), "the bundle build stops at the first error");
    }
}
