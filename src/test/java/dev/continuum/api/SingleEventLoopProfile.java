package dev.continuum.api;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** One Vert.x event loop: every connection shares it, so anything that blocks it delays every request. */
public class SingleEventLoopProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("quarkus.vertx.event-loops-pool-size", "1");
    }
}
