package dev.continuum.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Deployment agrees with the server it runs: probe paths and ports, configuration variables, storage. */
class DeploymentContractTest {
    static final String SERVER_CONTAINER = "continuum";

    private PodSpec pod;
    private Container server;

    @BeforeEach
    void load() throws IOException {
        pod = KubernetesManifestsTest.load("base/deployment.yaml", Deployment.class).getSpec().getTemplate().getSpec();
        server = pod.getContainers().stream().filter(c -> c.getName().equals(SERVER_CONTAINER)).findFirst()
                .orElseThrow();
    }

    @Test
    void probesHitTheServersHealthEndpoints() throws IOException {
        assertEquals("/health", ServerContract.healthPath());
        assertEquals(8080, ServerContract.httpPort());
        assertEquals(ServerContract.healthPath() + "/started", server.getStartupProbe().getHttpGet().getPath());
        assertEquals(ServerContract.healthPath() + "/ready", server.getReadinessProbe().getHttpGet().getPath());
        assertEquals(ServerContract.healthPath() + "/live", server.getLivenessProbe().getHttpGet().getPath());
        for (Probe probe : List.of(server.getStartupProbe(), server.getReadinessProbe(), server.getLivenessProbe())) {
            assertEquals(ServerContract.httpPort(), containerPort(probe.getHttpGet().getPort()));
        }
    }

    @Test
    void serviceRoutesToTheServerPort() throws IOException {
        Service service = KubernetesManifestsTest.load("base/service.yaml", Service.class);
        var port = service.getSpec().getPorts().getFirst();
        assertEquals(ServerContract.httpPort(), port.getPort());
        assertEquals(ServerContract.httpPort(), containerPort(port.getTargetPort()));
    }

    private int containerPort(IntOrString port) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return server.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("no container port named " + port.getStrVal()))
                .getContainerPort();
    }

    @Test
    void everyServerVariableIsARealContinuumProperty() throws IOException {
        List<String> names = new ArrayList<>();
        for (EnvFromSource from : server.getEnvFrom()) {
            ConfigMap cm = KubernetesManifestsTest.load("base/configmap.yaml", ConfigMap.class);
            assertEquals(cm.getMetadata().getName(), from.getConfigMapRef().getName(), "envFrom the server ConfigMap");
            names.addAll(cm.getData().keySet());
        }
        if (server.getEnv() != null) {
            server.getEnv().stream().map(EnvVar::getName).forEach(names::add);
        }
        assertTrue(names.contains("CONTINUUM_MODEL"), names.toString());
        for (String name : names) {
            assertTrue(ServerContract.continuumProperty(name).isPresent(),
                    name + " does not set any continuum.* property of ContinuumConfig");
        }
    }

    @Test
    void drainsBeforeStopping() {
        assertNotNull(server.getLifecycle().getPreStop().getExec(), "preStop sleep");
        long grace = pod.getTerminationGracePeriodSeconds();
        assertTrue(grace >= 60, "grace period leaves time for in-flight streams: " + grace);
    }

    @Test
    void runsLockedDownWithModelsFromTheClaim() {
        assertTrue(pod.getSecurityContext().getRunAsNonRoot());
        for (Container c : concat(pod.getInitContainers(), server)) {
            assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem(), c.getName());
            assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop(), c.getName());
            assertFalse(c.getResources().getLimits().isEmpty(), c.getName() + " has limits");
        }
        assertTrue(server.getResources().getRequests().containsKey("cpu"));
        assertTrue(server.getResources().getRequests().containsKey("memory"));
        var models = server.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/models")).findFirst()
                .orElseThrow();
        var volume = pod.getVolumes().stream().filter(v -> v.getName().equals(models.getName())).findFirst().orElseThrow();
        assertNotNull(volume.getPersistentVolumeClaim(), "/models is a PersistentVolumeClaim");
        var tmp = server.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp")).findFirst().orElseThrow();
        assertNotNull(pod.getVolumes().stream().filter(v -> v.getName().equals(tmp.getName())).findFirst().orElseThrow()
                .getEmptyDir(), "/tmp is an emptyDir under the read-only root");
    }

    private static List<Container> concat(List<Container> init, Container server) {
        List<Container> all = new ArrayList<>(init);
        all.add(server);
        return all;
    }
}
