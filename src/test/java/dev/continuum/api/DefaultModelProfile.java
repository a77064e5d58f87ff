package dev.continuum.api;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * The server as a user first starts it: a config profile of its own, so none of application.properties'
 * {@code %test.*} lines (which point the tests at ../shared's copy of the model) apply, and no model set. Only
 * the port (random, as in every test) and the warm-up length (short) are overridden.
 */
public class DefaultModelProfile implements QuarkusTestProfile {
    @Override
    public String getConfigProfile() {
        return "first-run";
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("quarkus.http.test-port", "0", "continuum.warmup-tokens", "4");
    }
}
