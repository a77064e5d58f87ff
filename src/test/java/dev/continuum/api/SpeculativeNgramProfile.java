package dev.continuum.api;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** The test server (stories260K from ../shared) speculating by prompt lookup on the last 3 tokens. */
public class SpeculativeNgramProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("continuum.speculative-ngram", "3");
    }
}
