package dev.continuum.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Every manifest under k8s/ binds to the official Kubernetes model (unknown fields rejected) and kustomize finds it. */
class KubernetesManifestsTest {
    static final Path K8S = Path.of("k8s");

    /** apiVersion/kind -> fabric8 class, for every kind k8s/ may contain. */
    private static final Map<String, Class<? extends HasMetadata>> MODEL = Map.of(
            "v1/ConfigMap", ConfigMap.class,
            "v1/PersistentVolumeClaim", PersistentVolumeClaim.class,
            "v1/Service", Service.class,
            "apps/v1/Deployment", Deployment.class,
            "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class);

    static List<Path> manifests() throws IOException {
        try (Stream<Path> files = Files.walk(K8S)) {
            return files.filter(p -> p.toString().endsWith(".yaml"))
                    .filter(p -> !p.getFileName().toString().equals("kustomization.yaml")).sorted().toList();
        }
    }

    static <T> T load(String relative, Class<T> type) throws IOException {
        return StrictYaml.read(K8S.resolve(relative), type);
    }

    @Test
    void everyManifestBindsToTheKubernetesModel() throws IOException {
        List<String> kinds = new ArrayList<>();
        for (Path file : manifests()) {
            for (JsonNode doc : StrictYaml.documents(file)) {
                String key = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
                if (key.equals("monitoring.coreos.com/v1/ServiceMonitor")) {
                    continue; // a CRD: no fabric8 class; checked in serviceMonitorScrapesMetrics
                }
                Class<? extends HasMetadata> type = MODEL.get(key);
                if (type == null) {
                    fail(file + ": unexpected " + key);
                }
                try {
                    HasMetadata resource = StrictYaml.convert(doc, type);
                    assertFalse(resource.getMetadata().getName().isBlank(), file + ": metadata.name");
                } catch (IOException e) {
                    fail(file + " is not a valid " + key + ": " + e.getMessage());
                }
                kinds.add(doc.path("kind").asText());
            }
        }
        assertTrue(kinds.containsAll(List.of("ConfigMap", "PersistentVolumeClaim", "Service", "Deployment",
                "HorizontalPodAutoscaler", "PodDisruptionBudget")), "all kinds present: " + kinds);
    }

    @Test
    void aMisspelledFieldIsRejected() {
        // Guards the strict mapper itself: without it this typo would be silently ignored, as kubectl would warn.
        String yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
                + "spec:\n  template:\n    spec:\n      containers:\n        - name: x\n          readinesProbe: {}\n";
        assertThrows(UnrecognizedPropertyException.class, () -> StrictYaml.convert(
                new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                        .readTree(yaml), Deployment.class));
    }

    @Test
    void kustomizationsListExistingFilesAndEveryBaseManifest() throws IOException {
        List<String> listed = new ArrayList<>();
        StrictYaml.tree(K8S.resolve("base/kustomization.yaml")).path("resources").forEach(r -> listed.add(r.asText()));
        try (Stream<Path> files = Files.list(K8S.resolve("base"))) {
            List<String> present = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).sorted().toList();
            assertEquals(present, listed.stream().sorted().toList(), "base/kustomization.yaml resources");
        }
        assertResourcesExist(K8S);
        assertResourcesExist(K8S.resolve("overlays/gpu"));
    }

    private static void assertResourcesExist(Path dir) throws IOException {
        JsonNode k = StrictYaml.tree(dir.resolve("kustomization.yaml"));
        k.path("resources").forEach(r -> assertTrue(Files.exists(dir.resolve(r.asText())), dir + ": " + r));
        k.path("patches").forEach(p -> assertTrue(Files.exists(dir.resolve(p.path("path").asText())), dir + ": " + p));
    }

    @Test
    void serviceMonitorScrapesMetricsOnTheServicePort() throws IOException {
        JsonNode sm = StrictYaml.tree(K8S.resolve("base/servicemonitor.yaml"));
        assertEquals("monitoring.coreos.com/v1", sm.path("apiVersion").asText());
        assertEquals("ServiceMonitor", sm.path("kind").asText());
        JsonNode endpoint = sm.path("spec").path("endpoints").path(0);
        assertEquals("/metrics", endpoint.path("path").asText());
        Service service = load("base/service.yaml", Service.class);
        assertTrue(service.getSpec().getPorts().stream().anyMatch(p -> p.getName().equals(endpoint.path("port").asText())),
                "the ServiceMonitor's port is a named port of the Service");
        assertEquals(service.getSpec().getSelector().get("app.kubernetes.io/name"),
                sm.path("spec").path("selector").path("matchLabels").path("app.kubernetes.io/name").asText());
    }

    @Test
    void autoscalerScalesTheDeploymentOnQueueDepth() throws IOException {
        HorizontalPodAutoscaler hpa = load("base/hpa.yaml", HorizontalPodAutoscaler.class);
        Deployment deployment = load("base/deployment.yaml", Deployment.class);
        assertEquals(deployment.getMetadata().getName(), hpa.getSpec().getScaleTargetRef().getName());
        var metric = hpa.getSpec().getMetrics().getFirst();
        assertEquals("Pods", metric.getType());
        assertEquals("continuum_requests_waiting", metric.getPods().getMetric().getName());
    }

    @Test
    void gpuOverlayAsksForOneGpu() throws IOException {
        Deployment patch = load("overlays/gpu/deployment-gpu-patch.yaml", Deployment.class);
        var container = patch.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertEquals(DeploymentContractTest.SERVER_CONTAINER, container.getName());
        assertEquals(new Quantity("1"), container.getResources().getLimits().get("nvidia.com/gpu"));
        assertTrue(StrictYaml.tree(K8S.resolve("overlays/gpu/kustomization.yaml")).path("images").path(0)
                .path("newTag").asText().contains("cuda"), "the GPU overlay uses the CUDA image");
    }
}
