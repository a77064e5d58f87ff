package dev.continuum.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The command lines that start the server, run for real with a stand-in {@code java} that prints its
 * arguments: the launcher ({@code ./continuum}, from a copy in a temporary directory) and the images' entrypoint.
 * Both give java the flags file, then CONTINUUM_JAVA_OPTS, then the jar and the caller's arguments untouched.
 */
class StartScriptsTest {
    @TempDir
    Path tmp;

    /** A JDK whose bin/java reports version 25 and otherwise prints one argument per line. */
    private Path fakeJdk() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("jdk/bin"));
        executable(bin.resolve("java"), """
                #!/bin/sh
                case "$*" in *-version*) echo '    java.specification.version = 25' >&2; exit 0 ;; esac
                for a in "$@"; do printf '%s\\n' "$a"; done
                """);
        return bin.getParent();
    }

    private static void executable(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    record Run(int exitCode, List<String> stdout, String stderr) {
    }

    private Run run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("CONTINUUM_JAVA_OPTS");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " timed out");
        }
        return new Run(p.exitValue(), Files.readAllLines(out), Files.readString(err, StandardCharsets.UTF_8));
    }

    /** A copy of the launcher beside the flags file and a built jar, as in a checkout. */
    private Path launcherCheckout() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("checkout"));
        Files.copy(Path.of("continuum"), root.resolve("continuum"));
        Files.createDirectories(root.resolve(JvmFlagsTest.FLAGS).getParent());
        Files.copy(JvmFlagsTest.FLAGS, root.resolve(JvmFlagsTest.FLAGS));
        Files.createDirectories(root.resolve("target/quarkus-app"));
        Files.writeString(root.resolve("target/quarkus-app/quarkus-run.jar"), "jar");
        return root.toRealPath();
    }

    @Test
    void launcherStartsJavaWithTheFlagsFileThenTheExtraFlags() throws Exception {
        Path root = launcherCheckout();
        Run r = run(List.of(root.resolve("continuum").toString(), "generate", "--prompt", "Once upon a time"),
                Map.of("JAVA_HOME", fakeJdk().toString(), "CONTINUUM_JAVA_OPTS", "-Xmx1g -Dcontinuum.x=y"));
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(List.of("@" + root.resolve(JvmFlagsTest.FLAGS), "-Xmx1g", "-Dcontinuum.x=y", "-jar",
                root.resolve("target/quarkus-app/quarkus-run.jar").toString(), "generate", "--prompt",
                "Once upon a time"), r.stdout());
    }

    @ParameterizedTest
    @ValueSource(strings = {"docker/Dockerfile", "docker/Dockerfile.cuda"})
    void imageEntrypointStartsJavaWithTheFlagsFileThenTheExtraFlags(String dockerfile) throws Exception {
        String text = Files.readString(Path.of(dockerfile)).replace("\\\n", " ");
        String json = text.lines().filter(l -> l.startsWith("ENTRYPOINT ")).reduce((a, b) -> b).orElseThrow()
                .substring("ENTRYPOINT ".length());
        List<String> entrypoint = Arrays.asList(new ObjectMapper().readValue(json, String[].class));
        List<String> command = new ArrayList<>(entrypoint);
        command.addAll(List.of("generate", "--prompt", "Once upon a time"));
        Map<String, String> env = new HashMap<>();
        env.put("PATH", fakeJdk().resolve("bin") + ":" + System.getenv("PATH"));

        Run plain = run(command, env);
        assertEquals(0, plain.exitCode(), plain.stderr());
        assertEquals(List.of("@" + DockerfileTest.IMAGE_FLAGS, "-jar", "/app/quarkus-run.jar", "generate", "--prompt",
                "Once upon a time"), plain.stdout());

        env.put("CONTINUUM_JAVA_OPTS", "-XX:MaxRAMPercentage=60 -Xss4m");
        Run extra = run(command, env);
        assertEquals(0, extra.exitCode(), extra.stderr());
        assertEquals(List.of("@" + DockerfileTest.IMAGE_FLAGS, "-XX:MaxRAMPercentage=60", "-Xss4m", "-jar",
                "/app/quarkus-run.jar", "generate", "--prompt", "Once upon a time"), extra.stdout());
    }
}
