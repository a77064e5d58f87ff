package dev.continuum.api;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** A server asked for the CUDA backend on a JVM without a CUDA driver. */
public class CudaUnavailableProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("continuum.backend", "cuda", "continuum.model", "dummy:tiny");
    }
}
