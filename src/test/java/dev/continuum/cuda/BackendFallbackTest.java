package dev.continuum.cuda;

import dev.continuum.ChildJvm;
import dev.continuum.IntegrationTest;
import dev.continuum.cli.ContinuumMain;
import dev.continuum.cuda.emulator.EmulatedCuda;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend rules where no GPU can serve, each in a JVM of its own (the driver is probed once per JVM): no driver
 * library at all (this machine), a driver that sees no device, a driver too old for the kernels, and a device too
 * small for the model. {@code auto} falls back to the CPU with one warning naming the reason; {@code cuda} fails with
 * that reason instead of serving from the CPU.
 */
@IntegrationTest
class BackendFallbackTest {
    private static final List<String> GENERATE = List.of("generate", "--model", "dummy:tiny", "--prompt", "Hi",
            "--max-tokens", "3", "--no-warmup");

    private static ChildJvm.Result generate(Map<String, String> env, String backend) throws Exception {
        List<String> args = new java.util.ArrayList<>(GENERATE);
        args.add("--backend");
        args.add(backend);
        return ChildJvm.run(List.of(ChildJvm.SERVER_OPTIONS), env, ContinuumMain.class, args, 120);
    }

    private static Map<String, String> emulated(String... settings) {
        Path dir = EmulatedCuda.library();
        Map<String, String> env = new java.util.HashMap<>(Map.of("LD_LIBRARY_PATH", dir.toString()));
        for (int i = 0; i < settings.length; i += 2) {
            env.put(settings[i], settings[i + 1]);
        }
        return env;
    }

    private static long warnings(ChildJvm.Result r) {
        return r.err().lines().filter(l -> l.contains("CUDA backend not available")).count();
    }

    @Test
    void withoutADriverAutoServesFromTheCpuAndCudaFails() throws Exception {
        ChildJvm.Result auto = generate(Map.of(), "auto");
        assertEquals(0, auto.exitCode(), auto.describe());
        assertEquals(1, warnings(auto), "one warning line: " + auto.describe());
        assertTrue(auto.err().contains("no CUDA driver: UnsatisfiedLinkError"), auto.describe());
        assertTrue(auto.err().contains("runner: CPU"), auto.describe());

        ChildJvm.Result cuda = generate(Map.of(), "cuda");
        assertEquals(1, cuda.exitCode(), cuda.describe());
        assertTrue(cuda.err().contains("error: --backend cuda, but the CUDA backend is not available: no CUDA driver"),
                cuda.describe());
        assertTrue(!cuda.err().contains("runner: CPU"), "never silently on the CPU: " + cuda.describe());
    }

    @Test
    void aDriverWithoutADeviceIsNamed() throws Exception {
        Map<String, String> env = emulated("CONTINUUM_EMULATED_CUDA_DEVICES", "0");
        ChildJvm.Result auto = generate(env, "auto");
        assertEquals(0, auto.exitCode(), auto.describe());
        assertEquals(1, warnings(auto), auto.describe());
        assertTrue(auto.err().contains("cuInit with CUDA_ERROR_NO_DEVICE"), auto.describe());
        ChildJvm.Result cuda = generate(env, "cuda");
        assertEquals(1, cuda.exitCode(), cuda.describe());
        assertTrue(cuda.err().contains("CUDA_ERROR_NO_DEVICE"), cuda.describe());
    }

    @Test
    void aDriverTooOldForTheKernelsIsNamed() throws Exception {
        ChildJvm.Result cuda = generate(emulated("CONTINUUM_EMULATED_CUDA_DRIVER", "12040"), "cuda");
        assertEquals(1, cuda.exitCode(), cuda.describe());
        assertTrue(cuda.err().contains("supports CUDA 12.4; the kernels need 13.0"), cuda.describe());
    }

    @Test
    void aModelTooBigForTheDeviceNamesTheBytes() throws Exception {
        // dummy:tiny's weights are about 0.6 MB in float32; a device of 64 KiB cannot hold them.
        ChildJvm.Result cuda = generate(emulated("CONTINUUM_EMULATED_CUDA_MEMORY", "65536"), "cuda");
        assertEquals(1, cuda.exitCode(), cuda.describe());
        assertTrue(cuda.err().matches("(?s).*the model's weights need \\d+ bytes .* of device memory; the device has"
                + " \\d+ bytes .* free of 65536.*"), cuda.describe());
    }

    @Test
    void withTheEmulatedDeviceCudaServes() throws Exception {
        ChildJvm.Result cuda = generate(emulated(), "cuda");
        assertEquals(0, cuda.exitCode(), cuda.describe());
        assertTrue(cuda.err().contains("runner: CUDA cuda:0 Continuum emulated CUDA device"), cuda.describe());
        assertTrue(cuda.err().contains("generated_tokens=3"), cuda.describe());
    }
}
