package dev.continuum.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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

    private static final String GPU_PATCH = "overlays/gpu/deployment-gpu-patch.yaml";

    private static Container gpuServer(Deployment patch) {
        List<Container> containers = patch.getSpec().getTemplate().getSpec().getContainers();
        assertEquals(1, containers.size(), "the patch touches the server container only");
        Container container = containers.getFirst();
        assertEquals(DeploymentContractTest.SERVER_CONTAINER, container.getName(), "merges into the server by name");
        return container;
    }

    private static Map<String, String> env(Container container) {
        Map<String, String> env = new LinkedHashMap<>();
        container.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        return env;
    }

    @Test
    void gpuOverlayAsksForOneGpu() throws IOException {
        Deployment patch = load(GPU_PATCH, Deployment.class);
        var container = gpuServer(patch);
        assertEquals(new Quantity("1"), container.getResources().getLimits().get("nvidia.com/gpu"));
        JsonNode image = StrictYaml.tree(K8S.resolve("overlays/gpu/kustomization.yaml")).path("images").path(0);
        assertEquals("continuum", image.path("name").asText(), "retags the base's image");
        assertTrue(image.path("newTag").asText().contains("cuda"), "the GPU overlay uses the CUDA image");
    }

    @Test
    void gpuOverlaySelectsTheCudaBackendOnGpuNodes() throws IOException {
        Deployment patch = load(GPU_PATCH, Deployment.class);
        PodSpec pod = patch.getSpec().getTemplate().getSpec();
        // The label GPU Feature Discovery sets; the taint GPU node pools commonly carry.
        assertEquals(Map.of("nvidia.com/gpu.present", "true"), pod.getNodeSelector());
        assertTrue(pod.getTolerations().stream().anyMatch(t -> t.getKey().equals("nvidia.com/gpu")
                && t.getOperator().equals("Exists") && t.getEffect().equals("NoSchedule")), "tolerates the GPU taint");

        Map<String, String> env = env(gpuServer(patch));
        assertEquals("cuda", env.get("CONTINUUM_BACKEND"), "cuda, not auto: a broken GPU fails /health, no CPU fallback");
        for (String name : env.keySet()) {
            // CONTINUUM_JAVA_OPTS is the images' entrypoint variable (flags after the flags file), no server setting.
            if (!name.equals("CONTINUUM_JAVA_OPTS") && !name.equals("CONTINUUM_BACKEND")) {
                assertTrue(ServerContract.continuumProperty(name).isPresent(), name + " is no ContinuumConfig property");
            }
        }
        String entrypoint = Files.readString(Path.of(DockerfileTest.CUDA)).lines()
                .filter(l -> l.startsWith("ENTRYPOINT ")).findFirst().orElseThrow();
        assertTrue(entrypoint.contains("${CONTINUUM_JAVA_OPTS:-}"), "the CUDA image reads CONTINUUM_JAVA_OPTS");
    }

    /** CONTINUUM_BACKEND sets a real property once the server has one (skipped, visibly, until then). */
    @Test
    void gpuOverlayBackendIsAServerProperty() {
        Assumptions.assumeTrue(ServerContract.continuumProperty("CONTINUUM_BACKEND").isPresent(),
                "ContinuumConfig has no backend() yet");
        assertEquals(Optional.of("continuum.backend"), ServerContract.continuumProperty("CONTINUUM_BACKEND"));
    }

    /**
     * The patch changes resources and env only, so the base's readiness on /health (503 naming the reason after a
     * failed CUDA load), read-only root and /tmp emptyDir apply unchanged; host memory is sized for a model on the
     * device, below the CPU pod's, with the heap capped to leave native memory for the staging ring and driver.
     */
    @Test
    void gpuOverlayKeepsTheBaseProbesAndLockdownAndLowersHostMemory() throws IOException {
        Container patch = gpuServer(load(GPU_PATCH, Deployment.class));
        assertNull(patch.getReadinessProbe(), "readiness from the base");
        assertNull(patch.getStartupProbe(), "startup probe from the base");
        assertNull(patch.getLivenessProbe(), "liveness from the base");
        assertNull(patch.getSecurityContext(), "security context from the base");
        assertTrue(patch.getVolumeMounts() == null || patch.getVolumeMounts().isEmpty(), "mounts from the base");
        assertNull(patch.getImage(), "the image comes from the kustomization's images");
        Deployment overlayPatch = load(GPU_PATCH, Deployment.class);
        assertNull(overlayPatch.getSpec().getTemplate().getSpec().getSecurityContext(), "pod security from the base");
        var volumes = overlayPatch.getSpec().getTemplate().getSpec().getVolumes();
        assertTrue(volumes == null || volumes.isEmpty(), "volumes from the base");

        Container base = load("base/deployment.yaml", Deployment.class).getSpec().getTemplate().getSpec()
                .getContainers().stream().filter(c -> c.getName().equals(DeploymentContractTest.SERVER_CONTAINER))
                .findFirst().orElseThrow();
        assertEquals(ServerContract.healthPath() + "/ready", base.getReadinessProbe().getHttpGet().getPath());
        assertTrue(base.getSecurityContext().getReadOnlyRootFilesystem());

        Quantity gpuMemory = patch.getResources().getRequests().get("memory");
        assertEquals(gpuMemory, patch.getResources().getLimits().get("memory"), "memory limit = request, as in the base");
        assertTrue(gpuMemory.getNumericalAmount().compareTo(
                base.getResources().getRequests().get("memory").getNumericalAmount()) < 0,
                "weights and KV live on the GPU: less host memory than the CPU pod");
        assertEquals("-XX:MaxRAMPercentage=50", env(patch).get("CONTINUUM_JAVA_OPTS"), "heap capped at half the limit");
    }

    /**
     * The stop fits the pod's grace: preStop sleep + the server's shutdown grace (from the ConfigMap) + time to exit
     * stays within terminationGracePeriodSeconds, or the kubelet's SIGKILL cuts the streams the drain lets finish.
     */
    @Test
    void terminationGraceCoversThePreStopAndTheShutdownGrace() throws IOException {
        PodSpec pod = load("base/deployment.yaml", Deployment.class).getSpec().getTemplate().getSpec();
        Container server = pod.getContainers().stream()
                .filter(c -> c.getName().equals(DeploymentContractTest.SERVER_CONTAINER)).findFirst().orElseThrow();
        List<String> preStop = server.getLifecycle().getPreStop().getExec().getCommand();
        assertEquals("sleep", preStop.getFirst());
        long sleep = Long.parseLong(preStop.get(1));
        String grace = load("base/configmap.yaml", ConfigMap.class).getData().get("CONTINUUM_SHUTDOWN_GRACE");
        assertEquals(Optional.of("continuum.shutdown-grace"), ServerContract.continuumProperty("CONTINUUM_SHUTDOWN_GRACE"));
        assertTrue(grace != null && grace.matches("\\d+s"), "CONTINUUM_SHUTDOWN_GRACE in seconds: " + grace);
        long shutdown = Long.parseLong(grace.substring(0, grace.length() - 1));
        long total = pod.getTerminationGracePeriodSeconds();
        assertTrue(sleep + shutdown + 5 <= total, "preStop " + sleep + " s + grace " + shutdown
                + " s + 5 s to exit within terminationGracePeriodSeconds " + total);
    }

    /** The API key comes from a Secret, optional so the base deploys without one. */
    @Test
    void apiKeyComesFromAnOptionalSecret() throws IOException {
        Container server = load("base/deployment.yaml", Deployment.class).getSpec().getTemplate().getSpec()
                .getContainers().stream().filter(c -> c.getName().equals(DeploymentContractTest.SERVER_CONTAINER))
                .findFirst().orElseThrow();
        var env = server.getEnv().stream().filter(e -> e.getName().equals("CONTINUUM_API_KEY")).findFirst()
                .orElseThrow(() -> new AssertionError("CONTINUUM_API_KEY not set"));
        assertEquals(Optional.of("continuum.api-key"), ServerContract.continuumProperty(env.getName()));
        var ref = env.getValueFrom().getSecretKeyRef();
        assertEquals("continuum-api-key", ref.getName());
        assertEquals("api-key", ref.getKey());
        assertTrue(ref.getOptional(), "optional: the server runs open without the Secret");
    }
}
