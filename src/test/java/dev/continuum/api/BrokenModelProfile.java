package dev.continuum.api;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** A server pointed at a model file that is not a model. */
public class BrokenModelProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("continuum.model", "pom.xml");
    }
}
