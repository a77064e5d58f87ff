package dev.continuum.cuda.kernels;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * What the CUDA kernel tests share: the repository's kernel paths, finding the external tools (nvcc, ptxas, g++),
 * and running them. A test whose tool is absent is skipped with the reason, except on CI ({@code CI=true}), where
 * a missing tool fails the test: there a skipped gate would pass silently.
 */
final class CudaTools {
    static final Path ROOT = Path.of("").toAbsolutePath();
    static final Path KERNELS = ROOT.resolve("src/main/cuda/continuum.cu");
    static final Path BUILD_SH = ROOT.resolve("src/main/cuda/build.sh");
    static final Path RESOURCES = ROOT.resolve("src/main/resources/dev/continuum/cuda");
    static final Path PTX = RESOURCES.resolve("continuum.ptx");
    static final Path SHIM_DIR = ROOT.resolve("src/test/cuda/shim");
    static final Path TEST_SOURCE = ROOT.resolve("src/test/cuda/kernels/kernel_tests.cpp");
    static final Path CUDA_HOME = Path.of(System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda"));

    private CudaTools() {
    }

    /** The tool on PATH, else in CUDA_HOME/bin; skips (or, on CI, fails) the calling test when it is absent. */
    static Path require(String tool) {
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, tool));
            }
        }
        candidates.add(CUDA_HOME.resolve("bin").resolve(tool));
        for (Path p : candidates) {
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String reason = tool + " not found on PATH or in " + CUDA_HOME.resolve("bin")
                + " (install the CUDA toolkit / g++, or set CUDA_HOME)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(reason);
        }
        Assumptions.assumeTrue(false, reason);
        return null;
    }

    /** The result of a finished process: exit status and stdout and stderr interleaved. */
    record Result(int exit, String output) {
    }

    /** Runs a command in the repository root, failing the test if it does not finish within the timeout. */
    static Result run(List<String> command, Map<String, String> env, long timeoutSeconds) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
            Path log = Files.createTempFile("continuum-cuda", ".log");
            pb.redirectOutput(log.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                Assertions.fail(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            Files.deleteIfExists(log);
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs a command and fails the test, with its output, unless it exits 0. */
    static String runOk(List<String> command, long timeoutSeconds) {
        Result r = run(command, Map.of(), timeoutSeconds);
        Assertions.assertEquals(0, r.exit(), () -> String.join(" ", command) + " failed:\n" + r.output());
        return r.output();
    }

    /** SHA-256 over the given strings and the contents of the given files (a build cache key). */
    static String hash(List<String> strings, List<Path> files) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String s : strings) {
                md.update(s.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            for (Path f : files) {
                md.update(Files.readAllBytes(f));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
