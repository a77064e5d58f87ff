package dev.continuum.deploy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    static final String CUDA = "docker/Dockerfile.cuda";
    /** The Quarkus build property that keeps the 9.5 MB natives jar (and its class-path index entry) out of the app. */
    static final String NATIVES_JAR_REMOVED =
            "-Dquarkus.class-loading.removed-artifacts=org.jcuda:jcuda-natives:linux-x86_64";
    /** Where the CUDA image puts libJCudaDriver, the one JCuda library the driver API needs. */
    static final String NATIVES_DIR = "/app/natives";

    @ParameterizedTest
    @ValueSource(strings = {"docker/Dockerfile", CUDA})
    void imageBuildsAndRunsLikeCi(String dockerfile) throws IOException {
        String text = Files.readString(Path.of(dockerfile)).replace("\\\n", " ");
        // CI's command; the CUDA image only leaves JCuda's natives jar out of the package (checked below).
        String extra = dockerfile.equals(CUDA) ? " " + NATIVES_JAR_REMOVED : "";
        assertTrue(text.contains("\nRUN ./mvnw -B package -DskipTests" + extra + "\n"), "the build runs CI's Maven command");
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
        assertEquals(DefaultModelDeploymentsTest.serverDefault(), env(text).get("CONTINUUM_MODEL"),
                "the image serves the server's default model, the one embedded in the jar");

        List<String> ignored = Files.readAllLines(Path.of(".dockerignore"));
        Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(.+) \\S+$").matcher(text);
        while (copy.find()) {
            for (String source : copy.group(1).trim().split("\\s+")) {
                assertTrue(Files.exists(Path.of(source)), dockerfile + " copies missing " + source);
                assertFalse(ignored.contains(source) || ignored.contains(source + "/"), ".dockerignore drops " + source);
            }
        }
    }

    /**
     * The CUDA image (NOTES.md 2.1, 4.5): JCuda's driver library pre-extracted onto java.library.path, so JCuda
     * never falls back to unpacking a jar into java.io.tmpdir (which fails under the read-only root); the natives
     * jar not shipped; the NVIDIA container toolkit asked for libcuda.so.1; the CUDA backend selected.
     */
    @Test
    void cudaImageLoadsJCudaFromTheImageNotFromAJar() throws IOException {
        String text = Files.readString(Path.of(CUDA)).replace("\\\n", " ");
        String version = arg(text, "JCUDA_VERSION");
        String library = "libJCudaDriver-" + version + "-linux-x86_64.so"; // the name JCuda's LibUtils loads

        // Only libJCudaDriver comes out of the natives jar, into the directory the image copies to /app/natives.
        String extract = text.lines().filter(l -> l.startsWith("RUN ") && l.contains("jar xf")).findFirst()
                .orElseThrow(() -> new AssertionError("no RUN extracting the natives jar")).replaceAll("\\s+", " ");
        assertTrue(extract.contains("org.jcuda:jcuda-natives:${JCUDA_VERSION}:jar:linux-x86_64"), extract);
        Matcher jarXf = Pattern.compile("jar xf (\\S+) (.+?) &&").matcher(extract);
        assertTrue(jarXf.find(), extract);
        assertEquals("../jcuda/jcuda-natives-${JCUDA_VERSION}-linux-x86_64.jar", jarXf.group(1), "the copied jar");
        assertEquals("lib/" + library, jarXf.group(2).replace("${JCUDA_VERSION}", version), "extracts one entry");
        assertTrue(extract.contains("mkdir -p target/natives && cd target/natives"), extract);
        assertTrue(extract.contains("mv lib/" + library.replace(version, "${JCUDA_VERSION}") + " ."), extract);
        assertTrue(text.contains("\nCOPY --from=build /src/target/natives/ " + NATIVES_DIR + "/\n"), "copies the natives");

        // The natives jar stays out: left out by the Quarkus build, checked by the build, never copied.
        assertTrue(extract.contains("grep jcuda-natives; then") && extract.contains("exit 1"), "the build fails if packaged");
        assertFalse(Pattern.compile("(?m)^COPY .*jcuda-natives").matcher(text).find(), "no natives jar copied");
        assertTrue(text.lines().filter(l -> l.startsWith("FROM ")).noneMatch(l -> l.contains("nvidia/")),
                "the driver API needs no CUDA runtime base image");
        assertEquals(line(Files.readString(Path.of("docker/Dockerfile")), "FROM"), line(text, "FROM"),
                "the same JRE runtime base as the CPU image");

        // java.library.path: one line added to the image's copy of the shared flags file, which the entrypoint reads.
        String flags = text.lines().filter(l -> l.startsWith("RUN ") && l.contains(">> " + IMAGE_FLAGS)).findFirst()
                .orElseThrow(() -> new AssertionError("no RUN adding to " + IMAGE_FLAGS));
        assertTrue(flags.replaceAll("\\s+", " ").endsWith(" '-Djava.library.path=" + NATIVES_DIR + "' >> " + IMAGE_FLAGS),
                flags);
        assertTrue(text.indexOf("COPY " + JvmFlagsTest.FLAGS + " " + IMAGE_FLAGS) < text.indexOf(flags), "after the copy");
        assertTrue(text.indexOf(flags) < text.indexOf("\nUSER "), "as root, before USER");

        Map<String, String> env = env(text);
        assertEquals("compute,utility", env.get("NVIDIA_DRIVER_CAPABILITIES"), "libcuda.so.1 and nvidia-smi");
        assertEquals("all", env.get("NVIDIA_VISIBLE_DEVICES"));
        assertEquals("cuda", env.get("CONTINUUM_BACKEND"));
        assertTrue(env.get("CUDA_CACHE_PATH").startsWith("/tmp/"), "the PTX JIT cache under the writable /tmp");
        assertTrue(line(text, "LABEL").contains("R580+"), "a label states the driver requirement");
        assertTrue(text.contains("PTX is ISA 9.0"), "and the comment says why");
    }

    /** CONTINUUM_BACKEND sets a real property once the server has one (skipped, visibly, until then). */
    @Test
    void cudaImageBackendIsAServerProperty() {
        Assumptions.assumeTrue(ServerContract.continuumProperty("CONTINUUM_BACKEND").isPresent(),
                "ContinuumConfig has no backend() yet");
        assertEquals(Optional.of("continuum.backend"), ServerContract.continuumProperty("CONTINUUM_BACKEND"));
    }

    /** The natives the image extracts are the ones of the JCuda the application is built with. */
    @Test
    void cudaImageNativesMatchThePomsJCuda() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher dependency = Pattern.compile("<artifactId>jcuda</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        Assumptions.assumeTrue(dependency.find(), "pom.xml has no org.jcuda:jcuda dependency yet");
        String version = dependency.group(1).trim();
        Matcher property = Pattern.compile("^\\$\\{(.+)}$").matcher(version);
        if (property.matches()) {
            Matcher value = Pattern.compile("<" + Pattern.quote(property.group(1)) + ">([^<]+)</").matcher(pom);
            assertTrue(value.find(), "pom.xml property " + property.group(1));
            version = value.group(1).trim();
        }
        assertEquals(version, arg(Files.readString(Path.of(CUDA)), "JCUDA_VERSION"));
    }

    private static String arg(String dockerfile, String name) {
        Matcher m = Pattern.compile("(?m)^ARG " + Pattern.quote(name) + "=(\\S+)$").matcher(dockerfile);
        assertTrue(m.find(), "ARG " + name);
        return m.group(1);
    }

    /** Every ENV of the Dockerfile (continuation lines already joined), name -> value. */
    private static Map<String, String> env(String dockerfile) {
        Map<String, String> env = new LinkedHashMap<>();
        dockerfile.lines().filter(l -> l.startsWith("ENV ")).forEach(l -> {
            Matcher m = Pattern.compile("(\\w+)=(\\S+)").matcher(l);
            while (m.find()) {
                env.put(m.group(1), m.group(2));
            }
        });
        return env;
    }

    private static String line(String dockerfile, String instruction) {
        return dockerfile.lines().filter(l -> l.startsWith(instruction)).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no " + instruction)).replaceAll("\\s+", " ").trim();
    }

}
