package dev.continuum;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the test class path in a JVM of its own, for behaviour fixed once per JVM (which kernels
 * the Vector API gate picks, for one). The child gets only the JVM options given, so unlike the test JVM it lacks
 * the Vector API module unless asked for: {@link #SERVER_OPTIONS} gives it every flag a Continuum JVM starts with,
 * {@link #serverOptionsWithoutVectorModule} all of them but that module.
 */
public final class ChildJvm {
    private static final Path FLAGS = Path.of("src/main/jvm/continuum.jvmopts");
    /** The options of every Continuum JVM, as the launcher passes them: the flags file as an @argfile. */
    public static final String SERVER_OPTIONS = "@" + FLAGS;

    /** How a child ended: its exit code and everything it printed. */
    public record Result(int exitCode, String out, String err) {
        /** The lines of stdout. */
        public List<String> lines() {
            return out.lines().toList();
        }

        /** Everything, for assertion messages. */
        public String describe() {
            return "exit code " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private ChildJvm() {
    }

    /** The flags file's options, each line's, except the line that adds the Vector API module. */
    public static List<String> serverOptionsWithoutVectorModule() throws IOException {
        List<String> options = new ArrayList<>();
        for (String line : Files.readAllLines(FLAGS)) {
            String option = line.replaceFirst("(^|\\s)#.*", "").trim();
            if (!option.isEmpty() && !option.contains("jdk.incubator.vector")) {
                options.addAll(List.of(option.split("\\s+")));
            }
        }
        if (options.isEmpty()) {
            throw new IllegalStateException(FLAGS + " has no options besides the Vector API module");
        }
        return options;
    }

    /**
     * Runs {@code main} with {@code jvmOptions} and {@code args}; fails (with what it printed so far) if it takes
     * longer than {@code timeoutSeconds}.
     */
    public static Result run(List<String> jvmOptions, Class<?> main, List<String> args, long timeoutSeconds)
            throws IOException, InterruptedException {
        return run(jvmOptions, java.util.Map.of(), main, args, timeoutSeconds);
    }

    /** As {@link #run(List, Class, List, long)}, with {@code environment} added to the child's environment. */
    public static Result run(List<String> jvmOptions, java.util.Map<String, String> environment, Class<?> main,
                             List<String> args, long timeoutSeconds) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(args);
        Path out = Files.createTempFile("continuum-child", ".out");
        Path err = Files.createTempFile("continuum-child", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            // Options the test JVM's environment would otherwise hand down (e.g. --add-modules) are not the child's.
            builder.environment().remove("JDK_JAVA_OPTIONS");
            builder.environment().remove("JAVA_TOOL_OPTIONS");
            builder.environment().putAll(environment);
            Process process = builder.start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("child JVM " + command + " ran over " + timeoutSeconds + " s\n--- stdout\n"
                        + Files.readString(out, StandardCharsets.UTF_8) + "--- stderr\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
