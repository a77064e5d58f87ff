package dev.continuum.deploy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No Docker engine runs in CI, so the images are checked against what CI does build and run: the same Maven
 * command, the JVM flags file the tests run with, the server's port and health path, sources that exist and are
 * not excluded from the build context.
 */
class DockerfileTest {
    /** Where the images put src/main/jvm/continuum.jvmopts. */
    static final String IMAGE_FLAGS = "/app/continuum.jvmopts";

    @ParameterizedTest
    @ValueSource(strings = {"docker/Dockerfile", "docker/Dockerfile.cuda"})
    void imageBuildsAndRunsLikeCi(String dockerfile) throws IOException {
        String text = Files.readString(Path.of(dockerfile)).replace("\\\n", " ");
        assertTrue(text.contains("RUN ./mvnw -B package -DskipTests\n"), "the build runs CI's Maven command");
        assertTrue(text.contains("COPY --from=build --chown=continuum /src/target/quarkus-app/ /app/"),
                "the whole fast-jar directory is copied");

        // The JVM flags are the flags file's, copied from the build context (checked below) and read by java.
        assertTrue(text.contains("\nCOPY " + JvmFlagsTest.FLAGS + " " + IMAGE_FLAGS + "\n"), "copies the flags file");
        String entrypoint = line(text, "ENTRYPOINT");
        assertTrue(entrypoint.contains("exec java @" + IMAGE_FLAGS + " ${CONTINUUM_JAVA_OPTS:-} -jar /app/quarkus-run.jar"),
                entrypoint);

        assertEquals("EXPOSE " + ServerContract.httpPort(), line(text, "EXPOSE"));
        assertTrue(line(text, "HEALTHCHECK").contains("http://127.0.0.1:" + ServerContract.httpPort()
                + ServerContract.healthPath()), "HEALTHCHECK on /health");
        assertEquals("USER 10001", line(text, "USER"), "runs as a non-root user");
        assertEquals("VOLUME /models", line(text, "VOLUME"));
        assertTrue(ServerContract.continuumProperty("CONTINUUM_MODEL").isPresent());
        assertTrue(text.contains("CONTINUUM_MODEL=dummy:15m"), "defaults to the embedded model");

        List<String> ignored = Files.readAllLines(Path.of(".dockerignore"));
        Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(.+) \\S+$").matcher(text);
        while (copy.find()) {
            for (String source : copy.group(1).trim().split("\\s+")) {
                assertTrue(Files.exists(Path.of(source)), dockerfile + " copies missing " + source);
                assertFalse(ignored.contains(source) || ignored.contains(source + "/"), ".dockerignore drops " + source);
            }
        }
    }

    private static String line(String dockerfile, String instruction) {
        return dockerfile.lines().filter(l -> l.startsWith(instruction)).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no " + instruction)).replaceAll("\\s+", " ").trim();
    }

}
