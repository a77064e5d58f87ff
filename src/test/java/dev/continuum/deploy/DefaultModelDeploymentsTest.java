package dev.continuum.deploy;

import dev.continuum.loader.EmbeddedModelLoader;
import dev.continuum.server.ContinuumConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.smallrye.config.WithDefault;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
