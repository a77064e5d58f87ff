package dev.continuum.cuda.emulator;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The emulated CUDA device for tests: builds {@code libcuda.so.1} (src/test/cuda/emulator/build.sh) from the
 * project's kernels compiled for the CPU, and starts child JVMs whose JCuda binds to it.
 *
 * <p>JCuda's JNI library loads {@code libcuda.so.1} through its DT_NEEDED entry, so a JVM gets the emulator by
 * having {@link #library()}'s directory on {@code LD_LIBRARY_PATH} when it starts (a running JVM cannot change
 * that): run the code under test in a child JVM ({@link #runJava}) or in a surefire execution whose
 * {@code environmentVariables} set it.
 *
 * <p>Prerequisites (g++, CUDA headers, the kernel source, the JCuda jars in the local Maven repository): when one is
 * missing the calling test is skipped with the reason, except on CI ({@code CI=true}), where it fails.
 */
public final class EmulatedCuda {
    /** Kernel source to build; default {@code src/main/cuda/continuum.cu}. */
    public static final String SOURCE_PROPERTY = "continuum.cuda.source";
    /** Directory of {@code cuda_cpu_shim.h}; default {@code src/test/cuda/shim}. */
    public static final String SHIM_PROPERTY = "continuum.cuda.shim";

    static final Path EMULATOR_DIR = Path.of("src/test/cuda/emulator");
    static final Path OWN_SHIM_DIR = Path.of("src/test/cuda/shim");
    static final Path FIXTURE_SOURCE = EMULATOR_DIR.resolve("fixture/fixture_kernels.cu");
    private static final Path OUT = Path.of("target/emulated-cuda");
    private static final Map<String, Path> BUILT = new ConcurrentHashMap<>();

    private EmulatedCuda() {
    }

    /** The directory holding {@code libcuda.so.1} built from the project's kernels (built on first use). */
    public static Path library() {
        Path source = Path.of(setting(SOURCE_PROPERTY, "src/main/cuda/continuum.cu"));
        Path shim = Path.of(setting(SHIM_PROPERTY, "src/test/cuda/shim"));
        if (!Files.isRegularFile(source) || !Files.isRegularFile(shim.resolve("cuda_cpu_shim.h"))) {
            unavailable("the kernel source " + source.toAbsolutePath().normalize() + " or "
                    + shim.resolve("cuda_cpu_shim.h").toAbsolutePath().normalize() + " is absent (set -D"
                    + SOURCE_PROPERTY + " / -D" + SHIM_PROPERTY + ")");
        }
        return library("continuum", source, shim);
    }

    /** The directory holding {@code libcuda.so.1} built from the emulator's own fixture kernels. */
    static Path fixtureLibrary() {
        return library("fixture", FIXTURE_SOURCE, OWN_SHIM_DIR);
    }

    /** Builds (or finds cached) the emulator for {@code source} into {@code target/emulated-cuda/<name>}. */
    static Path library(String name, Path source, Path shimDir) {
        Path out = OUT.resolve(name).toAbsolutePath();
        String key = out + "|" + source.toAbsolutePath() + "|" + shimDir.toAbsolutePath();
        Path cached = BUILT.get(key);
        if (cached != null) {
            return cached;
        }
        requireTool("g++", "--version");
        if (!Files.isRegularFile(Path.of(System.getenv().getOrDefault("CUDA_INCLUDE", "/usr/local/cuda/include"),
                "cuda.h"))) {
            unavailable("the CUDA headers (cuda.h under /usr/local/cuda/include or $CUDA_INCLUDE) are absent");
        }
        try {
            Process process = new ProcessBuilder("bash", EMULATOR_DIR.resolve("build.sh").toString(), out.toString(),
                    source.toString(), shimDir.toString()).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
                throw new AssertionError("build.sh failed for " + source + ":\n" + output);
            }
            List<String> lines = output.lines().toList();
            Path library = Path.of(lines.getLast().trim());
            if (!Files.isRegularFile(library)) {
                throw new AssertionError("build.sh printed no library path:\n" + output);
            }
            BUILT.put(key, library.getParent());
            return library.getParent();
        } catch (IOException e) {
            throw new AssertionError("cannot run build.sh", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted building the emulator", e);
        }
    }

    /** The JCuda jars (API and the linux-x86_64 natives) from the local Maven repository. */
    public static List<Path> jcudaJars() {
        Path repo = Path.of(System.getProperty("user.home"), ".m2", "repository", "org", "jcuda");
        List<Path> jars = List.of(repo.resolve("jcuda/12.0.0/jcuda-12.0.0.jar"),
                repo.resolve("jcuda-natives/12.0.0/jcuda-natives-12.0.0-linux-x86_64.jar"));
        for (Path jar : jars) {
            if (!Files.isRegularFile(jar)) {
                unavailable("the JCuda jar " + jar + " is absent (resolve org.jcuda:jcuda:12.0.0)");
            }
        }
        return jars;
    }

    /** How a child JVM ended. */
    public record Result(int exitCode, String out, String err) {
        /** Everything, for assertion messages. */
        public String describe() {
            return "exit code " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /**
     * Runs {@code main} (a class of the test class path) in a JDK 25 child JVM with the JCuda jars on its class
     * path and {@code libraryDir} (null: none) first on its {@code LD_LIBRARY_PATH}; {@code env} adds variables
     * (e.g. {@code CONTINUUM_EMULATED_CUDA_MEMORY}).
     */
    public static Result runJava(Path libraryDir, Map<String, String> env, Class<?> main, List<String> args,
            long timeoutSeconds) throws IOException, InterruptedException {
        List<String> classPath = new ArrayList<>();
        try {
            classPath.add(Path.of(main.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        } catch (java.net.URISyntaxException e) {
            throw new IOException(e);
        }
        for (Path jar : jcudaJars()) {
            classPath.add(jar.toString());
        }
        Path tmp = OUT.resolve("tmp").toAbsolutePath();
        Files.createDirectories(tmp);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add(dev.continuum.ChildJvm.SERVER_OPTIONS); // the flags file: native access for JCuda among them
        command.add("-Djava.io.tmpdir=" + tmp); // where JCuda unpacks its JNI library
        command.add("-cp");
        command.add(String.join(File.pathSeparator, classPath));
        command.add(main.getName());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("JDK_JAVA_OPTIONS");
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        String inherited = System.getenv("LD_LIBRARY_PATH");
        if (libraryDir != null) {
            builder.environment().put("LD_LIBRARY_PATH", libraryDir.toAbsolutePath()
                    + (inherited == null || inherited.isEmpty() ? "" : File.pathSeparator + inherited));
        }
        builder.environment().putAll(env);
        Path out = Files.createTempFile(tmp, "child", ".out");
        Path err = Files.createTempFile(tmp, "child", ".err");
        try {
            Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("child JVM ran over " + timeoutSeconds + " s: " + command + "\n--- stdout\n"
                        + Files.readString(out) + "--- stderr\n" + Files.readString(err));
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String setting(String property, String fallback) {
        String value = System.getProperty(property);
        return value == null || value.isBlank() ? fallback : value;
    }

    private static void requireTool(String tool, String versionFlag) {
        boolean present;
        try {
            Process process = new ProcessBuilder(tool, versionFlag).redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            present = process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            present = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            present = false;
        }
        if (!present) {
            unavailable(tool + " is not installed: the emulated CUDA driver cannot be built");
        }
    }

    /** Skips the calling test with the reason; on CI fails it instead. */
    static void unavailable(String reason) {
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(reason);
        }
        Assumptions.assumeTrue(false, reason);
    }
}
