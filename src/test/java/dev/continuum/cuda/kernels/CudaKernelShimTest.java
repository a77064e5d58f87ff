package dev.continuum.cuda.kernels;

import dev.continuum.IntegrationTest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs the kernel tests of src/test/cuda/kernels on the CPU: the CUDA source compiled by g++ against the
 * threaded shim under AddressSanitizer and UndefinedBehaviorSanitizer, compared with float64 references. Also
 * compiles the same tests with nvcc for a real GPU (compile only: this machine need not have one) so that variant
 * cannot rot. Binaries are cached in target/ under a hash of their sources and flags.
 */
@IntegrationTest
class CudaKernelShimTest {
    private static final List<String> SHIM_FLAGS = List.of("-std=c++20", "-O1", "-g", "-ffp-contract=off",
            "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer",
            "-DCONTINUUM_CPU_SHIM");
    private static final int MIN_CHECKS = 200;

    private static List<Path> sources() {
        return List.of(CudaTools.KERNELS, CudaTools.TEST_SOURCE, CudaTools.SHIM_DIR.resolve("cuda_cpu_shim.h"));
    }

    @Test
    void kernelsMatchFloat64ReferencesOnTheCpuShimUnderSanitizers() throws IOException {
        Path gxx = CudaTools.require("g++");
        Path include = CudaTools.CUDA_HOME.resolve("include");
        if (!Files.isRegularFile(include.resolve("cuda_fp16.h"))) {
            CudaTools.require("cuda_fp16.h in " + include);   // skips (fails on CI) with the reason
        }
        List<String> flags = new ArrayList<>(SHIM_FLAGS);
        flags.addAll(List.of("-I" + CudaTools.SHIM_DIR, "-I" + include));
        Path dir = CudaTools.ROOT.resolve("target/cuda-shim");
        Files.createDirectories(dir);
        Path exe = dir.resolve("kernel_tests-" + CudaTools.hash(flags, sources()));
        if (!Files.isExecutable(exe)) {
            List<String> cmd = new ArrayList<>(List.of(gxx.toString()));
            cmd.addAll(flags);
            cmd.addAll(List.of("-o", exe + ".tmp", CudaTools.TEST_SOURCE.toString(), "-lpthread"));
            CudaTools.runOk(cmd, 600);
            Files.move(Path.of(exe + ".tmp"), exe);
        }
        CudaTools.Result r = CudaTools.run(List.of(exe.toString()),
                Map.of("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1", "UBSAN_OPTIONS", "print_stacktrace=1"),
                600);
        System.out.print(r.output());
        List<String> checks = r.output().lines().filter(l -> l.startsWith("PASS ") || l.startsWith("FAIL ")).toList();
        List<String> failed = checks.stream().filter(l -> !l.startsWith("PASS ")).toList();
        assertEquals(0, r.exit(), "kernel tests failed (exit " + r.exit() + "):\n" + r.output());
        assertTrue(failed.isEmpty(), "failed checks:\n" + String.join("\n", failed));
        assertTrue(checks.size() >= MIN_CHECKS, "only " + checks.size() + " checks ran:\n" + r.output());
        assertTrue(r.output().contains("ALL PASSED"), r.output());
    }

    @Test
    void deviceTestVariantCompilesWithNvcc() throws IOException {
        CudaTools.require("nvcc");
        Path bash = CudaTools.require("bash");
        Path dir = CudaTools.ROOT.resolve("target/cuda-device-tests");
        Path stamp = dir.resolve("built-" + CudaTools.hash(List.of("device-tests"), sources()));
        if (Files.exists(stamp)) {
            return;   // this exact source already compiled
        }
        CudaTools.runOk(List.of(bash.toString(), CudaTools.BUILD_SH.toString(), "device-tests", dir.toString()), 600);
        assertTrue(Files.isExecutable(dir.resolve("kernel_tests")), "build.sh device-tests made no executable");
        Files.writeString(stamp, "ok\n");
    }
}
