package dev.continuum.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** deploy/docker-compose.yml wires what exists: the Dockerfile, the mounted configuration, the scrape target. */
class ComposeStackTest {
    static final Path DEPLOY = Path.of("deploy");

    @Test
    void composeFilesAndMountsExist() throws IOException {
        JsonNode services = StrictYaml.tree(DEPLOY.resolve("docker-compose.yml")).path("services");
        JsonNode build = services.path("server").path("build");
        assertTrue(Files.exists(DEPLOY.resolve(build.path("context").asText()).resolve(build.path("dockerfile").asText())));
        for (String service : new String[]{"prometheus", "grafana"}) {
            services.path(service).path("volumes").forEach(v -> {
                String source = v.asText().split(":")[0];
                assertTrue(Files.exists(DEPLOY.resolve(source)), service + " mounts missing " + source);
            });
        }
    }

    @Test
    void prometheusScrapesTheServerMetricsEndpoint() throws IOException {
        JsonNode job = StrictYaml.tree(DEPLOY.resolve("prometheus/prometheus.yml")).path("scrape_configs").path(0);
        assertEquals("/metrics", job.path("metrics_path").asText());
        assertEquals("server:" + ServerContract.httpPort(), job.path("static_configs").path(0).path("targets").path(0).asText());
        assertTrue(StrictYaml.tree(DEPLOY.resolve("docker-compose.yml")).path("services").has("server"));
    }

    @Test
    void dashboardUsesTheProvisionedDatasource() throws IOException {
        String uid = StrictYaml.tree(DEPLOY.resolve("grafana/provisioning/datasources/prometheus.yml"))
                .path("datasources").path(0).path("uid").asText();
        JsonNode dashboard = new ObjectMapper().readTree(DEPLOY.resolve("grafana/dashboards/continuum.json").toFile());
        assertTrue(dashboard.path("panels").size() >= 7);
        for (JsonNode panel : dashboard.path("panels")) {
            assertEquals(uid, panel.path("datasource").path("uid").asText(), panel.path("title").asText());
            assertTrue(panel.path("targets").size() > 0, panel.path("title").asText());
        }
    }
}
