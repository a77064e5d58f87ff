package dev.continuum.cuda.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.continuum.IntegrationTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The emulated CUDA driver under the real JCuda: child JVMs run {@link EmulatedDriverProbe} with the emulator's
 * {@code libcuda.so.1} on {@code LD_LIBRARY_PATH}. The driver's own behaviour (contexts, memory, modules, streams,
 * events, error codes) is checked with the fixture kernels, so it needs no src/main/cuda; the project's kernels,
 * when present, get a GEMV check and a throughput smoke, and their unit tests (kernel_tests.cpp) are run once more
 * under the fiber executor the emulator uses.
 */
@IntegrationTest
class EmulatedDriverTest {
    private static final long TIMEOUT = 300;

    @Test
    void driverCallsBehaveAsTheRealDriverDoes() throws Exception {
        Path lib = EmulatedCuda.fixtureLibrary();
        Path[] images = images(EmulatedCuda.FIXTURE_SOURCE, lib.resolve("fixture"), true);
        List<String> args = images[1] == null ? List.of("driver", images[0].toString())
                : List.of("driver", images[0].toString(), images[1].toString());
        EmulatedCuda.Result result = EmulatedCuda.runJava(lib, Map.of(), EmulatedDriverProbe.class, args, TIMEOUT);
        assertPassed(result);
    }

    @Test
    void allocationBeyondTheMemoryKnobIsOutOfMemory() throws Exception {
        Path lib = EmulatedCuda.fixtureLibrary();
        EmulatedCuda.Result result = EmulatedCuda.runJava(lib, Map.of("CONTINUUM_EMULATED_CUDA_MEMORY", "1048576"),
                EmulatedDriverProbe.class, List.of("oom", "1048576"), TIMEOUT);
        assertPassed(result);
    }

    @Test
    void zeroDevicesIsNoDeviceAtInit() throws Exception {
        Path lib = EmulatedCuda.fixtureLibrary();
        EmulatedCuda.Result result = EmulatedCuda.runJava(lib, Map.of("CONTINUUM_EMULATED_CUDA_DEVICES", "0"),
                EmulatedDriverProbe.class, List.of("nodevice"), TIMEOUT);
        assertPassed(result);
        assertTrue(result.out().contains("CUDA_ERROR_NO_DEVICE"), result.describe());
    }

    @Test
    void withoutALibcudaJCudaFailsToLinkThenToInitialize() throws Exception {
        EmulatedCuda.jcudaJars();
        EmulatedCuda.Result result = EmulatedCuda.runJava(null, Map.of("LD_LIBRARY_PATH", ""),
                EmulatedDriverProbe.class, List.of("nolib"), TIMEOUT);
        Assumptions.assumeFalse(result.out().contains("SKIP"), "this machine has a CUDA driver: " + result.out());
        assertPassed(result);
        assertTrue(result.out().contains("UnsatisfiedLinkError") && result.out().contains("NoClassDefFoundError"),
                result.describe());
    }

    @Test
    void projectKernelsRunThroughTheDriver() throws Exception {
        Path lib = EmulatedCuda.library();
        Path source = Path.of(System.getProperty(EmulatedCuda.SOURCE_PROPERTY, "src/main/cuda/continuum.cu"));
        // The fatbin the tree ships beside the source (src/main/cuda -> src/main/resources), else one built by nvcc.
        Path shipped = source.toAbsolutePath().getParent().resolveSibling("resources/dev/continuum/cuda/continuum.fatbin");
        Path image = Files.isRegularFile(shipped) ? shipped : images(source, lib.resolve("continuum"), false)[0];
        EmulatedCuda.Result result = EmulatedCuda.runJava(lib, Map.of(), EmulatedDriverProbe.class,
                List.of("kernels", image.toString()), TIMEOUT);
        assertPassed(result);
        result.out().lines().filter(line -> line.startsWith("FIGURE")).forEach(System.out::println);
    }

    @Test
    void kernelUnitTestsPassUnderTheFiberExecutor() throws Exception {
        EmulatedCuda.library(); // the same prerequisites (kernel source, shim, g++)
        Path source = Path.of(System.getProperty(EmulatedCuda.SOURCE_PROPERTY, "src/main/cuda/continuum.cu"))
                .toAbsolutePath();
        Path shim = Path.of(System.getProperty(EmulatedCuda.SHIM_PROPERTY, "src/test/cuda/shim")).toAbsolutePath();
        Path tests = source.getParent().getParent().getParent().resolve("test/cuda/kernels/kernel_tests.cpp");
        if (!Files.isRegularFile(tests)) {
            EmulatedCuda.unavailable("the kernel unit tests " + tests + " are absent");
        }
        Path binary = Path.of("target/emulated-cuda/kernel_tests_fibers").toAbsolutePath();
        Files.createDirectories(binary.getParent());
        Process compile = new ProcessBuilder("g++", "-std=c++20", "-O1", "-pthread", "-fcf-protection=none",
                "-DCONTINUUM_CPU_SHIM", "-DCONTINUUM_SHIM_FIBERS", "-I" + shim,
                "-I" + EmulatedCuda.OWN_SHIM_DIR.toAbsolutePath(), "-I" + source.getParent(),
                "-I" + System.getenv().getOrDefault("CUDA_INCLUDE", "/usr/local/cuda/include"), tests.toString(),
                "-o", binary.toString()).redirectErrorStream(true).start();
        String compiled = new String(compile.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(compile.waitFor(10, TimeUnit.MINUTES) && compile.exitValue() == 0, "g++ failed:\n" + compiled);
        Process run = new ProcessBuilder(binary.toString()).redirectErrorStream(true).start();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(run.waitFor(5, TimeUnit.MINUTES), output);
        assertEquals(0, run.exitValue(), output);
        assertTrue(output.contains("ALL PASSED"), output);
    }

    private static void assertPassed(EmulatedCuda.Result result) {
        assertEquals(0, result.exitCode(), result.describe());
        assertFalse(result.out().lines().anyMatch(line -> line.startsWith("FAIL ")), result.describe());
        assertTrue(result.out().contains("PROBE PASSED"), result.describe());
    }

    /**
     * A fatbin (and, if {@code withPtx}, the PTX) of {@code source} built with nvcc; without nvcc, stand-ins the
     * emulator accepts: a fatbin header (magic 0xBA55ED50) and no PTX.
     */
    private static Path[] images(Path source, Path prefix, boolean withPtx) throws IOException, InterruptedException {
        Path fatbin = Path.of(prefix + ".fatbin");
        Path ptx = Path.of(prefix + ".ptx");
        if (nvcc("-fatbin", source, fatbin) && (!withPtx || nvcc("-ptx", source, ptx))) {
            return new Path[] {fatbin, withPtx ? ptx : null};
        }
        byte[] header = {(byte) 0x50, (byte) 0xED, (byte) 0x55, (byte) 0xBA, 1, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        Files.write(fatbin, header);
        return new Path[] {fatbin, null};
    }

    private static boolean nvcc(String mode, Path source, Path out) throws IOException, InterruptedException {
        if (Files.isRegularFile(out) && Files.getLastModifiedTime(out).compareTo(Files.getLastModifiedTime(source)) > 0) {
            return true;
        }
        Process process;
        try {
            process = new ProcessBuilder("nvcc", mode, "-arch=sm_90", "-o", out.toString(), source.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            System.out.println("nvcc not available (" + e.getMessage() + "): using a stand-in image");
            return false;
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new AssertionError("nvcc " + mode + " " + source + " failed:\n" + output);
        }
        return true;
    }
}
