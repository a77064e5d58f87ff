package dev.continuum.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The command lines that start the server, run for real with a stand-in {@code java} that prints its
 * arguments: the launcher ({@code ./continuum}, from a copy in a temporary checkout with a stand-in mvnw) and the
 * images' entrypoint. Both give java the flags file, then CONTINUUM_JAVA_OPTS, then the jar and the caller's
 * arguments untouched; the launcher first builds the jar when it is missing or older than a build input.
 */
@IntegrationTest
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

    private static final Instant SOURCES_TIME = Instant.parse("2025-01-01T10:00:00Z");
    private static final Instant BUILD_TIME = SOURCES_TIME.plus(Duration.ofHours(1));
    private static final String JAR = "target/quarkus-app/quarkus-run.jar";
    private static final String SOURCE = "src/main/java/dev/continuum/Example.java";

    /**
     * A copy of the launcher in a checkout: the flags file, a source, a resource and pom.xml edited at
     * {@link #SOURCES_TIME}, a jar built after them, and an mvnw that logs its arguments and writes the jar.
     */
    private Path launcherCheckout() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("checkout")).toRealPath();
        Files.copy(Path.of("continuum"), root.resolve("continuum"));
        executable(root.resolve("mvnw"), """
                #!/bin/sh
                echo "$*" >> mvnw.log
                mkdir -p target/quarkus-app && echo jar > target/quarkus-app/quarkus-run.jar
                """);
        Files.createDirectories(root.resolve(JvmFlagsTest.FLAGS).getParent());
        Files.copy(JvmFlagsTest.FLAGS, root.resolve(JvmFlagsTest.FLAGS));
        for (String file : List.of(SOURCE, "src/main/resources/application.properties", "pom.xml")) {
            Files.createDirectories(root.resolve(file).getParent());
            Files.writeString(root.resolve(file), "source");
        }
        for (String file : List.of(SOURCE, "src/main/resources/application.properties", "pom.xml",
                JvmFlagsTest.FLAGS.toString())) {
            touch(root.resolve(file), SOURCES_TIME);
        }
        Files.createDirectories(root.resolve(JAR).getParent());
        Files.writeString(root.resolve(JAR), "jar");
        touch(root.resolve(JAR), BUILD_TIME);
        return root;
    }

    private static void touch(Path file, Instant time) throws IOException {
        Files.setLastModifiedTime(file, FileTime.from(time));
    }

    private Run launcher(Path root, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(root.resolve("continuum").toString()));
        command.addAll(List.of(args));
        return run(command, Map.of("JAVA_HOME", fakeJdk().toString()));
    }

    /** The arguments mvnw was called with, one line per call. */
    private static List<String> builds(Path root) throws IOException {
        Path log = root.resolve("mvnw.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    @Test
    void upToDateJarIsNotRebuilt() throws Exception {
        Path root = launcherCheckout();
        Run r = launcher(root, "build", "--if-stale");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("", r.stderr());
        assertEquals(List.of(), builds(root));

        // The flags file is read when java starts, not built into the jar.
        touch(root.resolve(JvmFlagsTest.FLAGS), BUILD_TIME.plusSeconds(60));
        Run flags = launcher(root, "generate", "--prompt", "x");
        assertEquals(0, flags.exitCode(), flags.stderr());
        assertEquals("", flags.stderr());
        assertEquals(List.of(), builds(root));
    }

    @Test
    void missingJarIsBuiltSayingWhy() throws Exception {
        Path root = launcherCheckout();
        Files.delete(root.resolve(JAR));
        Run r = launcher(root, "build", "--if-stale");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("continuum: building first: " + JAR + " does not exist\n", r.stderr());
        assertEquals(List.of("-B -q package -DskipTests"), builds(root));
    }

    @ParameterizedTest
    @ValueSource(strings = {SOURCE, "src/main/resources/application.properties", "pom.xml"})
    void sourceNewerThanTheJarIsRebuiltBeforeItRuns(String edited) throws Exception {
        Path root = launcherCheckout();
        touch(root.resolve(edited), BUILD_TIME.plusSeconds(1));
        Run r = launcher(root, "generate", "--prompt", "x");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("continuum: building first: " + edited + " is newer than " + JAR + "\n", r.stderr());
        assertEquals(List.of("-B -q package -DskipTests"), builds(root));
        assertEquals(List.of("@" + root.resolve(JvmFlagsTest.FLAGS), "-jar", root.resolve(JAR).toString(),
                "generate", "--prompt", "x"), r.stdout(), "then runs the new jar");

        Run again = launcher(root, "generate", "--prompt", "x");
        assertEquals("", again.stderr());
        assertEquals(1, builds(root).size(), "built once: " + builds(root));
    }

    @Test
    void plainBuildAlwaysBuilds() throws Exception {
        Path root = launcherCheckout();
        Run r = launcher(root, "build");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(List.of("-B -q package -DskipTests"), builds(root));
    }

    @Test
    void launcherStartsJavaWithTheFlagsFileThenTheExtraFlags() throws Exception {
        Path root = launcherCheckout();
        Run r = run(List.of(root.resolve("continuum").toString(), "generate", "--prompt", "Once upon a time"),
                Map.of("JAVA_HOME", fakeJdk().toString(), "CONTINUUM_JAVA_OPTS", "-Xmx1g -Dcontinuum.x=y"));
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(List.of("@" + root.resolve(JvmFlagsTest.FLAGS), "-Xmx1g", "-Dcontinuum.x=y", "-jar",
                root.resolve(JAR).toString(), "generate", "--prompt", "Once upon a time"), r.stdout());
        assertEquals(List.of(), builds(root), "the jar is up to date");
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
