package dev.continuum.deploy;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs Prometheus' promtool. Missing: the test is skipped with the reason, except under CI=true where it fails. */
final class Promtool {
    record Result(int exitCode, String output) {
    }

    private Promtool() {
    }

    static Path require() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, "promtool");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String reason = "promtool not on PATH (apt-get install prometheus; .ci/run installs it)";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(reason);
        }
        Assumptions.assumeTrue(false, reason);
        return null;
    }

    static Result run(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(require().toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("promtool timed out");
        }
        return new Result(p.exitValue(), output);
    }
}
