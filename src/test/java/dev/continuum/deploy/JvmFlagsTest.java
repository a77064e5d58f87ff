package dev.continuum.deploy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JVM flags are listed once, in {@link #FLAGS} (a java {@code @argfile}): this JVM, forked by Surefire, was
 * started with them; the launcher, the POM and the images read that file; no consumer or document restates a
 * flag from it. (The launcher's and the image entrypoint's command lines are run in {@link StartScriptsTest}.)
 */
class JvmFlagsTest {
    static final Path FLAGS = Path.of("src/main/jvm/continuum.jvmopts");

    /**
     * The options of the flags file, one per line as the file has them, each a list of tokens (an option and
     * its value are two); comments dropped.
     */
    static List<List<String>> options() throws IOException {
        List<List<String>> options = new ArrayList<>();
        for (String line : Files.readAllLines(FLAGS)) {
            String option = line.replaceFirst("(^|\\s)#.*", "").trim();
            if (!option.isEmpty()) {
                assertFalse(option.contains("\"") || option.contains("'"), "no quoting in " + FLAGS + ": " + line);
                options.add(Arrays.asList(option.split("\\s+")));
            }
        }
        return options;
    }

    /** What the kernels need is there: the Vector API module and FFM native access. */
    @Test
    void surefireStartsTheTestJvmWithTheFile() throws IOException {
        List<String> input = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (List<String> option : options()) {
            // The java launcher expands the @argfile and writes "--add-modules x" as "--add-modules=x".
            String joined = String.join("=", option);
            assertTrue(input.contains(joined) || containsInOrder(input, option), option + " not in " + input);
        }
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "Vector API in the boot layer");
        assertTrue(JvmFlagsTest.class.getModule().isNativeAccessEnabled(), "native access for the unnamed module");
    }

    private static boolean containsInOrder(List<String> list, List<String> sub) {
        return Collections.indexOfSubList(list, sub) >= 0;
    }

    @Test
    void thePomGivesTheFileToSurefireAndDevMode() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        assertEquals("@${project.basedir}/" + FLAGS, element(pom, "continuum.jvm.options"));
        List<String> argLines = elements(pom, "argLine");
        assertFalse(argLines.isEmpty(), "Surefire has an argLine");
        for (String argLine : argLines) {
            assertTrue(argLine.startsWith("${continuum.jvm.options}"), "Surefire's argLine " + argLine);
        }
        assertEquals("${continuum.jvm.options}", element(pom, "jvmArgs"), "quarkus:dev's jvmArgs");
    }

    /** Every value of element {@code name}: the plugin's and each execution's own. */
    private static List<String> elements(String xml, String name) {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]*)</" + Pattern.quote(name) + ">").matcher(xml);
        List<String> values = new ArrayList<>();
        while (m.find()) {
            values.add(m.group(1).trim());
        }
        return values;
    }

    private static String element(String xml, String name) {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]*)</" + Pattern.quote(name) + ">").matcher(xml);
        assertTrue(m.find(), "no <" + name + ">");
        String value = m.group(1).trim();
        assertFalse(m.find(), "one <" + name + ">");
        return value;
    }

    @Test
    void theLauncherPassesTheFileToEveryJvmItStarts() throws IOException {
        String launcher = Files.readString(Path.of("continuum"));
        assertTrue(launcher.contains("jvm_flags=(\"@$here/" + FLAGS + "\" ${CONTINUUM_JAVA_OPTS:-})"), "jvm_flags");
        List<String> javaRuns = launcher.lines().filter(l -> l.contains("exec \"$JAVA_HOME/bin/java\"")).toList();
        assertEquals(2, javaRuns.size(), "the server (and CLI) and JMH: " + javaRuns);
        for (String run : javaRuns) {
            assertTrue(run.contains("\"$JAVA_HOME/bin/java\" \"${jvm_flags[@]}\""), run);
        }
    }

    /** Every file that starts a JVM, configures one or documents how: none lists a flag of the file itself. */
    @Test
    void noConsumerOrDocumentRestatesAFlag() throws IOException {
        List<Path> files = new ArrayList<>(List.of(Path.of("continuum"), Path.of("pom.xml"), Path.of(".ci/run"),
                Path.of("README.md"), Path.of("PERFORMANCE.md")));
        for (String dir : List.of("docker", "deploy", "k8s", "src/test/java")) {
            try (Stream<Path> walk = Files.walk(Path.of(dir))) {
                walk.filter(Files::isRegularFile).filter(p -> !p.toString().matches(".*\\.(gguf|bin)"))
                        .forEach(files::add);
            }
        }
        List<Pattern> restated = new ArrayList<>();
        for (List<String> option : options()) {
            // Also the exec form ("--add-modules", "x") and the joined form (--add-modules=x).
            restated.add(Pattern.compile(option.stream().map(Pattern::quote)
                    .collect(Collectors.joining("[\\s\"',=]+", "(?<![\\w-])", "(?![\\w.-])"))));
        }
        List<String> found = new ArrayList<>();
        for (Path file : files) {
            String text = Files.readString(file);
            for (Pattern p : restated) {
                Matcher m = p.matcher(text);
                while (m.find()) {
                    found.add(file + ": " + m.group());
                }
            }
        }
        assertTrue(found.isEmpty(), "restated instead of read from " + FLAGS + ": " + found);
        assertTrue(files.contains(Path.of("docker/Dockerfile")) && files.size() > 20, "the scan covers " + files);
    }
}
