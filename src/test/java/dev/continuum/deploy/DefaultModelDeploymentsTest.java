package dev.continuum.deploy;

import dev.continuum.loader.EmbeddedModelLoader;
import dev.continuum.server.ContinuumConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.smallrye.config.WithDefault;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way of deploying the server starts it, unconfigured, on the model embedded in the jar, so a first run
 * anywhere returns real text (the images are checked in DockerfileTest).
 */
class DefaultModelDeploymentsTest {
    /** The model spec the server uses when none is set. */
    static String serverDefault() {
        try {
            return ContinuumConfig.class.getMethod("model").getAnnotation(WithDefault.class).value();
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theServerDefaultIsAnEmbeddedModel() {
        String spec = serverDefault();
        assertTrue(spec.startsWith(EmbeddedModelLoader.PREFIX)
                && EmbeddedModelLoader.NAMES.contains(spec.substring(EmbeddedModelLoader.PREFIX.length())), spec);
    }

    /** The images build from the context: a .dockerignore pattern matching the resource would build a jar without it. */
    @Test
    void theBuildContextKeepsTheEmbeddedModel() throws IOException {
        Path resource = Path.of("src/main/resources").resolve(EmbeddedModelLoader.resource(EmbeddedModelLoader.NAMES.get(0)));
        assertTrue(Files.isRegularFile(resource), resource.toString());
        for (String line : Files.readAllLines(Path.of(".dockerignore"))) {
            String pattern = line.strip();
            if (pattern.isEmpty() || pattern.startsWith("#") || pattern.startsWith("!")) {
                continue;
            }
            // Docker matches each pattern (Go filepath.Match: '*' stops at '/') against the path and its parents.
            PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + pattern.replaceAll("/+$", ""));
            for (Path p = resource; p != null; p = p.getParent()) {
                assertFalse(m.matches(p), ".dockerignore's " + pattern + " drops " + p);
            }
        }
    }

    @Test
    void composeDefaultsToIt() throws IOException {
        String model = StrictYaml.tree(ComposeStackTest.DEPLOY.resolve("docker-compose.yml"))
                .path("services").path("server").path("environment").path("CONTINUUM_MODEL").asText();
        assertEquals("${CONTINUUM_MODEL:-" + serverDefault() + "}", model, "overridable, defaulting to the embedded model");
    }

    @Test
    void kubernetesDefaultsToIt() throws IOException {
        ConfigMap cm = KubernetesManifestsTest.load("base/configmap.yaml", ConfigMap.class);
        assertEquals(serverDefault(), cm.getData().get("CONTINUUM_MODEL"));
    }
}
